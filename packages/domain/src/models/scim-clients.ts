import { Model, type RelationMappings } from 'objection';
import { AuthProviderModel, authProvidersTable } from './auth-providers.js';
import { ScimCredentialModel, scimCredentialsTable } from './scim-credentials.js';
import { col, defineTable, TableModel } from './table.js';

// A SCIM client: who may provision, through which provider and authentication method.
export const scimClientsTable = defineTable('scim_clients', {
  id: col('id', 'uuid'),
  name: col('name', 'text'),
  authProviderId: col('auth_provider_id', 'uuid'),
  authMethod: col('auth_method', 'text'),
  jwtSubject: col('jwt_subject', 'text', { nullable: true }),
  dataScope: col('data_scope', 'text'),
  oauthClientId: col('oauth_client_id', 'text', { nullable: true }),
  createdAt: col('created_at', 'timestamptz'),
  updatedAt: col('updated_at', 'timestamptz'),
});

export class ScimClientModel extends TableModel {
  static override tableName = scimClientsTable.table;
  static override jsonSchema = scimClientsTable.jsonSchema;
  static override jsonAttributes = scimClientsTable.jsonAttributes;
  static readonly columns = scimClientsTable.columns;
  static override relationMappings = (): RelationMappings => ({
    authProvider: {
      relation: Model.BelongsToOneRelation,
      modelClass: AuthProviderModel,
      join: { from: scimClientsTable.ref('authProviderId'), to: authProvidersTable.ref('id') },
    },
    credentials: {
      relation: Model.HasManyRelation,
      modelClass: ScimCredentialModel,
      join: { from: scimClientsTable.ref('id'), to: scimCredentialsTable.ref('clientId') },
    },
  });
}
