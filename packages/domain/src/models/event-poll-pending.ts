import { col, defineTable, TableModel } from './table.js';

// The one declaration of table event_poll_pending (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const eventPollPendingTable = defineTable('event_poll_pending', {
  seq: col('seq', 'bigint'),
  streamId: col('stream_id', 'uuid'),
  jti: col('jti', 'text'),
  eventUri: col('event_uri', 'text'),
  resource: col('resource', 'text', { nullable: true }),
  token: col('token', 'text'),
  visibleAfter: col('visible_after', 'timestamptz'),
  handedOut: col('handed_out', 'integer'),
});

export class EventPollPendingModel extends TableModel {
  static override tableName = eventPollPendingTable.table;
  static override jsonSchema = eventPollPendingTable.jsonSchema;
  static override jsonAttributes = eventPollPendingTable.jsonAttributes;
  static readonly columns = eventPollPendingTable.columns;
}
