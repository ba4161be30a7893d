import { col, defineTable, TableModel } from './table.js';

// The directory change log (packages/domain/src/changes): one row per change, written in the change's own
// transaction. Readers page by (tx_id, position) below the oldest running transaction (migration
// 20261207000100 says why position alone is not enough).
export const directoryChangesTable = defineTable('directory_changes', {
  position: col('position', 'bigint'),
  txId: col('tx_id', 'xid8'),
  at: col('at', 'timestamptz'),
  kind: col('kind', 'text'),
  resourceType: col('resource_type', 'text'),
  resourceId: col('resource_id', 'uuid'),
  externalId: col('external_id', 'text', { nullable: true }),
  ownerClientId: col('owner_client_id', 'uuid', { nullable: true }),
  actorType: col('actor_type', 'text'),
  actorId: col('actor_id', 'uuid', { nullable: true }),
  requestId: col('request_id', 'text', { nullable: true }),
  detail: col('detail', 'jsonb', { nullable: true }),
});

export class DirectoryChangeModel extends TableModel {
  static override tableName = directoryChangesTable.table;
  static override idColumn = directoryChangesTable.columns.position;
  static override jsonSchema = directoryChangesTable.jsonSchema;
  static override jsonAttributes = directoryChangesTable.jsonAttributes;
  static readonly columns = directoryChangesTable.columns;
}
