import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Unauthenticated requests are recorded as aggregates, one audit row per (client address, client, minute) with
// a count, instead of one row per request (a client sending bad tokens wrote 540 rows a second). The
// aggregate's key makes a process's later flushes of the same minute, and other processes' flushes, add to
// that one row (INSERT ... ON CONFLICT). Ordinary events have no key; the index covers only aggregates.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    ALTER TABLE audit_events ADD COLUMN aggregate_key text;
    CREATE UNIQUE INDEX audit_events__aggregate_key ON audit_events (aggregate_key) WHERE aggregate_key IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    DROP INDEX IF EXISTS audit_events__aggregate_key;
    ALTER TABLE audit_events DROP COLUMN IF EXISTS aggregate_key;
  `);
}
