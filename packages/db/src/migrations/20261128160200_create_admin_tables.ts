import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Admin accounts, their server-side sessions, settings and the audit log.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE settings (
      key text PRIMARY KEY,
      value jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE admins (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      email text NOT NULL,
      password_hash text,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_sign_in_at timestamptz
    );
    CREATE UNIQUE INDEX admins__lower_email ON admins (lower(email));

    CREATE TABLE admin_sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      admin_id uuid NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
      token_hash text NOT NULL,
      csrf_token_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    );
    CREATE UNIQUE INDEX admin_sessions__token_hash ON admin_sessions (token_hash);
    CREATE INDEX admin_sessions__admin_id ON admin_sessions (admin_id);

    CREATE TABLE admin_setup_tokens (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      token_hash text NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX admin_setup_tokens__token_hash ON admin_setup_tokens (token_hash);

    CREATE TABLE audit_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor_type text NOT NULL CHECK (actor_type IN ('scim_client', 'admin', 'system')),
      client_id uuid,
      admin_id uuid,
      operation text NOT NULL,
      resource_type text,
      resource_id text,
      status integer,
      duration_ms integer,
      request_id text,
      detail jsonb
    );
    CREATE INDEX audit_events__at ON audit_events (at);
    CREATE INDEX audit_events__client_id_at ON audit_events (client_id, at);
    CREATE INDEX audit_events__resource_id ON audit_events (resource_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    DROP TABLE IF EXISTS audit_events;
    DROP TABLE IF EXISTS admin_setup_tokens;
    DROP TABLE IF EXISTS admin_sessions;
    DROP TABLE IF EXISTS admins;
    DROP TABLE IF EXISTS settings;
  `);
}
