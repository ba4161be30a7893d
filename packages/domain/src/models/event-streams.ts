import { col, defineTable, TableModel } from './table.js';

// The one declaration of table event_streams (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const eventStreamsTable = defineTable('event_streams', {
  id: col('id', 'uuid'),
  name: col('name', 'text'),
  delivery: col('delivery', 'text'),
  endpointUrl: col('endpoint_url', 'text', { nullable: true }),
  audience: col('audience', 'text'),
  authorizationHeader: col('authorization_header', 'text', { nullable: true }),
  events: col('events', 'jsonb', { nullable: true }),
  format: col('format', 'text'),
  clientIds: col('client_ids', 'jsonb', { nullable: true }),
  state: col('state', 'text'),
  cursor: col('cursor', 'text'),
  pollTokenHash: col('poll_token_hash', 'text', { nullable: true }),
  pollTokenHint: col('poll_token_hint', 'text', { nullable: true }),
  leaseOwner: col('lease_owner', 'text', { nullable: true }),
  leaseUntil: col('lease_until', 'timestamptz', { nullable: true }),
  retryAttempt: col('retry_attempt', 'integer'),
  nextAttemptAt: col('next_attempt_at', 'timestamptz', { nullable: true }),
  failingSince: col('failing_since', 'timestamptz', { nullable: true }),
  lastDeliveryAt: col('last_delivery_at', 'timestamptz', { nullable: true }),
  lastDeliveryStatus: col('last_delivery_status', 'text', { nullable: true }),
  lastError: col('last_error', 'text', { nullable: true }),
  deliveredCount: col('delivered_count', 'bigint'),
  failedCount: col('failed_count', 'bigint'),
  createdAt: col('created_at', 'timestamptz'),
  updatedAt: col('updated_at', 'timestamptz'),
});

export class EventStreamModel extends TableModel {
  static override tableName = eventStreamsTable.table;
  static override jsonSchema = eventStreamsTable.jsonSchema;
  static override jsonAttributes = eventStreamsTable.jsonAttributes;
  static readonly columns = eventStreamsTable.columns;
}
