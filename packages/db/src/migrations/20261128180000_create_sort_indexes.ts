import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// sortBy=userName / displayName (RFC 7644 §3.4.2.3) orders by lower(x) COLLATE "C" with seq as the
// tie-break (apps/scim-gateway/src/scim/sort.ts): these indexes serve those pages without sorting every row.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE INDEX users__lower_user_name_c_seq ON users ((lower(user_name) COLLATE "C"), seq);
    CREATE INDEX groups__lower_display_name_c_seq ON groups ((lower(display_name) COLLATE "C"), seq);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    DROP INDEX IF EXISTS users__lower_user_name_c_seq;
    DROP INDEX IF EXISTS groups__lower_display_name_c_seq;
  `);
}
