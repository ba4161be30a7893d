import type { Knex } from 'knex';
import { createRequire } from 'node:module';
import pg from 'pg';

/**
 * The read path's hottest statements (a user by id, a filtered or first page of users, a group by id) run here
 * instead of through knex's query builder and runner, and on PostgreSQL as named prepared statements.
 *
 * Why: PostgreSQL plans an unnamed statement on every execution, and for the user lookup with its groups
 * subquery planning costs more than executing it (pgbench, 10 clients, same machine: 6,800 executions/s
 * unnamed against 26,700/s prepared); and building the same SQL text with knex on every request was about a
 * sixth of the gateway's CPU for a lookup (docs/benchmarks.md). A named statement is parsed and planned once
 * per connection (PostgreSQL switches to a generic plan after five executions when that plan is no worse,
 * "PREPARE", Notes), and the statement text is cached here per SQL shape, so a request only fills in values.
 *
 * Statement texts come from our own code and the SCIM filter compiler, whose text depends on the filter's shape,
 * never on its values (those are parameters). A client sending ever new filter shapes would still grow the
 * statements on every connection, so at most MAX_NAMED texts get a name; the rest run unnamed, as before.
 * Transactions and the embedded database (PGlite: one connection, in-process, nothing to save) go through
 * knex as before.
 *
 * A named statement is described only on its first execution on a connection (see NamedSelect): pg sends
 * Describe with every execution and parses the RowDescription that answers it, about 5 % of the gateway's CPU
 * for a lookup (docs/benchmarks.md, finding 18).
 */

const MAX_NAMED = 500;

/** A statement's text in both forms, with its name when it is prepared. From `statement()`. */
export interface Prepared {
  /** The text as written, with knex-style `?` placeholders (run as is through knex where nothing is prepared). */
  sql: string;
  /** The text with PostgreSQL's numbered parameters ($1, $2 ...). */
  text: string;
  /** Placeholders in the text, checked against the values on each call. */
  parameters: number;
  name: string | undefined;
}

/** How the rows of one named statement are parsed: pg's Result state after its RowDescription. */
interface RowTemplate {
  fields: unknown[];
  parsers: unknown[];
  empty: object;
}

/** The parts of pg's Query and Result that NamedSelect uses (pg 8's own, not in its public types). */
interface QueryInternals {
  text: string;
  name: string | undefined;
  values: unknown[];
  binary: boolean | undefined;
  portal: string;
  _accumulateRows: boolean;
  _result: { fields: unknown[]; _parsers: unknown[] | undefined; _prebuiltEmptyResultObject: object | null };
  handleError(error: unknown, connection: unknown): void;
}

/** The parts of pg's Connection (one per client) that NamedSelect uses. */
interface ConnectionInternals {
  bind(message: { portal: string; statement: string | undefined; values: unknown[]; binary: boolean | undefined; valueMapper: unknown }): void;
  execute(message: { portal: string; rows?: number }): void;
  close(message: { type: 'S'; name: string | undefined }): void;
  sync(): void;
}

/**
 * Row templates by connection, then by statement name. PostgreSQL keeps a named statement's result type for
 * the life of the statement (a change of the tables under it fails the execution with "cached plan must not
 * change result type" rather than answering other columns, "PREPARE", Notes), so the RowDescription of its
 * first execution on a connection describes every later one on that connection.
 */
const templates = new WeakMap<object, Map<string, RowTemplate>>();

/**
 * pg's Query for a named statement, which sends Describe only until the statement's rows have been described
 * once on the connection (PostgreSQL's frontend/backend protocol, "Extended Query": Describe is optional, and
 * Execute answers DataRows without a RowDescription). The rows are parsed exactly as pg parses them, with the
 * parsers pg chose for that description.
 */
class NamedSelect extends pg.Query {
  constructor(text: string, name: string, values: readonly unknown[], callback: (error: Error | undefined, result: { rows: unknown[] }) => void) {
    // The text form of the constructor: pg copies an object config property by property.
    super(text, values as unknown[], callback as never);
    (this as unknown as QueryInternals).name = name;
  }

  /** The first time on a connection pg's own Parse, Bind, Describe, Execute, Sync; then Bind, Execute, Sync. */
  prepare(connection: ConnectionInternals): void {
    const self = this as unknown as QueryInternals;
    const template = templates.get(connection)?.get(self.name!);
    if (!template) {
      // pg's own sequence, with Describe; handleRowDescription keeps the template.
      this.describedOn = connection;
      queryPrototype.prepare.call(this, connection);
      return;
    }
    // No Parse: a template is kept only from a RowDescription on this connection, which came after the Parse
    // that prepared the statement here.
    try {
      connection.bind({ portal: self.portal, statement: self.name, values: self.values, binary: self.binary, valueMapper: pgUtils.prepareValue });
    } catch (error) {
      // As pg does: a value that cannot be sent fails this query, and the connection stays usable.
      connection.close({ type: 'S', name: self.name });
      connection.sync();
      self.handleError(error, connection);
      return;
    }
    const result = self._result;
    result.fields = template.fields;
    result._parsers = template.parsers;
    result._prebuiltEmptyResultObject = template.empty;
    self._accumulateRows = true;
    connection.execute({ portal: self.portal });
    connection.sync();
  }

  handleRowDescription(message: { fields: unknown[] }): void {
    queryPrototype.handleRowDescription.call(this, message);
    const connection = this.describedOn;
    const result = (this as unknown as QueryInternals)._result;
    if (!connection || !result._parsers || !result._prebuiltEmptyResultObject) return;
    let known = templates.get(connection);
    if (!known) templates.set(connection, (known = new Map()));
    known.set((this as unknown as QueryInternals).name!, { fields: result.fields, parsers: result._parsers, empty: result._prebuiltEmptyResultObject });
  }

  /** The connection of the execution that sent Describe (its RowDescription is kept for it). */
  private describedOn: ConnectionInternals | undefined;
}

// pg 8's serialiser of Bind values (exported as 'pg/lib/*', without published types).
const pgUtils = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): unknown };

const queryPrototype = pg.Query.prototype as unknown as {
  prepare(this: unknown, connection: unknown): void;
  handleRowDescription(this: unknown, message: unknown): void;
};

/** The parts of knex's client this module uses (knex's own, not in its public types). */
interface KnexClientInternals {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
  _query(connection: unknown, query: { sql: string; bindings: readonly unknown[]; options?: { name: string } }): Promise<{ response: { rows: unknown[] } }>;
}

const preparing = new WeakSet<object>();
const shapes = new Map<string, Prepared>();
let named = 0;

/** Turns on named prepared statements for this knex instance (PostgreSQL only; createDatabase decides). */
export function enablePreparedStatements(db: Knex): void {
  preparing.add(db.client as object);
}

/** Whether statements on this knex instance are prepared (for tests and diagnostics). */
export function preparesStatements(db: Knex | Knex.Transaction): boolean {
  return !(db as Knex.Transaction).isTransaction && preparing.has(db.client as object);
}

/**
 * The statement for a text: knex's `?` placeholders to PostgreSQL's `$n`, the same rule knex applies (`\?` is
 * a literal question mark), and a name while names last. Cached per text: the same shape of query is
 * converted once.
 */
export function statement(sql: string): Prepared {
  let found = shapes.get(sql);
  if (found) return found;
  let parameters = 0;
  const text = sql.replace(/\\\?|\?/g, (match) => (match === '?' ? `$${++parameters}` : '?'));
  found = { sql, text, parameters, name: named < MAX_NAMED ? `roster_${++named}` : undefined };
  // Bounded like the names: beyond it a shape is converted on each call and not remembered.
  if (shapes.size < MAX_NAMED * 4) shapes.set(sql, found);
  return found;
}

/**
 * Rows of one SELECT written with knex-style `?` placeholders, given as text or as a `statement()` that the
 * caller keeps for its query shape (the text is then neither built nor looked up again). On a knex instance
 * with prepared statements enabled (and outside a transaction) the statement is named and goes straight to a
 * pooled connection; otherwise it runs as `db.raw`, exactly as before.
 */
export async function selectRows<Row>(db: Knex | Knex.Transaction, sql: string | Prepared, values: readonly unknown[]): Promise<Row[]> {
  if (!preparesStatements(db)) {
    const result = (await db.raw(typeof sql === 'string' ? sql : sql.sql, values as Knex.RawBinding[])) as { rows: Row[] };
    return result.rows;
  }
  const prepared = typeof sql === 'string' ? statement(sql) : sql;
  if (prepared.parameters !== values.length) {
    throw new Error(`statement expects ${prepared.parameters} values, got ${values.length}`);
  }
  const client = db.client as unknown as KnexClientInternals;
  const connection = await client.acquireConnection();
  try {
    if (!prepared.name) return (await client._query(connection, { sql: prepared.text, bindings: values })).response.rows as Row[];
    const name = prepared.name;
    return await new Promise<Row[]>((resolve, reject) => {
      (connection as pg.Client).query(new NamedSelect(prepared.text, name, values, (error, result) => (error ? reject(error) : resolve(result.rows as Row[]))));
    });
  } finally {
    // knex's release is synchronous (tarn's release) and answers an already settled promise: nothing to wait for.
    void client.releaseConnection(connection);
  }
}
