import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Failed admin sign-ins per account (`account:<email>`) and per client address (`address:<ip>`), kept in the
// database so that every gateway process sharing it applies the same slow-down.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE admin_sign_in_throttle (
      key text PRIMARY KEY,
      failures integer NOT NULL DEFAULT 0,
      first_failed_at timestamptz NOT NULL,
      blocked_until timestamptz
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, 'DROP TABLE IF EXISTS admin_sign_in_throttle;');
}
