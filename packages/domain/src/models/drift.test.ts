import fs from 'node:fs';
import type { Knex } from 'knex';
import { Model } from 'objection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { UDT_NAMES, type ColumnSpec, type TableDeclaration } from './table.js';

// The models are the one declaration of the tables (DESIGN.md): this test keeps them equal to what the
// migrations built. It finds every model file in this folder by itself, so a new table's model is one new file,
// and a migration that adds a table or a column without its declaration fails here with the declaration to add.

/** knex's own bookkeeping, not Roster's data. */
const FRAMEWORK_TABLES = new Set(['knex_migrations', 'knex_migrations_lock']);

interface Declared {
  file: string;
  model: typeof Model;
  declaration: TableDeclaration<Record<string, ColumnSpec>> | undefined;
}

async function loadModels(): Promise<Declared[]> {
  const directory = new URL('./', import.meta.url);
  const files = fs.readdirSync(directory).filter((name) => /\.ts$/.test(name) && !/\.(test|d)\.ts$/.test(name) && name !== 'index.ts' && name !== 'table.ts');
  const found: Declared[] = [];
  for (const file of files.sort()) {
    const exports = (await import(new URL(file, directory).href)) as Record<string, unknown>;
    const values = Object.values(exports);
    const declarations = values.filter((value): value is TableDeclaration<Record<string, ColumnSpec>> => typeof value === 'object' && value !== null && 'specs' in value && 'table' in value);
    for (const value of values) {
      if (typeof value === 'function' && value.prototype instanceof Model) {
        const model = value as typeof Model;
        found.push({ file, model, declaration: declarations.find((declaration) => declaration.table === model.tableName) });
      }
    }
  }
  return found;
}

interface ColumnInfo {
  table_name: string;
  column_name: string;
  udt_name: string;
  is_nullable: 'YES' | 'NO';
}

async function readColumns(knex: Knex): Promise<ColumnInfo[]> {
  const result = (await knex.raw(`
    SELECT c.table_name, c.column_name, c.udt_name, c.is_nullable
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
    ORDER BY c.table_name, c.ordinal_position`)) as { rows: ColumnInfo[] };
  return result.rows.filter((row) => !FRAMEWORK_TABLES.has(row.table_name));
}

const SQL_TYPES = Object.fromEntries(Object.entries(UDT_NAMES).map(([type, udt]) => [udt, type]));

/** The declaration a missing model needs, written out from the database, so the failure says what to add. */
function suggestedDeclaration(table: string, columns: ColumnInfo[]): string {
  const lines = columns.map((column) => {
    const key = column.column_name.replace(/_([a-z0-9])/g, (_match, char: string) => char.toUpperCase());
    const type = SQL_TYPES[column.udt_name] ?? `?${column.udt_name}`;
    return `  ${key}: col('${column.column_name}', '${type}'${column.is_nullable === 'YES' ? ', { nullable: true }' : ''}),`;
  });
  return `defineTable('${table}', {\n${lines.join('\n')}\n})`;
}

/** Every difference between the migrated database and the models, one readable line each. */
function compare(columns: ColumnInfo[], models: Declared[]): string[] {
  const problems: string[] = [];
  const byTable = new Map<string, ColumnInfo[]>();
  for (const column of columns) byTable.set(column.table_name, [...(byTable.get(column.table_name) ?? []), column]);

  for (const [table, tableColumns] of byTable) {
    const matches = models.filter((candidate) => candidate.model.tableName === table);
    if (matches.length === 0) {
      problems.push(`table ${table} has no model: add packages/domain/src/models/<table>.ts with a Model whose tableName is '${table}', declared as\n${suggestedDeclaration(table, tableColumns)}`);
      continue;
    }
    if (matches.length > 1) problems.push(`table ${table} has ${matches.length} models (${matches.map((match) => `${match.model.name} in ${match.file}`).join(', ')}): keep one`);
    const { model, declaration, file } = matches[0]!;
    if (!declaration) {
      problems.push(`${model.name} (${file}) has no exported defineTable('${table}', ...) declaration beside it`);
      continue;
    }
    if (model.jsonSchema !== declaration.jsonSchema) problems.push(`${model.name}.jsonSchema is not the declaration's (${file}): write \`static jsonSchema = ${declaration.table}Table.jsonSchema\``);
    const properties = (model.jsonSchema.properties ?? {}) as Record<string, unknown>;
    const specs = new Map(Object.values(declaration.specs).map((spec) => [spec.column, spec]));
    for (const column of tableColumns) {
      if (!(column.column_name in properties)) {
        problems.push(`${table}.${column.column_name} (${column.udt_name}${column.is_nullable === 'YES' ? ', nullable' : ''}) is not declared in ${model.name}.jsonSchema (${file})`);
        continue;
      }
      const spec = specs.get(column.column_name);
      if (!spec) continue;
      if (UDT_NAMES[spec.type] !== column.udt_name) problems.push(`${table}.${column.column_name} is ${column.udt_name} in the database but declared '${spec.type}' in ${file}`);
      if ((column.is_nullable === 'YES') !== (spec.nullable === true)) {
        problems.push(`${table}.${column.column_name} is ${column.is_nullable === 'YES' ? 'nullable' : 'NOT NULL'} in the database but declared ${spec.nullable ? 'nullable' : 'not nullable'} in ${file}`);
      }
    }
    const present = new Set(tableColumns.map((column) => column.column_name));
    for (const property of Object.keys(properties)) {
      if (!present.has(property)) problems.push(`${model.name}.jsonSchema (${file}) declares ${table}.${property}, which the migrated database does not have`);
    }
  }
  for (const { model, file } of models) {
    if (!byTable.has(model.tableName)) problems.push(`${model.name} (${file}) names table ${model.tableName}, which the migrated database does not have`);
  }
  return problems;
}

let db: TestDatabase;
let models: Declared[];
beforeAll(async () => {
  [db, models] = await Promise.all([createTestDatabase(), loadModels()]);
});
afterAll(async () => {
  await db?.destroy();
});

describe('models and the migrated database', () => {
  it('declare the same tables and columns, with the same types and nullability', async () => {
    expect(models.length).toBeGreaterThan(0);
    expect(compare(await readColumns(db.knex), models)).toEqual([]);
  });

  it('report a table without a model, an undeclared or retyped column, and a declared column the database lacks', async () => {
    // A migration that ran ahead of the models, in a transaction rolled back afterwards (DDL is transactional).
    const problems = await db.knex
      .transaction(async (trx) => {
        await trx.raw('CREATE TABLE widgets (id uuid PRIMARY KEY, label text)');
        await trx.raw('ALTER TABLE users ADD COLUMN nickname text');
        await trx.raw('ALTER TABLE groups DROP COLUMN external_id');
        await trx.raw('ALTER TABLE settings ALTER COLUMN value DROP NOT NULL');
        await trx.raw('ALTER TABLE admins ALTER COLUMN email TYPE varchar(320)');
        const found = compare(await readColumns(trx), models);
        throw Object.assign(new Error('rollback'), { found });
      })
      .catch((error: { found?: string[] }) => {
        if (!error.found) throw error;
        return error.found;
      });
    expect(problems).toHaveLength(5);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^table widgets has no model: add packages\/domain\/src\/models\/<table>\.ts .*\ndefineTable\('widgets', \{\n {2}id: col\('id', 'uuid'\),\n {2}label: col\('label', 'text', \{ nullable: true \}\),\n\}\)$/s),
      'admins.email is varchar in the database but declared \'text\' in admins.ts',
      'GroupModel.jsonSchema (groups.ts) declares groups.external_id, which the migrated database does not have',
      'settings.value is nullable in the database but declared not nullable in settings.ts',
      'users.nickname (text, nullable) is not declared in UserModel.jsonSchema (users.ts)',
    ]));
  });
});
