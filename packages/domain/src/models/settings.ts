import { col, defineTable, TableModel } from './table.js';

// Instance-wide settings, one row per key; an absent row means the default (packages/domain/src/settings.ts).
export const settingsTable = defineTable('settings', {
  key: col('key', 'text'),
  value: col('value', 'jsonb'),
  updatedAt: col('updated_at', 'timestamptz'),
});

export class SettingModel extends TableModel {
  static override tableName = settingsTable.table;
  static override idColumn = settingsTable.columns.key;
  static override jsonSchema = settingsTable.jsonSchema;
  static override jsonAttributes = settingsTable.jsonAttributes;
  static readonly columns = settingsTable.columns;
}
