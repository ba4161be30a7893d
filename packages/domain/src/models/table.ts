import { AjvValidator, Model, type JSONSchema } from 'objection';

// One declaration per table: its name, and each column's name, PostgreSQL type and nullability. An Objection
// model takes `tableName`, `jsonSchema` and `jsonAttributes` from it, and code that writes SQL by hand (the
// repositories, the SCIM filter and sort compilers) takes names from `columns`, so a column is spelled once
// outside the migrations. models/drift.test.ts compares every declaration with the migrated database
// (information_schema): a table without a model, or a column missing, extra, retyped or of another
// nullability, fails it.

/** The PostgreSQL types Roster's tables use (information_schema's `udt_name` in UDT_NAMES). */
export type SqlType = 'uuid' | 'text' | 'text[]' | 'boolean' | 'integer' | 'bigint' | 'jsonb' | 'timestamptz' | 'xid8';

/** `udt_name` of each type in information_schema.columns, for the drift test. */
export const UDT_NAMES: Readonly<Record<SqlType, string>> = {
  uuid: 'uuid',
  text: 'text',
  'text[]': '_text',
  boolean: 'bool',
  integer: 'int4',
  bigint: 'int8',
  jsonb: 'jsonb',
  timestamptz: 'timestamptz',
  xid8: 'xid8',
};

export interface ColumnSpec {
  column: string;
  type: SqlType;
  /** The column accepts NULL (default: NOT NULL). */
  nullable?: boolean;
  /** A narrower JSON Schema for a jsonb column (default: any JSON value). */
  schema?: JSONSchema;
}

/** A column declaration: `col('user_name', 'text')`, `col('lock_reason', 'text', { nullable: true })`. */
export function col<const N extends string>(column: N, type: SqlType, options: Omit<ColumnSpec, 'column' | 'type'> = {}): ColumnSpec & { column: N } {
  return { column, type, ...options };
}

export interface TableDeclaration<C extends Record<string, ColumnSpec>> {
  table: string;
  /** Column names by property: `usersTable.columns.userName === 'user_name'`. */
  columns: { readonly [K in keyof C]: C[K]['column'] };
  specs: Readonly<C>;
  /** `table.column`, for Objection relation joins and qualified SQL. */
  ref(key: keyof C & string): string;
  jsonSchema: JSONSchema;
  /** The jsonb columns, which Objection serialises to JSON text on write (text[] stays a PostgreSQL array). */
  jsonAttributes: string[];
}

export function defineTable<const C extends Record<string, ColumnSpec>>(table: string, specs: C): TableDeclaration<C> {
  const columns = Object.fromEntries(Object.entries(specs).map(([key, spec]) => [key, spec.column])) as TableDeclaration<C>['columns'];
  const properties = Object.fromEntries(Object.values(specs).map((spec) => [spec.column, propertySchema(spec)]));
  return Object.freeze({
    table,
    columns: Object.freeze(columns),
    specs: Object.freeze(specs),
    ref: (key: keyof C & string) => `${table}.${specs[key]!.column}`,
    jsonSchema: { type: 'object', properties } satisfies JSONSchema,
    jsonAttributes: Object.values(specs).filter((spec) => spec.type === 'jsonb').map((spec) => spec.column),
  });
}

function propertySchema(spec: ColumnSpec): JSONSchema {
  const base = baseSchema(spec);
  if (!spec.nullable || base.type === undefined) return base;
  return { ...base, type: [...(Array.isArray(base.type) ? base.type : [base.type]), 'null'] };
}

function baseSchema(spec: ColumnSpec): JSONSchema {
  switch (spec.type) {
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    case 'text':
      return { type: 'string' };
    case 'text[]':
      return { type: 'array', items: { type: 'string' } };
    case 'boolean':
      return { type: 'boolean' };
    case 'integer':
    case 'bigint':
      // pg is told to parse int8 as a number (packages/db); PGlite answers numbers already.
      return { type: 'integer' };
    case 'jsonb':
      return spec.schema ?? {};
    case 'timestamptz':
      // Written as an ISO string or a Date (an object to JSON Schema); read back as a Date.
      return { type: ['string', 'object'], format: 'date-time' };
    case 'xid8':
      // A 64-bit transaction id: drivers answer it as a decimal string.
      return { type: 'string' };
  }
}

/**
 * The base of every model: a timestamp column's schema is a union (an ISO string or a Date), which Ajv's strict
 * mode accepts only with allowUnionTypes (without it, it logs a warning per column on first use).
 */
export class TableModel extends Model {
  static override createValidator(): AjvValidator {
    return new AjvValidator({ onCreateAjv: () => {}, options: { allowUnionTypes: true } });
  }
}
