import { col, defineTable, TableModel } from './table.js';

// Failed admin sign-ins per account (`account:<email>`) and per address (`address:<ip>`), shared by every
// gateway process on the database.
export const adminSignInThrottleTable = defineTable('admin_sign_in_throttle', {
  key: col('key', 'text'),
  failures: col('failures', 'integer'),
  firstFailedAt: col('first_failed_at', 'timestamptz'),
  blockedUntil: col('blocked_until', 'timestamptz', { nullable: true }),
});

export class AdminSignInThrottleModel extends TableModel {
  static override tableName = adminSignInThrottleTable.table;
  static override idColumn = adminSignInThrottleTable.columns.key;
  static override jsonSchema = adminSignInThrottleTable.jsonSchema;
  static override jsonAttributes = adminSignInThrottleTable.jsonAttributes;
  static readonly columns = adminSignInThrottleTable.columns;
}
