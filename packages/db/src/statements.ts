import type { Knex } from 'knex';

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
 */

const MAX_NAMED = 500;

interface Prepared {
  /** The text with PostgreSQL's numbered parameters ($1, $2 ...). */
  text: string;
  /** Placeholders in the text, checked against the values on each call. */
  parameters: number;
  name: string | undefined;
}

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
 * knex's `?` placeholders to PostgreSQL's `$n`, the same rule knex applies (`\?` is a literal question mark).
 * Cached per text: the same shape of query is converted once.
 */
function prepared(sql: string): Prepared {
  let found = shapes.get(sql);
  if (found) return found;
  let parameters = 0;
  const text = sql.replace(/\\\?|\?/g, (match) => (match === '?' ? `$${++parameters}` : '?'));
  found = { text, parameters, name: named < MAX_NAMED ? `roster_${++named}` : undefined };
  // Bounded like the names: beyond it a shape is converted on each call and not remembered.
  if (shapes.size < MAX_NAMED * 4) shapes.set(sql, found);
  return found;
}

/**
 * Rows of one SELECT written with knex-style `?` placeholders. On a knex instance with prepared statements
 * enabled (and outside a transaction) the statement is named and goes straight to a pooled connection;
 * otherwise it runs as `db.raw`, exactly as before.
 */
export async function selectRows<Row>(db: Knex | Knex.Transaction, sql: string, values: readonly unknown[]): Promise<Row[]> {
  if (!preparesStatements(db)) {
    const result = (await db.raw(sql, values as Knex.RawBinding[])) as { rows: Row[] };
    return result.rows;
  }
  const statement = prepared(sql);
  if (statement.parameters !== values.length) {
    throw new Error(`statement expects ${statement.parameters} values, got ${values.length}`);
  }
  const client = db.client as unknown as KnexClientInternals;
  const connection = await client.acquireConnection();
  try {
    const query = statement.name ? { sql: statement.text, bindings: values, options: { name: statement.name } } : { sql: statement.text, bindings: values };
    const { response } = await client._query(connection, query);
    return response.rows as Row[];
  } finally {
    await client.releaseConnection(connection);
  }
}
