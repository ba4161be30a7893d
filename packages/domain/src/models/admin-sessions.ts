import { Model, type RelationMappings } from 'objection';
import { AdminModel, adminsTable } from './admins.js';
import { col, defineTable, TableModel } from './table.js';

// Server-side admin sessions: the cookie's and the CSRF token's hashes only.
export const adminSessionsTable = defineTable('admin_sessions', {
  id: col('id', 'uuid'),
  adminId: col('admin_id', 'uuid'),
  tokenHash: col('token_hash', 'text'),
  csrfTokenHash: col('csrf_token_hash', 'text'),
  createdAt: col('created_at', 'timestamptz'),
  lastSeenAt: col('last_seen_at', 'timestamptz'),
  expiresAt: col('expires_at', 'timestamptz'),
});

export class AdminSessionModel extends TableModel {
  static override tableName = adminSessionsTable.table;
  static override jsonSchema = adminSessionsTable.jsonSchema;
  static override jsonAttributes = adminSessionsTable.jsonAttributes;
  static readonly columns = adminSessionsTable.columns;
  static override relationMappings = (): RelationMappings => ({
    admin: {
      relation: Model.BelongsToOneRelation,
      modelClass: AdminModel,
      join: { from: adminSessionsTable.ref('adminId'), to: adminsTable.ref('id') },
    },
  });
}
