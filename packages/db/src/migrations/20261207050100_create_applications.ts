import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Applications: programs that read the provisioned directory and resolve sign-ins (docs/applications.md).
// They are not SCIM clients: they never write, and they carry scopes an admin picks (directory.read,
// signin.resolve, events.poll). Their credentials (static tokens, OAuth client secrets and the access tokens
// issued for those) are stored like SCIM clients' ones: SHA-256 hashes of 256-bit values, a four-character hint.
// The activity log gains the actor type `application`.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE applications (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      auth_method text NOT NULL CHECK (auth_method IN ('static_token', 'oauth_client_credentials')),
      scopes text[] NOT NULL,
      oauth_client_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX applications__lower_name ON applications (lower(name));
    CREATE UNIQUE INDEX applications__oauth_client_id ON applications (oauth_client_id);

    CREATE TABLE application_credentials (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('static_token', 'client_secret', 'access_token')),
      hash text NOT NULL,
      hint text NOT NULL,
      scopes text[] NOT NULL,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      last_used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX application_credentials__hash ON application_credentials (hash);
    CREATE INDEX application_credentials__application_id ON application_credentials (application_id);

    ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_actor_type_check;
    ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check CHECK (actor_type IN ('scim_client', 'admin', 'system', 'application'));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    DELETE FROM audit_events WHERE actor_type = 'application';
    ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_actor_type_check;
    ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check CHECK (actor_type IN ('scim_client', 'admin', 'system'));
    DROP TABLE IF EXISTS application_credentials;
    DROP TABLE IF EXISTS applications;
  `);
}
