import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// The directory change log: one row per change of a user, group, membership or provider link, inserted in the
// same transaction as the change itself, so a change and its record commit (or roll back) together.
//
// `position` is the row's identity, taken from a sequence when the row is inserted. Sequence values are handed
// out before commit, so two transactions can commit in the other order than their positions: a reader that
// paged by `position` alone could pass a lower position still in flight and never see it. `tx_id`, the writing
// transaction's id (xid8, 64 bits, never wraps), fixes that: readers only return rows whose transaction is older
// than the oldest transaction still running (`pg_snapshot_xmin(pg_current_snapshot())`), in (tx_id, position)
// order. Every transaction that could still commit has an id at or above that horizon, so nothing can ever
// appear behind a reader's cursor (packages/domain/src/changes).
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE directory_changes (
      position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      at timestamptz NOT NULL DEFAULT now(),
      kind text NOT NULL,
      resource_type text NOT NULL,
      resource_id uuid NOT NULL,
      external_id text,
      owner_client_id uuid,
      actor_type text NOT NULL,
      actor_id uuid,
      request_id text,
      detail jsonb
    );
    CREATE INDEX directory_changes__tx_id_position ON directory_changes (tx_id, position);
    CREATE INDEX directory_changes__at ON directory_changes (at);
    CREATE INDEX directory_changes__resource_id ON directory_changes (resource_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, 'DROP TABLE IF EXISTS directory_changes;');
}
