import { col, defineTable, TableModel } from './table.js';

// The one declaration of table application_credentials (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const applicationCredentialsTable = defineTable('application_credentials', {
  id: col('id', 'uuid'),
  applicationId: col('application_id', 'uuid'),
  kind: col('kind', 'text'),
  hash: col('hash', 'text'),
  hint: col('hint', 'text'),
  scopes: col('scopes', 'text[]'),
  expiresAt: col('expires_at', 'timestamptz'),
  revokedAt: col('revoked_at', 'timestamptz', { nullable: true }),
  lastUsedAt: col('last_used_at', 'timestamptz', { nullable: true }),
  createdAt: col('created_at', 'timestamptz'),
});

export class ApplicationCredentialModel extends TableModel {
  static override tableName = applicationCredentialsTable.table;
  static override jsonSchema = applicationCredentialsTable.jsonSchema;
  static override jsonAttributes = applicationCredentialsTable.jsonAttributes;
  static readonly columns = applicationCredentialsTable.columns;
}
