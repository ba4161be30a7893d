import { col, defineTable, TableModel } from './table.js';

// The one declaration of table oauth_client_assertions (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const oauthClientAssertionsTable = defineTable('oauth_client_assertions', {
  issuer: col('issuer', 'text'),
  jti: col('jti', 'text'),
  expiresAt: col('expires_at', 'timestamptz'),
});

export class OauthClientAssertionModel extends TableModel {
  static override tableName = oauthClientAssertionsTable.table;
  static override jsonSchema = oauthClientAssertionsTable.jsonSchema;
  static override jsonAttributes = oauthClientAssertionsTable.jsonAttributes;
  static readonly columns = oauthClientAssertionsTable.columns;
}
