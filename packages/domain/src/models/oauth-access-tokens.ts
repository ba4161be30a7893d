import { Model, type RelationMappings } from 'objection';
import { ScimClientModel, scimClientsTable } from './scim-clients.js';
import { ScimCredentialModel, scimCredentialsTable } from './scim-credentials.js';
import { col, defineTable, TableModel } from './table.js';

// Access tokens issued by /oauth/token (client credentials): hash, scope and expiry only.
export const oauthAccessTokensTable = defineTable('oauth_access_tokens', {
  id: col('id', 'uuid'),
  clientId: col('client_id', 'uuid'),
  credentialId: col('credential_id', 'uuid', { nullable: true }),
  hash: col('hash', 'text'),
  scope: col('scope', 'text'),
  expiresAt: col('expires_at', 'timestamptz'),
  revokedAt: col('revoked_at', 'timestamptz', { nullable: true }),
  createdAt: col('created_at', 'timestamptz'),
});

export class OAuthAccessTokenModel extends TableModel {
  static override tableName = oauthAccessTokensTable.table;
  static override jsonSchema = oauthAccessTokensTable.jsonSchema;
  static override jsonAttributes = oauthAccessTokensTable.jsonAttributes;
  static readonly columns = oauthAccessTokensTable.columns;
  static override relationMappings = (): RelationMappings => ({
    client: {
      relation: Model.BelongsToOneRelation,
      modelClass: ScimClientModel,
      join: { from: oauthAccessTokensTable.ref('clientId'), to: scimClientsTable.ref('id') },
    },
    credential: {
      relation: Model.BelongsToOneRelation,
      modelClass: ScimCredentialModel,
      join: { from: oauthAccessTokensTable.ref('credentialId'), to: scimCredentialsTable.ref('id') },
    },
  });
}
