import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { SETTINGS_CACHE_MS, createSettingsService } from './settings.js';

describe('settings service', () => {
  let db: TestDatabase;
  let now = 1_000_000;
  const clock = () => now;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.destroy());

  it('answers the defaults when nothing is stored', async () => {
    expect(await createSettingsService(db.knex, { now: clock }).get()).toEqual({ usersDeletableByAdmins: false, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90 });
  });

  it('sees its own update at once and another process sees it within the 2 s cache bound', async () => {
    const here = createSettingsService(db.knex, { now: clock });
    const elsewhere = createSettingsService(db.knex, { now: clock });
    expect((await elsewhere.get()).usersDeletableByAdmins).toBe(false);
    const admin = ((await db.knex('admins').insert({ email: 'a@example.com' }).returning('id')) as Array<{ id: string }>)[0]!.id;
    expect(await here.update({ usersDeletableByAdmins: true }, admin)).toEqual({ usersDeletableByAdmins: true, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90 });
    expect((await here.get()).usersDeletableByAdmins).toBe(true);
    // The other process still answers from its cache until the bound passes.
    now += SETTINGS_CACHE_MS - 1;
    expect((await elsewhere.get()).usersDeletableByAdmins).toBe(false);
    now += 1;
    expect((await elsewhere.get()).usersDeletableByAdmins).toBe(true);
  });

  it('reads the database at most once per cache period however many calls come', async () => {
    const service = createSettingsService(db.knex, { now: clock });
    let queries = 0;
    const count = () => queries++;
    db.knex.on('query', count);
    try {
      await Promise.all(Array.from({ length: 20 }, () => service.get()));
      await service.get();
      expect(queries).toBe(1);
    } finally {
      db.knex.removeListener('query', count);
    }
  });

  it('records a change with the admin and the old and new values, and none for a no-op', async () => {
    const service = createSettingsService(db.knex, { now: clock });
    const admin = ((await db.knex('admins').insert({ email: 'b@example.com' }).returning('id')) as Array<{ id: string }>)[0]!.id;
    await db.knex('audit_events').delete();
    await service.update({ lockOnRefusedDelete: false }, admin, 'req-7');
    await service.update({ lockOnRefusedDelete: false }, admin);
    expect(await db.knex('audit_events').select('actor_type', 'admin_id', 'operation', 'request_id', 'detail')).toEqual([
      { actor_type: 'admin', admin_id: admin, operation: 'admin.settings.update', request_id: 'req-7', detail: { lockOnRefusedDelete: { from: true, to: false } } },
    ]);
  });
});
