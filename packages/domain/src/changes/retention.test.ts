import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createSettingsService } from '../settings.js';
import { createChangeLog, recordChanges } from './change-log.js';
import { pruneChangeLog } from './retention.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.destroy());

async function changeAgedDays(days: number): Promise<string> {
  const id = randomUUID();
  await db.knex.transaction((trx) => recordChanges(trx, { actor: { type: 'system', id: null } }, [{ kind: 'user.deleted', resourceType: 'User', resourceId: id }]));
  await db.knex('directory_changes').where('resource_id', id).update({ at: db.knex.raw(`now() - make_interval(days => ${days})`) });
  return id;
}

describe('change log retention', () => {
  it('prunes what is older than changeRetentionDays (default 90), and several processes may prune at once', async () => {
    const settings = createSettingsService(db.knex, { cacheMs: 0 });
    expect((await settings.get()).changeRetentionDays).toBe(90);
    const ancient = await changeAgedDays(91);
    const old = await changeAgedDays(10);
    const recent = await changeAgedDays(2);

    // Two "processes", each with its own change log, prune side by side: every old change goes exactly once.
    const logs = [createChangeLog(db.knex), createChangeLog(db.knex)];
    const deleted = await Promise.all(logs.map((log) => pruneChangeLog(log, settings)));
    expect(deleted.reduce((a, b) => a + b, 0)).toBe(1);

    const admin = ((await db.knex('admins').insert({ email: 'retention@example.com' }).returning('id')) as Array<{ id: string }>)[0]!.id;
    await settings.update({ changeRetentionDays: 5 }, admin);
    expect(await pruneChangeLog(logs[0]!, settings)).toBe(1);
    // Read from the table itself: the log's readers wait for older transactions of the whole server to end.
    const left = (await db.knex('directory_changes').pluck('resource_id')) as string[];
    expect(left).toContain(recent);
    expect(left).not.toContain(old);
    expect(left).not.toContain(ancient);
    await Promise.all(logs.map((log) => log.close()));
  });
});
