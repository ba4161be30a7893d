import { col, defineTable, TableModel } from './table.js';

// The one declaration of table link_rebuilds (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const linkRebuildsTable = defineTable('link_rebuilds', {
  id: col('id', 'uuid'),
  providerId: col('provider_id', 'uuid'),
  clientId: col('client_id', 'uuid', { nullable: true }),
  reason: col('reason', 'text'),
  afterSeq: col('after_seq', 'bigint'),
  processed: col('processed', 'integer'),
  total: col('total', 'integer'),
  createdAt: col('created_at', 'timestamptz'),
  updatedAt: col('updated_at', 'timestamptz'),
  finishedAt: col('finished_at', 'timestamptz', { nullable: true }),
});

export class LinkRebuildModel extends TableModel {
  static override tableName = linkRebuildsTable.table;
  static override jsonSchema = linkRebuildsTable.jsonSchema;
  static override jsonAttributes = linkRebuildsTable.jsonAttributes;
  static readonly columns = linkRebuildsTable.columns;
}
