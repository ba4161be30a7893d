import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import pg from 'pg';
import { migrationSource } from './migrations/index.js';
import { enablePreparedStatements } from './statements.js';

export { selectRows, preparesStatements, statement, type Prepared } from './statements.js';

export type { Knex };
export type DatabaseKind = 'embedded' | 'postgres';

export interface Database {
  knex: Knex;
  kind: DatabaseKind;
  /** Where the data lives: the PostgreSQL URL without its password, or the embedded data directory. */
  location: string;
  /** Embedded only: a gzip tarball of the data directory (used for test database templates). */
  dumpDataDir?: () => Promise<Blob>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent the embedded database (PGlite) is used. */
  url?: string | undefined;
  /** Embedded data directory; `null` keeps the embedded database in memory (tests). */
  dataDir?: string | null | undefined;
  /** PostgreSQL pool size. */
  poolMax?: number | undefined;
  /**
   * PostgreSQL only: run the hot read statements as named prepared statements (default true). Turn off behind a
   * connection pooler that cannot keep them (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean | undefined;
  /**
   * PostgreSQL only: statement_timeout in ms for every statement of this pool (0 or absent: none). Sent once per
   * connection in its startup message, so no query pays a round trip for it. PGlite runs without timers and
   * does not enforce it (checked with 0.5.17: pg_sleep(2) under statement_timeout=300 ran 2 s): the embedded
   * database relies on the filter cost limit and the per-client cap on requests in flight instead.
   */
  statementTimeoutMs?: number | undefined;
  /** PostgreSQL only: how long a query waits for a free pool connection before failing (default 10000 ms). */
  acquireTimeoutMs?: number | undefined;
  /** PostgreSQL only: where knex's own warnings go (by default knex prints them with console.log). */
  log?: Knex.Logger | undefined;
  /** Embedded only: start from this data directory dump (PGlite dumpDataDir) instead of running initdb. */
  template?: Blob | undefined;
  /**
   * Embedded only: refuse a data directory that does not exist or holds no database yet, instead of creating
   * one (an application reading Roster's directory must never make an empty one of its own).
   */
  mustExist?: boolean | undefined;
}

export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

// pg returns int8 (count(*), bigint identities) as strings to avoid precision loss; every bigint we read
// (counts, sequence numbers) fits comfortably in a double, and PGlite already answers numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

export async function createDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (options.url) {
    const instance = knex({
      client: 'pg',
      connection: {
        connectionString: options.url,
        application_name: 'roster',
        ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      },
      pool: { min: 0, max: options.poolMax ?? 10, idleTimeoutMillis: 30_000 },
      acquireConnectionTimeout: options.acquireTimeoutMs ?? 10_000,
      ...(options.log ? { log: options.log } : {}),
    });
    if (options.preparedStatements !== false) enablePreparedStatements(instance);
    return {
      knex: instance,
      kind: 'postgres',
      location: redactUrl(options.url),
      close: () => instance.destroy(),
    };
  }
  const dataDir = options.dataDir === undefined ? '.roster-data' : options.dataDir;
  if (options.mustExist && dataDir !== null) {
    const dir = path.resolve(dataDir);
    if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
      throw new DatabaseError(
        fs.existsSync(dir)
          ? `${dir} is not an embedded Roster data directory (no PG_VERSION); Roster creates it on its first start`
          : `the embedded data directory ${dir} does not exist; point to the one Roster uses (ROSTER_DATA_DIR), or use DATABASE_URL`,
      );
    }
  }
  return createEmbeddedDatabase(dataDir, options.template);
}

/**
 * The pid of the live process holding an embedded data directory, or null: lets a second program refuse
 * clearly before it tries to open a directory PGlite cannot share.
 */
export function embeddedDataDirOwner(dataDir: string): number | null {
  try {
    const owner = Number(fs.readFileSync(path.join(path.resolve(dataDir), 'roster.lock'), 'utf8').trim());
    return Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner) ? owner : null;
  } catch {
    return null;
  }
}

/**
 * knex-pglite 0.14 names a response's command after knex's method, "DEL" for `.delete()`, which knex's
 * PostgreSQL dialect does not recognise as DELETE: it then returns the raw result object instead of the number
 * of rows deleted, and code that counts (a member removal that removed nobody must not bump the group's
 * version) behaved differently on the embedded database than on PostgreSQL. Found by the Okta replay test
 * (apps/scim-gateway/test/compat/fixtures/okta.json, "removing a member who is not one any more").
 */
function withDeleteRowCount(Base: typeof knex.Client): typeof knex.Client {
  type Query = { method?: string };
  const base = Base.prototype as unknown as { processResponse(obj: Query, runner: unknown): unknown };
  const processResponse = base.processResponse;
  return class extends Base {
    processResponse(obj: Query, runner: unknown): unknown {
      return processResponse.call(this, obj.method === 'del' ? { ...obj, method: 'delete' } : obj, runner);
    }
  } as typeof knex.Client;
}

/**
 * PGlite keeps PostgreSQL's shared buffers inside its WebAssembly memory, so their size is resident memory.
 * PostgreSQL's default (128 MB) took a restarted embedded Roster to ~340 MB RSS; 32 MB measured ~200-230 MB with
 * the same start time, and the operating system's page cache still holds the data files (README "The embedded
 * database" has the figures).
 */
const EMBEDDED_POSTGRESQL_CONF = ['shared_buffers=32MB', 'wal_buffers=1MB'];

async function createEmbeddedDatabase(dataDir: string | null, template?: Blob): Promise<Database> {
  const [{ PGlite }, { default: ClientPgLite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('knex-pglite'),
  ]);
  let releaseLock = (): void => {};
  let dir: string | undefined;
  if (dataDir !== null) {
    dir = path.resolve(dataDir);
    fs.mkdirSync(dir, { recursive: true });
    releaseLock = acquireDirectoryLock(dir);
  }
  try {
    const initdb = dir !== undefined && !template && !fs.existsSync(path.join(dir, 'PG_VERSION'));
    let pglite = await PGlite.create({
      postgresqlconf: EMBEDDED_POSTGRESQL_CONF,
      ...(dir === undefined ? {} : { dataDir: dir }),
      ...(template ? { loadDataDir: template } : {}),
    });
    if (initdb) {
      // initdb grows PGlite's WebAssembly memory to about 800 MB of resident memory, and a WebAssembly memory
      // never shrinks; an instance that opens the directory initdb made needs about 300 MB (docs/benchmarks.md,
      // finding 40). So the first start reopens it once (about 0.1 s); the first instance's memory goes with it.
      await pglite.close();
      pglite = await PGlite.create({ postgresqlconf: EMBEDDED_POSTGRESQL_CONF, dataDir: dir });
    }
    const instance = knex({
      client: withDeleteRowCount(ClientPgLite as unknown as typeof knex.Client),
      dialect: 'postgres',
      connection: () => ({ pglite }) as object,
    } as Knex.Config);
    return {
      knex: instance,
      kind: 'embedded',
      location: dir ?? 'memory',
      dumpDataDir: async () => (await pglite.dumpDataDir('gzip')) as Blob,
      close: async () => {
        await instance.destroy();
        if (!pglite.closed) await pglite.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

// PGlite has no lock between processes: two processes on one data directory corrupt it. A lock file holding
// the owner's pid refuses the second process; a lock left by a dead process (kill -9) is taken over.
function acquireDirectoryLock(dir: string): () => void {
  const lockPath = path.join(dir, 'roster.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(lockPath, 'utf8') === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new DatabaseError(
          `the embedded data directory ${dir} is in use by another Roster process (pid ${owner}); ` +
            'stop it, or use PostgreSQL (DATABASE_URL) to run several processes',
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new DatabaseError(`could not lock the embedded data directory ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export async function migrateRollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}

export async function listAppliedMigrations(db: Knex): Promise<string[]> {
  const [completed] = (await db.migrate.list({ migrationSource })) as [Array<{ name: string }>, unknown];
  return completed.map((migration) => migration.name);
}

/** True when the database answers a trivial query within `timeoutMs`. */
export async function ping(db: Knex, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.raw('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export { migrationSource };
