import { col, defineTable, TableModel } from './table.js';

// The one declaration of table schema_extensions (its migration creates it; src/models/drift.test.ts keeps the two equal).
export const schemaExtensionsTable = defineTable('schema_extensions', {
  id: col('id', 'uuid'),
  urn: col('urn', 'text'),
  resourceType: col('resource_type', 'text'),
  required: col('required', 'boolean'),
  name: col('name', 'text'),
  description: col('description', 'text'),
  attributes: col('attributes', 'jsonb'),
  version: col('version', 'integer'),
  createdAt: col('created_at', 'timestamptz'),
  updatedAt: col('updated_at', 'timestamptz'),
});

export class SchemaExtensionModel extends TableModel {
  static override tableName = schemaExtensionsTable.table;
  static override jsonSchema = schemaExtensionsTable.jsonSchema;
  static override jsonAttributes = schemaExtensionsTable.jsonAttributes;
  static readonly columns = schemaExtensionsTable.columns;
}
