import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
