import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// The private signing key is stored encrypted (enc:v1:..., packages/domain/src/secret-box.ts), which is text, not
// a JSON document: the column becomes text. Keys written before hold their JWK's JSON text, read as a legacy plain
// value and re-encrypted at the next start that has a key.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, 'ALTER TABLE event_signing_keys ALTER COLUMN private_jwk TYPE text USING private_jwk::text;');
}

// Back to jsonb: plain JWKs become documents again; an encrypted value becomes a JSON string (older code cannot
// use it, but nothing is lost: run this code again with the key to read it).
export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    ALTER TABLE event_signing_keys ALTER COLUMN private_jwk TYPE jsonb USING (
      CASE WHEN private_jwk LIKE 'enc:%' THEN to_jsonb(private_jwk)
           WHEN private_jwk LIKE 'plain:%' THEN substr(private_jwk, 7)::jsonb
           ELSE private_jwk::jsonb END);
  `);
}
