import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Admin sign-ins through an OIDC provider that have been started and not yet finished (authorization code +
// PKCE). A row holds only SHA-256 hashes: of the `state` sent to the provider, and of the random browser
// binding kept in the starting browser's HttpOnly cookie. The PKCE verifier and the nonce are derived from
// that cookie value, so the table alone cannot finish anyone's sign-in. A row is deleted when the callback
// uses it (single use) and is useless after expires_at (about ten minutes).
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE admin_oidc_sign_ins (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      state_hash text NOT NULL,
      browser_hash text NOT NULL,
      auth_provider_id uuid NOT NULL REFERENCES auth_providers (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    );
    CREATE UNIQUE INDEX admin_oidc_sign_ins__state_hash ON admin_oidc_sign_ins (state_hash);
    CREATE INDEX admin_oidc_sign_ins__expires_at ON admin_oidc_sign_ins (expires_at);
    CREATE INDEX admin_oidc_sign_ins__auth_provider_id ON admin_oidc_sign_ins (auth_provider_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, 'DROP TABLE IF EXISTS admin_oidc_sign_ins;');
}
