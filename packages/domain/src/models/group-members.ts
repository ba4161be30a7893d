import { Model, type RelationMappings } from 'objection';
import { GroupModel, groupsTable } from './groups.js';
import { col, defineTable, TableModel } from './table.js';
import { UserModel, usersTable } from './users.js';

// One membership. group_id has no foreign key on purpose (migration 20261128190000 says why); the rule that
// replaces it lives in packages/domain/src/directory/groups.ts.
export const groupMembersTable = defineTable('group_members', {
  groupId: col('group_id', 'uuid'),
  userId: col('user_id', 'uuid'),
  createdAt: col('created_at', 'timestamptz'),
});

export class GroupMemberModel extends TableModel {
  static override tableName = groupMembersTable.table;
  static override idColumn = [groupMembersTable.columns.groupId, groupMembersTable.columns.userId];
  static override jsonSchema = groupMembersTable.jsonSchema;
  static override jsonAttributes = groupMembersTable.jsonAttributes;
  static readonly columns = groupMembersTable.columns;
  static override relationMappings = (): RelationMappings => ({
    group: {
      relation: Model.BelongsToOneRelation,
      modelClass: GroupModel,
      join: { from: groupMembersTable.ref('groupId'), to: groupsTable.ref('id') },
    },
    user: {
      relation: Model.BelongsToOneRelation,
      modelClass: UserModel,
      join: { from: groupMembersTable.ref('userId'), to: usersTable.ref('id') },
    },
  });
}
