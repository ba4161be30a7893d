import { randomBytes } from 'node:crypto';
import knex from 'knex';
import { createDatabase, migrateLatest, type Database } from './index.js';

export interface TestDatabase extends Database {
  /** Drops the database (PostgreSQL) or closes the in-memory instance (embedded). */
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file: a new PostgreSQL database created on the server named by
 * TEST_DATABASE_URL (dropped by `destroy`), or else an in-memory embedded instance. Never reuses state
 * left by another run.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  let database: Database;
  let drop: () => Promise<void> = async () => {};
  if (serverUrl) {
    const scratch = await createScratchPostgresDatabase(serverUrl);
    database = await createDatabase({ url: scratch.url, poolMax: 5 });
    drop = scratch.drop;
  } else {
    database = await createDatabase({ dataDir: null });
  }
  if (options.migrate !== false) await migrateLatest(database.knex);
  return {
    ...database,
    destroy: async () => {
      await database.close();
      await drop();
    },
  };
}

/** A URL for a brand-new empty PostgreSQL database (for tests that start whole gateway processes). */
export async function createScratchPostgresDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `roster_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
      try {
        await again.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await again.destroy();
      }
    },
  };
}
