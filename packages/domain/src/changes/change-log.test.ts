import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createChangeLog, InvalidChangeCursorError, recordChanges, type ChangeLog } from './change-log.js';
import { CHANGE_LOG_START, MEMBERS_PER_CHANGE, type ChangeContext, type DirectoryChange } from './types.js';

let db: TestDatabase;
let log: ChangeLog;
beforeAll(async () => {
  db = await createTestDatabase();
  log = createChangeLog(db.knex, { pollIntervalMs: 50 });
});
afterAll(async () => {
  await log?.close();
  await db?.destroy();
});

const context: ChangeContext = { actor: { type: 'scim_client', id: randomUUID() }, requestId: 'req-1' };

async function recordOne(trx: Knex | Knex.Transaction, label: string): Promise<string> {
  const id = randomUUID();
  await recordChanges(trx, context, [{ kind: 'user.updated', resourceType: 'User', resourceId: id, externalId: label, detail: { attributes: ['displayName'] } }]);
  return id;
}

/** Reads everything readable after `cursor`, page by page. */
async function drain(cursor: string): Promise<{ changes: DirectoryChange[]; cursor: string }> {
  const changes: DirectoryChange[] = [];
  for (;;) {
    const page = await log.read({ after: cursor, limit: 2 });
    changes.push(...page.changes);
    if (page.changes.length === 0) return { changes, cursor };
    cursor = page.cursor;
  }
}

describe('change log', () => {
  it('records a change with its actor, request id and detail, and reads it back after the cursor of "now"', async () => {
    const start = await log.head();
    const id = await db.knex.transaction((trx) => recordOne(trx, 'ext-1'));
    const { changes } = await drain(start);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      kind: 'user.updated',
      resourceType: 'User',
      resourceId: id,
      externalId: 'ext-1',
      actor: context.actor,
      requestId: 'req-1',
      detail: { attributes: ['displayName'] },
    });
    expect(changes[0]!.at).toBeInstanceOf(Date);
  });

  it('records nothing when the transaction rolls back', async () => {
    const start = await log.head();
    await expect(
      db.knex.transaction(async (trx) => {
        await recordOne(trx, 'rolled-back');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const committed = await db.knex.transaction((trx) => recordOne(trx, 'after-rollback'));
    const { changes } = await drain(start);
    expect(changes.map((change) => change.resourceId)).toEqual([committed]);
  });

  it('splits a large membership change into records of at most MEMBERS_PER_CHANGE members, in order', async () => {
    const start = await log.head();
    const members = Array.from({ length: MEMBERS_PER_CHANGE * 2 + 5 }, () => randomUUID());
    const group = randomUUID();
    await db.knex.transaction((trx) => recordChanges(trx, context, [{ kind: 'group.members.added', resourceType: 'Group', resourceId: group, detail: { members } }]));
    const { changes } = await drain(start);
    expect(changes.map((change) => change.detail.members!.length)).toEqual([MEMBERS_PER_CHANGE, MEMBERS_PER_CHANGE, 5]);
    expect(changes.flatMap((change) => change.detail.members)).toEqual(members);
  });

  it('refuses a cursor that is not one', async () => {
    await expect(log.read({ after: '1; DROP TABLE users' })).rejects.toBeInstanceOf(InvalidChangeCursorError);
    await expect(log.read({ after: '99999999999999999999.1' })).rejects.toBeInstanceOf(InvalidChangeCursorError);
  });

  it('reads from the oldest retained change with CHANGE_LOG_START, and prunes what is older than the retention', async () => {
    const id = await db.knex.transaction((trx) => recordOne(trx, 'old'));
    await db.knex('directory_changes').where('resource_id', id).update({ at: db.knex.raw("now() - interval '10 days'") });
    expect((await drain(CHANGE_LOG_START)).changes.some((change) => change.resourceId === id)).toBe(true);
    expect(await log.prune(9)).toBeGreaterThanOrEqual(1);
    expect((await drain(CHANGE_LOG_START)).changes.some((change) => change.resourceId === id)).toBe(false);
    expect(await log.prune(9)).toBe(0);
  });

  it('wait leaves no listener on a long-lived signal, however often it sleeps and times out', async () => {
    const start = await log.head();
    const controller = new AbortController();
    const added: string[] = [];
    const removed: string[] = [];
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
      added.push(args[0]);
      add(...args);
    };
    signal.removeEventListener = (...args: Parameters<AbortSignal['removeEventListener']>) => {
      removed.push(args[0]);
      remove(...args);
    };
    // pollIntervalMs is 50: a 600 ms wait sleeps several times (unless a read alone outlasts it), and ends by its timeout.
    for (let i = 0; i < 3; i += 1) expect((await log.wait({ after: start, timeoutMs: 600, signal })).changes).toEqual([]);
    expect(added.length).toBeGreaterThan(0);
    expect(removed).toEqual(added);
  });

  it('wait answers as soon as a change commits, and an empty page when the timeout passes first', async () => {
    const start = await log.head();
    const empty = await log.wait({ after: start, timeoutMs: 1 });
    expect(empty).toEqual({ changes: [], cursor: start });
    const waiting = log.wait({ after: start, timeoutMs: 60_000 });
    const id = await db.knex.transaction((trx) => recordOne(trx, 'waited-for'));
    const page = await waiting;
    expect(page.changes.map((change) => change.resourceId)).toEqual([id]);
  });
});

// Two transactions that commit in the other order than their positions: a reader paging by position alone would
// pass the lower position while it is still in flight and never see it. Only PostgreSQL runs transactions side by
// side; the embedded database has one connection, so its transactions run one after the other (asserted below).
describe.runIf(Boolean(process.env.TEST_DATABASE_URL))('change log ordering under concurrent transactions (PostgreSQL)', () => {
  it('never skips a change whose transaction commits after a later position was read', async () => {
    let cursor = await log.head();
    const seen: string[] = [];
    const readNow = async () => {
      const page = await drain(cursor);
      cursor = page.cursor;
      seen.push(...page.changes.map((change) => change.resourceId));
    };

    const early = await db.knex.transaction();
    const late = await db.knex.transaction();
    try {
      // `early` takes the lower position, `late` the higher one; `late` commits first.
      const first = await recordOne(early, 'early');
      const second = await recordOne(late, 'late');
      await late.commit();
      await readNow();
      // Position alone would have handed out `second` here and moved past `first`.
      expect(seen).toEqual([]);
      await early.commit();
      await readNow();
      expect(seen.sort()).toEqual([first, second].sort());

      // The other way round: the transaction that started first (lower transaction id) writes last and commits last.
      const older = await db.knex.transaction();
      await older.raw('SELECT pg_current_xact_id()');
      const newer = await db.knex.transaction();
      const third = await recordOne(newer, 'newer');
      await newer.commit();
      await readNow();
      expect(seen).not.toContain(third);
      const fourth = await recordOne(older, 'older');
      await older.commit();
      await readNow();
      expect(seen).toHaveLength(4);
      expect(new Set(seen)).toEqual(new Set([first, second, third, fourth]));
    } finally {
      if (!early.isCompleted()) await early.rollback();
      if (!late.isCompleted()) await late.rollback();
    }
  });

  it('a reader sees every change exactly once while many writers commit at random', async () => {
    let cursor = await log.head();
    const seen: string[] = [];
    let writing = true;
    const reader = (async () => {
      while (writing || seen.length < 200) {
        const page = await log.wait({ after: cursor, timeoutMs: 200 });
        cursor = page.cursor;
        seen.push(...page.changes.map((change) => change.resourceId));
        if (!writing && page.changes.length === 0) break;
      }
    })();
    const written: string[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 50; i += 1) {
          written.push(
            await db.knex.transaction(async (trx) => {
              const id = await recordOne(trx, `w${i}`);
              if (i % 3 === 0) await trx.raw('SELECT pg_sleep(0.002)');
              return id;
            }),
          );
        }
      }),
    );
    writing = false;
    await reader;
    expect(seen).toHaveLength(written.length);
    expect(new Set(seen)).toEqual(new Set(written));
  });
});

describe.runIf(!process.env.TEST_DATABASE_URL)('change log ordering on the embedded database', () => {
  it('runs transactions one after the other, so the second records and commits only after the first', async () => {
    const start = await log.head();
    const events: string[] = [];
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = db.knex.transaction(async (trx) => {
      const id = await recordOne(trx, 'first');
      events.push('first recorded');
      await firstMayCommit;
      events.push('first commits');
      return id;
    });
    await expect.poll(() => events.includes('first recorded')).toBe(true);
    const second = db.knex.transaction(async (trx) => {
      events.push('second begins');
      return recordOne(trx, 'second');
    });
    releaseFirst();
    const ids = await Promise.all([first, second]);
    expect(events).toEqual(['first recorded', 'first commits', 'second begins']);
    expect((await drain(start)).changes.map((change) => change.resourceId)).toEqual(ids);
  });
});
