import { col, defineTable, TableModel } from './table.js';

// The one declaration of table event_signing_keys (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const eventSigningKeysTable = defineTable('event_signing_keys', {
  id: col('id', 'uuid'),
  kid: col('kid', 'text'),
  publicJwk: col('public_jwk', 'jsonb'),
  privateJwk: col('private_jwk', 'text'),
  createdAt: col('created_at', 'timestamptz'),
  retiredAt: col('retired_at', 'timestamptz', { nullable: true }),
});

export class EventSigningKeyModel extends TableModel {
  static override tableName = eventSigningKeysTable.table;
  static override jsonSchema = eventSigningKeysTable.jsonSchema;
  static override jsonAttributes = eventSigningKeysTable.jsonAttributes;
  static readonly columns = eventSigningKeysTable.columns;
}
