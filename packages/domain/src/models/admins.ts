import { Model, type RelationMappings } from 'objection';
import { AdminSessionModel, adminSessionsTable } from './admin-sessions.js';
import { col, defineTable, TableModel } from './table.js';

// Admin accounts. password_hash is scrypt; NULL for accounts that sign in only through a provider.
export const adminsTable = defineTable('admins', {
  id: col('id', 'uuid'),
  email: col('email', 'text'),
  passwordHash: col('password_hash', 'text', { nullable: true }),
  createdAt: col('created_at', 'timestamptz'),
  lastSignInAt: col('last_sign_in_at', 'timestamptz', { nullable: true }),
});

export class AdminModel extends TableModel {
  static override tableName = adminsTable.table;
  static override jsonSchema = adminsTable.jsonSchema;
  static override jsonAttributes = adminsTable.jsonAttributes;
  static readonly columns = adminsTable.columns;
  static override relationMappings = (): RelationMappings => ({
    sessions: {
      relation: Model.HasManyRelation,
      modelClass: AdminSessionModel,
      join: { from: adminsTable.ref('id'), to: adminSessionsTable.ref('adminId') },
    },
  });
}
