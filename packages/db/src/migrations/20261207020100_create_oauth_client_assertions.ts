import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// RFC 7523 §3 item 7: a client assertion's `jti` may be used once. Each accepted assertion leaves its (issuer,
// jti) here until its `exp`; a second use finds the row and is refused, by whichever gateway process it
// reaches. Rows past expires_at are useless (the assertion itself is refused as expired) and are swept.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE oauth_client_assertions (
      issuer text NOT NULL,
      jti text NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (issuer, jti)
    );
    CREATE INDEX oauth_client_assertions__expires_at ON oauth_client_assertions (expires_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, 'DROP TABLE IF EXISTS oauth_client_assertions;');
}
