import { Model, type RelationMappings } from 'objection';
import { ScimClientModel, scimClientsTable } from './scim-clients.js';
import { col, defineTable, TableModel } from './table.js';

// Static tokens and OAuth client secrets of SCIM clients: only the SHA-256 hash and a four-character hint.
export const scimCredentialsTable = defineTable('scim_credentials', {
  id: col('id', 'uuid'),
  clientId: col('client_id', 'uuid'),
  kind: col('kind', 'text'),
  hash: col('hash', 'text'),
  hint: col('hint', 'text'),
  expiresAt: col('expires_at', 'timestamptz'),
  revokedAt: col('revoked_at', 'timestamptz', { nullable: true }),
  lastUsedAt: col('last_used_at', 'timestamptz', { nullable: true }),
  createdAt: col('created_at', 'timestamptz'),
});

export class ScimCredentialModel extends TableModel {
  static override tableName = scimCredentialsTable.table;
  static override jsonSchema = scimCredentialsTable.jsonSchema;
  static override jsonAttributes = scimCredentialsTable.jsonAttributes;
  static readonly columns = scimCredentialsTable.columns;
  static override relationMappings = (): RelationMappings => ({
    client: {
      relation: Model.BelongsToOneRelation,
      modelClass: ScimClientModel,
      join: { from: scimCredentialsTable.ref('clientId'), to: scimClientsTable.ref('id') },
    },
  });
}
