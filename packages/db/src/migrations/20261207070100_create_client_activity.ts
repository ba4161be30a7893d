import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Successful reads of SCIM clients, counted rather than logged one by one: one row per client, endpoint kind
// (`users.list`, `users.get`, `groups.list`, `groups.get`, `discovery`, `other`) and UTC minute, with the number
// of requests and the time of the last one. Writes and failures stay in audit_events, one row each. A deleted
// client takes its counts with it (its audit events stay, with the client id).
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE client_activity (
      client_id uuid NOT NULL REFERENCES scim_clients (id) ON DELETE CASCADE,
      kind text NOT NULL,
      minute timestamptz NOT NULL,
      requests integer NOT NULL,
      last_at timestamptz NOT NULL,
      PRIMARY KEY (client_id, kind, minute)
    );
    CREATE INDEX client_activity__minute ON client_activity (minute);
    CREATE INDEX client_activity__client_id_last_at ON client_activity (client_id, last_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, 'DROP TABLE IF EXISTS client_activity;');
}
