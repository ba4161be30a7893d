import { Model, type RelationMappings } from 'objection';
import { col, defineTable, TableModel } from './table.js';
import { ScimClientModel, scimClientsTable } from './scim-clients.js';
import { UserProviderLinkModel, userProviderLinksTable } from './user-provider-links.js';

// An identity provider (OIDC or SAML) that SCIM clients belong to and users sign in through.
export const authProvidersTable = defineTable('auth_providers', {
  id: col('id', 'uuid'),
  name: col('name', 'text'),
  kind: col('kind', 'text'),
  issuer: col('issuer', 'text', { nullable: true }),
  clientId: col('client_id', 'text', { nullable: true }),
  clientSecret: col('client_secret', 'text', { nullable: true }),
  metadata: col('metadata', 'jsonb', { schema: { type: 'object' } }),
  adminSignIn: col('admin_sign_in', 'boolean'),
  identityMapping: col('identity_mapping', 'jsonb', { nullable: true }),
  createdAt: col('created_at', 'timestamptz'),
  updatedAt: col('updated_at', 'timestamptz'),
});

export class AuthProviderModel extends TableModel {
  static override tableName = authProvidersTable.table;
  static override jsonSchema = authProvidersTable.jsonSchema;
  static override jsonAttributes = authProvidersTable.jsonAttributes;
  static readonly columns = authProvidersTable.columns;
  static override relationMappings = (): RelationMappings => ({
    scimClients: {
      relation: Model.HasManyRelation,
      modelClass: ScimClientModel,
      join: { from: authProvidersTable.ref('id'), to: scimClientsTable.ref('authProviderId') },
    },
    userLinks: {
      relation: Model.HasManyRelation,
      modelClass: UserProviderLinkModel,
      join: { from: authProvidersTable.ref('id'), to: userProviderLinksTable.ref('providerId') },
    },
  });
}
