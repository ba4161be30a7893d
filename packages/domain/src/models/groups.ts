import { Model, type RelationMappings } from 'objection';
import { groupMembersTable } from './group-members.js';
import { ScimClientModel, scimClientsTable } from './scim-clients.js';
import { col, defineTable, TableModel } from './table.js';
import { UserModel, usersTable } from './users.js';

// A provisioned group (RFC 7643 §4.2). Its members are rows of group_members, never a column here: adding one
// member to a large group writes one row (DESIGN.md, "cost grows with the work asked").
export const groupsTable = defineTable('groups', {
  id: col('id', 'uuid'),
  seq: col('seq', 'bigint'),
  displayName: col('display_name', 'text'),
  externalId: col('external_id', 'text', { nullable: true }),
  data: col('data', 'jsonb', { schema: { type: 'object' } }),
  createdByClientId: col('created_by_client_id', 'uuid', { nullable: true }),
  version: col('version', 'integer'),
  createdAt: col('created_at', 'timestamptz'),
  updatedAt: col('updated_at', 'timestamptz'),
});

export class GroupModel extends TableModel {
  static override tableName = groupsTable.table;
  static override jsonSchema = groupsTable.jsonSchema;
  static override jsonAttributes = groupsTable.jsonAttributes;
  static readonly columns = groupsTable.columns;
  static override relationMappings = (): RelationMappings => ({
    members: {
      relation: Model.ManyToManyRelation,
      modelClass: UserModel,
      join: {
        from: groupsTable.ref('id'),
        through: { from: groupMembersTable.ref('groupId'), to: groupMembersTable.ref('userId') },
        to: usersTable.ref('id'),
      },
    },
    createdByClient: {
      relation: Model.BelongsToOneRelation,
      modelClass: ScimClientModel,
      join: { from: groupsTable.ref('createdByClientId'), to: scimClientsTable.ref('id') },
    },
  });
}
