import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAppliedMigrations, migrateLatest, migrateRollbackAll, createDatabase, migrationSource } from './index.js';
import { createTestDatabase, type TestDatabase } from './testing.js';

const tables = [
  'users', 'groups', 'group_members', 'auth_providers', 'scim_clients', 'scim_credentials', 'oauth_access_tokens',
  'user_provider_links', 'settings', 'admins', 'admin_sessions', 'audit_events',
];

async function existingTables(db: TestDatabase): Promise<string[]> {
  const rows = await db.knex('information_schema.tables').select('table_name').where('table_schema', 'public');
  return rows.map((row: { table_name: string }) => row.table_name);
}

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    console.log(`migrations test on ${db.kind} database`);
  });
  afterAll(async () => db?.destroy());

  it('go up, down and up again, leaving every table of the data model', async () => {
    await migrateLatest(db.knex);
    expect(await existingTables(db)).toEqual(expect.arrayContaining(tables));
    await migrateRollbackAll(db.knex);
    const afterDown = await existingTables(db);
    for (const table of tables) expect(afterDown).not.toContain(table);
    await migrateLatest(db.knex);
    expect(await existingTables(db)).toEqual(expect.arrayContaining(tables));
    const all = await migrationSource.getMigrations([]);
    expect(await listAppliedMigrations(db.knex)).toEqual(all.map((migration) => migrationSource.getMigrationName(migration)));
  });

  it('make userName unique case-insensitively', async () => {
    await db.knex('users').insert({ user_name: 'Alice@Example.com' });
    await expect(db.knex('users').insert({ user_name: 'alice@example.COM' })).rejects.toThrow(/users__lower_user_name/);
  });

  it('make group displayName unique case-insensitively', async () => {
    await db.knex('groups').insert({ display_name: 'Engineering' });
    await expect(db.knex('groups').insert({ display_name: 'ENGINEERING' })).rejects.toThrow(/groups__lower_display_name/);
  });
});

describe('embedded data directory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-db-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps data across restarts and refuses a second process while open', async () => {
    const first = await createDatabase({ dataDir: dir });
    await migrateLatest(first.knex);
    await first.knex('users').insert({ user_name: 'persisted' });

    // A lock owned by another live process (our parent) refuses the open with a clear message.
    const lockPath = path.join(dir, 'roster.lock');
    const ownLock = fs.readFileSync(lockPath, 'utf8');
    fs.writeFileSync(lockPath, String(process.ppid));
    await expect(createDatabase({ dataDir: dir })).rejects.toThrow(/in use by another Roster process/);
    fs.writeFileSync(lockPath, ownLock);
    await first.close();
    expect(fs.existsSync(lockPath)).toBe(false);

    const second = await createDatabase({ dataDir: dir });
    const rows = await second.knex('users').select('user_name');
    expect(rows).toEqual([{ user_name: 'persisted' }]);
    await second.close();
  });

  it('takes over a lock left by a dead process', async () => {
    fs.writeFileSync(path.join(dir, 'roster.lock'), '999999');
    const db = await createDatabase({ dataDir: dir });
    expect(await db.knex('users').count('* as n')).toEqual([{ n: 1 }]);
    await db.close();
  });
});
