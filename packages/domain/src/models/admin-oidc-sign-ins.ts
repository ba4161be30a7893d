import { Model, type RelationMappings } from 'objection';
import { AuthProviderModel, authProvidersTable } from './auth-providers.js';
import { col, defineTable, TableModel } from './table.js';

// Admin sign-ins through an OIDC provider, started and not yet finished: hashes of `state` and of the browser
// binding only (migration 20261128181000 says why the table alone cannot finish anyone's sign-in).
export const adminOidcSignInsTable = defineTable('admin_oidc_sign_ins', {
  id: col('id', 'uuid'),
  stateHash: col('state_hash', 'text'),
  browserHash: col('browser_hash', 'text'),
  authProviderId: col('auth_provider_id', 'uuid'),
  createdAt: col('created_at', 'timestamptz'),
  expiresAt: col('expires_at', 'timestamptz'),
});

export class AdminOidcSignInModel extends TableModel {
  static override tableName = adminOidcSignInsTable.table;
  static override jsonSchema = adminOidcSignInsTable.jsonSchema;
  static override jsonAttributes = adminOidcSignInsTable.jsonAttributes;
  static readonly columns = adminOidcSignInsTable.columns;
  static override relationMappings = (): RelationMappings => ({
    authProvider: {
      relation: Model.BelongsToOneRelation,
      modelClass: AuthProviderModel,
      join: { from: adminOidcSignInsTable.ref('authProviderId'), to: authProvidersTable.ref('id') },
    },
  });
}
