import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { createDatabase, migrateLatest, type Database, type DatabaseOptions } from './index.js';

export interface TestDatabase extends Database {
  /** Drops the database (PostgreSQL) or closes the in-memory instance (embedded). */
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file: a new PostgreSQL database created on the server named by
 * TEST_DATABASE_URL (dropped by `destroy`), or else an in-memory embedded instance. Never reuses state
 * left by another run.
 */
export async function createTestDatabase(
  options: { migrate?: boolean; postgres?: Pick<DatabaseOptions, 'poolMax' | 'statementTimeoutMs' | 'acquireTimeoutMs'> } = {},
): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  let database: Database;
  let drop: () => Promise<void> = async () => {};
  if (serverUrl) {
    const scratch = await createScratchPostgresDatabase(serverUrl);
    // `postgres`: pool and timeout settings for tests of the limits (the embedded database has one connection).
    database = await createDatabase({ url: scratch.url, poolMax: 5, ...options.postgres });
    drop = scratch.drop;
  } else if (options.migrate === false) {
    database = await createDatabase({ dataDir: null });
  } else {
    database = await createDatabase({ dataDir: null, template: await migratedTemplate() });
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

/**
 * An embedded database costs ~2.5 s and ~800 MB to create (initdb), but ~0.7 s and ~400 MB to load from a
 * dump. The first test file of a run on this machine makes a migrated dump, keyed by the migration list, and
 * every later file loads it: each still gets a private, fresh instance.
 */
async function migratedTemplate(): Promise<Blob> {
  // Keyed by the migrations' source, so a changed migration never loads a stale template.
  const directory = new URL('./migrations/', import.meta.url);
  const hash = createHash('sha256');
  for (const name of fs.readdirSync(directory).sort()) {
    if (/\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')) hash.update(name).update(fs.readFileSync(new URL(name, directory)));
  }
  const key = hash.digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `roster-pglite-template-${key}.tgz`);
  if (!fs.existsSync(file)) {
    const seed = await createDatabase({ dataDir: null });
    try {
      await migrateLatest(seed.knex);
      const dump = await seed.dumpDataDir!();
      const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
      fs.renameSync(partial, file);
    } finally {
      await seed.close();
    }
  }
  return new Blob([fs.readFileSync(file)]);
}
