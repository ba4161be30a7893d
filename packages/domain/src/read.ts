import { DatabaseError, createDatabase, embeddedDataDirOwner, type Database } from '@roster/db';
import { createDirectoryReader, type DirectoryReader } from './directory/reader.js';
import { createSignInResolver, type SignInResolver } from './sign-in.js';
import { groupMembersTable, userProviderLinksTable } from './models/index.js';

// @roster/domain/read: the read-only way into Roster's database for applications. Everything here runs
// SELECT only, so a PostgreSQL role with SELECT rights is enough (docs/applications.md lists the GRANTs).
// Writes go through Roster's APIs, never around them.

export { createDirectoryReader, type DirectoryReader, type SignInMatch } from './directory/reader.js';
export { createSignInResolver, publicLockReason, LOCK_REASONS } from './sign-in.js';
export type { LockReason, SignInResolution, SignInStatus, SignInUser, SignInResolver, SignInProvider } from './sign-in.js';
export type { IdentityMapping, IdentityAttribute } from './identity-mapping.js';
export type { UserRecord, GroupRecord, ResourceRef, JsonObject } from './directory/types.js';

export class ReadOnlyDirectoryError extends Error {
  override name = 'ReadOnlyDirectoryError';
}

export interface ReadOnlyDirectoryOptions {
  /** postgres:// URL of Roster's database; a role with SELECT rights is enough. */
  databaseUrl?: string | undefined;
  /**
   * The embedded data directory of a Roster that is NOT running (PGlite cannot share a directory between
   * processes). Must exist: it is never created. While Roster runs, use its HTTP API (@roster/client).
   */
  dataDir?: string | undefined;
}

export interface ReadOnlyDirectory {
  directory: DirectoryReader;
  signIn: Pick<SignInResolver, 'resolveByClaims'>;
  database: Database;
  close(): Promise<void>;
}

/**
 * knex prints a failed connection's stack to stdout before it rejects the query; the rejection reaches the
 * application (worded by the probe when a GRANT is missing), so the print would only clutter its output.
 */
function quietAcquireErrors(message: unknown): void {
  if (!String(message).startsWith('Acquire connection error')) console.warn(message);
}

/** The tables the reader and the sign-in resolver read: the SELECT GRANT of docs/applications.md. */
const READ_TABLES = ['users', 'groups', groupMembersTable.table, userProviderLinksTable.table, 'auth_providers'] as const;

/** A PostgreSQL identifier as a GRANT statement needs it (quoted unless it is a plain lower-case name). */
function identifier(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/**
 * One probe of everything the reader uses, so a missing GRANT is named now, as the statement that fixes it, not
 * at the first sign-in. The order follows what PostgreSQL checks: CONNECT on the database (refused when the
 * connection starts), USAGE on the schema (without it the tables are not even found: the search path skips a
 * schema the role may not use), then SELECT per table. On the embedded database every check passes.
 */
async function probeReadAccess(database: Database, databaseUrl: string | undefined): Promise<void> {
  type Who = { role: string; database: string; usage: boolean | null };
  let who: Who;
  try {
    const result = (await database.knex.raw(
      "SELECT current_user AS role, current_database() AS database, (SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = 'public') AS usage",
    )) as { rows: Who[] };
    who = result.rows[0]!;
  } catch (error) {
    if ((error as { code?: string }).code === '42501' && databaseUrl) {
      const url = new URL(databaseUrl);
      const role = identifier(decodeURIComponent(url.username));
      const name = identifier(decodeURIComponent(url.pathname.slice(1)));
      throw new ReadOnlyDirectoryError(`the database role ${role} may not connect to ${name}: GRANT CONNECT ON DATABASE ${name} TO ${role} (docs/applications.md lists every GRANT)`, { cause: error });
    }
    throw error;
  }
  const role = identifier(who.role);
  if (who.usage === false) {
    throw new ReadOnlyDirectoryError(`the database role ${role} may not use the schema public: GRANT USAGE ON SCHEMA public TO ${role} (docs/applications.md lists every GRANT)`);
  }
  for (const table of READ_TABLES) {
    await database.knex.raw(`SELECT 1 FROM ${table} LIMIT 0`).catch((error: { code?: string }) => {
      if (error.code === '42P01') throw new ReadOnlyDirectoryError(`the database has no ${table} table: it is not a Roster database, or Roster has not started on it yet`, { cause: error });
      if (error.code === '42501') throw new ReadOnlyDirectoryError(`the database role ${role} may not read ${table}: GRANT SELECT ON ${table} TO ${role} (docs/applications.md lists every GRANT)`, { cause: error });
      throw error;
    });
  }
}

/** Opens Roster's directory for reading, refusing clearly whatever would fail later or harm Roster. */
export async function openReadOnlyDirectory(options: ReadOnlyDirectoryOptions): Promise<ReadOnlyDirectory> {
  if (!options.databaseUrl && !options.dataDir) {
    throw new ReadOnlyDirectoryError('give databaseUrl (Roster on PostgreSQL) or dataDir (the embedded data directory of a stopped Roster); nothing is opened or created by default');
  }
  if (!options.databaseUrl) {
    const owner = embeddedDataDirOwner(options.dataDir!);
    if (owner !== null) {
      throw new ReadOnlyDirectoryError(
        `the embedded data directory ${options.dataDir} is held by the running Roster process ${owner}; an embedded database cannot be shared: ` +
          'read through Roster\'s HTTP API (@roster/client, scope directory.read) or run Roster on PostgreSQL',
      );
    }
  }
  let database: Database;
  try {
    database = await createDatabase(options.databaseUrl ? { url: options.databaseUrl, poolMax: 4, log: { warn: quietAcquireErrors } } : { dataDir: options.dataDir, mustExist: true });
  } catch (error) {
    if (error instanceof DatabaseError) throw new ReadOnlyDirectoryError(error.message, { cause: error });
    throw error;
  }
  try {
    await probeReadAccess(database, options.databaseUrl);
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    directory: createDirectoryReader(database.knex),
    signIn: createSignInResolver(database.knex),
    database,
    close: () => database.close(),
  };
}
