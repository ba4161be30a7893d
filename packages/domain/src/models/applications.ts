import { col, defineTable, TableModel } from './table.js';

// The one declaration of table applications (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const applicationsTable = defineTable('applications', {
  id: col('id', 'uuid'),
  name: col('name', 'text'),
  authMethod: col('auth_method', 'text'),
  scopes: col('scopes', 'text[]'),
  oauthClientId: col('oauth_client_id', 'text', { nullable: true }),
  createdAt: col('created_at', 'timestamptz'),
  updatedAt: col('updated_at', 'timestamptz'),
});

export class ApplicationModel extends TableModel {
  static override tableName = applicationsTable.table;
  static override jsonSchema = applicationsTable.jsonSchema;
  static override jsonAttributes = applicationsTable.jsonAttributes;
  static readonly columns = applicationsTable.columns;
}
