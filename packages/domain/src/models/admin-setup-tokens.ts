import { col, defineTable, TableModel } from './table.js';

// One-time tokens that create the first admin account (hash only; single use).
export const adminSetupTokensTable = defineTable('admin_setup_tokens', {
  id: col('id', 'uuid'),
  tokenHash: col('token_hash', 'text'),
  expiresAt: col('expires_at', 'timestamptz'),
  usedAt: col('used_at', 'timestamptz', { nullable: true }),
  createdAt: col('created_at', 'timestamptz'),
});

export class AdminSetupTokenModel extends TableModel {
  static override tableName = adminSetupTokensTable.table;
  static override jsonSchema = adminSetupTokensTable.jsonSchema;
  static override jsonAttributes = adminSetupTokensTable.jsonAttributes;
  static readonly columns = adminSetupTokensTable.columns;
}
