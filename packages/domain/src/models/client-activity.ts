import { col, defineTable, TableModel } from './table.js';

// The one declaration of table client_activity (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const clientActivityTable = defineTable('client_activity', {
  clientId: col('client_id', 'uuid'),
  kind: col('kind', 'text'),
  minute: col('minute', 'timestamptz'),
  requests: col('requests', 'integer'),
  lastAt: col('last_at', 'timestamptz'),
});

export class ClientActivityModel extends TableModel {
  static override tableName = clientActivityTable.table;
  static override jsonSchema = clientActivityTable.jsonSchema;
  static override jsonAttributes = clientActivityTable.jsonAttributes;
  static readonly columns = clientActivityTable.columns;
}
