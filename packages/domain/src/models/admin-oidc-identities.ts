import { col, defineTable, TableModel } from './table.js';

// The one declaration of table admin_oidc_identities (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const adminOidcIdentitiesTable = defineTable('admin_oidc_identities', {
  id: col('id', 'uuid'),
  adminId: col('admin_id', 'uuid'),
  authProviderId: col('auth_provider_id', 'uuid'),
  subject: col('subject', 'text'),
  email: col('email', 'text'),
  createdAt: col('created_at', 'timestamptz'),
  lastUsedAt: col('last_used_at', 'timestamptz', { nullable: true }),
});

export class AdminOidcIdentityModel extends TableModel {
  static override tableName = adminOidcIdentitiesTable.table;
  static override jsonSchema = adminOidcIdentitiesTable.jsonSchema;
  static override jsonAttributes = adminOidcIdentitiesTable.jsonAttributes;
  static readonly columns = adminOidcIdentitiesTable.columns;
}
