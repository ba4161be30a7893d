import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Admin sign-in through an OIDC provider becomes a per-provider switch, off by default: a provider registered
// for a SCIM client's JWTs must not also be a way into the admin app. The first sign-in of an admin through
// a provider binds the admin to the provider's `sub` for that person (OpenID Connect Core §5.7: `sub` is the
// only stable identifier; an email can be reassigned or claimed at the provider); later sign-ins through that
// provider match the binding, never the email. An admin sees and removes their bindings in the admin app.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    ALTER TABLE auth_providers ADD COLUMN admin_sign_in boolean NOT NULL DEFAULT false;
    CREATE TABLE admin_oidc_identities (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      admin_id uuid NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
      auth_provider_id uuid NOT NULL REFERENCES auth_providers (id) ON DELETE CASCADE,
      subject text NOT NULL,
      email text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz
    );
    CREATE UNIQUE INDEX admin_oidc_identities__auth_provider_id_subject ON admin_oidc_identities (auth_provider_id, subject);
    CREATE UNIQUE INDEX admin_oidc_identities__admin_id_auth_provider_id ON admin_oidc_identities (admin_id, auth_provider_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    DROP TABLE IF EXISTS admin_oidc_identities;
    ALTER TABLE auth_providers DROP COLUMN IF EXISTS admin_sign_in;
  `);
}
