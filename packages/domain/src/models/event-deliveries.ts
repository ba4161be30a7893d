import { col, defineTable, TableModel } from './table.js';

// The one declaration of table event_deliveries (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const eventDeliveriesTable = defineTable('event_deliveries', {
  id: col('id', 'uuid'),
  streamId: col('stream_id', 'uuid'),
  at: col('at', 'timestamptz'),
  jti: col('jti', 'text'),
  eventUri: col('event_uri', 'text'),
  resource: col('resource', 'text', { nullable: true }),
  outcome: col('outcome', 'text'),
  httpStatus: col('http_status', 'integer', { nullable: true }),
  err: col('err', 'text', { nullable: true }),
  description: col('description', 'text', { nullable: true }),
  durationMs: col('duration_ms', 'integer', { nullable: true }),
  attempt: col('attempt', 'integer'),
});

export class EventDeliveryModel extends TableModel {
  static override tableName = eventDeliveriesTable.table;
  static override jsonSchema = eventDeliveriesTable.jsonSchema;
  static override jsonAttributes = eventDeliveriesTable.jsonAttributes;
  static readonly columns = eventDeliveriesTable.columns;
}
