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
    database = await createDatabase(options.databaseUrl ? { url: options.databaseUrl, poolMax: 4 } : { dataDir: options.dataDir, mustExist: true });
  } catch (error) {
    if (error instanceof DatabaseError) throw new ReadOnlyDirectoryError(error.message, { cause: error });
    throw error;
  }
  try {
    // One probe of every table the reader uses: a missing migration or a missing GRANT is named now, not at
    // the first sign-in.
    for (const table of ['users', 'groups', groupMembersTable.table, userProviderLinksTable.table, 'auth_providers']) {
      await database.knex.raw(`SELECT 1 FROM ${table} LIMIT 0`).catch((error: { code?: string; message?: string }) => {
        if (error.code === '42P01') throw new ReadOnlyDirectoryError(`the database has no ${table} table: it is not a Roster database, or Roster has not started on it yet`, { cause: error });
        if (error.code === '42501') throw new ReadOnlyDirectoryError(`the database role may not read ${table}: GRANT SELECT on Roster's tables (docs/applications.md)`, { cause: error });
        throw error;
      });
    }
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
