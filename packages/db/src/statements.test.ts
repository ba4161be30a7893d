import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { preparesStatements, selectRows } from './index.js';
import { createTestDatabase, type TestDatabase } from './testing.js';

describe('selectRows', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.destroy());

  it('fills the placeholders in order and keeps an escaped question mark literal', async () => {
    const rows = await selectRows<{ a: number; b: string; has: boolean }>(db.knex, `SELECT ?::int AS a, ?::text AS b, '{"k":1}'::jsonb \\? 'k' AS has`, [7, 'seven']);
    expect(rows).toEqual([{ a: 7, b: 'seven', has: true }]);
  });

  it('refuses values that do not match the placeholders', async () => {
    await expect(selectRows(db.knex, 'SELECT ?::int AS a, ?::int AS b', [1])).rejects.toThrow();
  });

  it('gives the same answer on every call of one shape, with different values', async () => {
    for (let i = 0; i < 12; i += 1) {
      const [row] = await selectRows<{ n: number }>(db.knex, 'SELECT ?::int * 2 AS n', [i]);
      expect(row?.n).toBe(i * 2);
    }
  });

  it('prepares named statements on PostgreSQL, and never inside a transaction or on the embedded database', async () => {
    // The statement lists the named statements of its own connection: if it was prepared, it finds itself.
    const self = "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%find-myself-marker%' AND ?::int = 1";
    const rows = await selectRows<{ name: string }>(db.knex, self, [1]);
    if (db.kind === 'postgres') {
      expect(preparesStatements(db.knex)).toBe(true);
      expect(rows.map((row) => row.name)).toEqual([expect.stringMatching(/^roster_\d+$/)]);
    } else {
      expect(preparesStatements(db.knex)).toBe(false);
      expect(rows).toEqual([]);
    }
    await db.knex.transaction(async (tx) => {
      expect(preparesStatements(tx)).toBe(false);
      const inside = await selectRows<{ name: string }>(tx, "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%transaction-marker%' AND ?::int = 1", [1]);
      expect(inside).toEqual([]);
    });
  });

  describe('named statements on PostgreSQL', () => {
    it.runIf(process.env.TEST_DATABASE_URL)('are described once per connection, and parse every type as pg does after that', async () => {
      // One statement, twelve executions on a pool of at most five connections: pg alone would send Describe
      // with each of them.
      const describe = vi.spyOn((pg as unknown as { Connection: { prototype: { describe(): void } } }).Connection.prototype, 'describe');
      try {
        const sql =
          "SELECT ?::int AS n, ?::text AS t, ?::timestamptz AS at, ?::jsonb AS doc, 9007199254740::int8 AS big, NULL::text AS nothing, ?::boolean AS yes /* describe-once-marker */";
        const at = new Date('2026-11-28T12:34:56.789Z');
        for (let i = 0; i < 12; i += 1) {
          const rows = await selectRows(db.knex, sql, [i, `v${i}`, at, JSON.stringify({ i, list: [1, 'two'] }), i % 2 === 0]);
          expect(rows).toEqual([{ n: i, t: `v${i}`, at, doc: { i, list: [1, 'two'] }, big: 9007199254740, nothing: null, yes: i % 2 === 0 }]);
        }
        expect(describe.mock.calls.length).toBeGreaterThan(0);
        expect(describe.mock.calls.length).toBeLessThanOrEqual(5);
      } finally {
        describe.mockRestore();
      }
    });

    it.runIf(process.env.TEST_DATABASE_URL)('fail, rather than misread the rows, when a column under them changes type', async () => {
      await db.knex.raw('CREATE TABLE described_once (id int PRIMARY KEY, value int)');
      try {
        await db.knex.raw('INSERT INTO described_once VALUES (1, 42)');
        const sql = 'SELECT value FROM described_once WHERE id = ?';
        // Executed on every connection of the pool, so that each has prepared it and kept its description.
        await Promise.all(Array.from({ length: 10 }, () => selectRows(db.knex, sql, [1])));
        await db.knex.raw("ALTER TABLE described_once ALTER COLUMN value TYPE text USING 'forty-two'");
        const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => selectRows<{ value: unknown }>(db.knex, sql, [1])));
        for (const outcome of outcomes) {
          // PostgreSQL refuses a prepared statement whose result type changed ("PREPARE", Notes); a value read
          // with the old description would have come back as NaN.
          if (outcome.status === 'rejected') expect(String(outcome.reason)).toMatch(/cached plan must not change result type/);
          else expect(outcome.value).toEqual([{ value: 'forty-two' }]);
        }
        expect(outcomes.some((outcome) => outcome.status === 'rejected')).toBe(true);
      } finally {
        await db.knex.raw('DROP TABLE described_once');
      }
    });
  });
});
