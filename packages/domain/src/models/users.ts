import { Model, type RelationMappings } from 'objection';
import { GroupModel } from './groups.js';
import { groupMembersTable } from './group-members.js';
import { groupsTable } from './groups.js';
import { ScimClientModel, scimClientsTable } from './scim-clients.js';
import { UserProviderLinkModel, userProviderLinksTable } from './user-provider-links.js';
import { col, defineTable, TableModel } from './table.js';

// A provisioned user (RFC 7643 §4.1). The filterable core attributes have columns; the rest of the SCIM
// document lives in `data`. `emails_lower` mirrors emails[].value lower-cased for the indexed `emails` filter.
export const usersTable = defineTable('users', {
  id: col('id', 'uuid'),
  seq: col('seq', 'bigint'),
  userName: col('user_name', 'text'),
  externalId: col('external_id', 'text', { nullable: true }),
  displayName: col('display_name', 'text', { nullable: true }),
  givenName: col('given_name', 'text', { nullable: true }),
  familyName: col('family_name', 'text', { nullable: true }),
  active: col('active', 'boolean'),
  lockReason: col('lock_reason', 'text', { nullable: true }),
  emailsLower: col('emails_lower', 'text[]'),
  data: col('data', 'jsonb', { schema: { type: 'object' } }),
  createdByClientId: col('created_by_client_id', 'uuid', { nullable: true }),
  version: col('version', 'integer'),
  createdAt: col('created_at', 'timestamptz'),
  updatedAt: col('updated_at', 'timestamptz'),
});

export class UserModel extends TableModel {
  static override tableName = usersTable.table;
  static override jsonSchema = usersTable.jsonSchema;
  static override jsonAttributes = usersTable.jsonAttributes;
  static readonly columns = usersTable.columns;
  static override relationMappings = (): RelationMappings => ({
    groups: {
      relation: Model.ManyToManyRelation,
      modelClass: GroupModel,
      join: {
        from: usersTable.ref('id'),
        through: { from: groupMembersTable.ref('userId'), to: groupMembersTable.ref('groupId') },
        to: groupsTable.ref('id'),
      },
    },
    providerLinks: {
      relation: Model.HasManyRelation,
      modelClass: UserProviderLinkModel,
      join: { from: usersTable.ref('id'), to: userProviderLinksTable.ref('userId') },
    },
    createdByClient: {
      relation: Model.BelongsToOneRelation,
      modelClass: ScimClientModel,
      join: { from: usersTable.ref('createdByClientId'), to: scimClientsTable.ref('id') },
    },
  });
}
