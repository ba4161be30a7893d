import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// The directory: users, groups and memberships as provisioned over SCIM.
// Filterable core attributes have their own columns (RFC 7643 §4.1, §4.2); everything else lives in `data`
// (jsonb) and is still filterable through the SQL compiler. `seq` gives a stable insertion order for
// startIndex paging and keyset cursors (RFC 9865); `version` backs ETags (RFC 7644 §3.14).
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      seq bigint GENERATED ALWAYS AS IDENTITY,
      user_name text NOT NULL,
      external_id text,
      display_name text,
      given_name text,
      family_name text,
      active boolean NOT NULL DEFAULT true,
      lock_reason text,
      emails_lower text[] NOT NULL DEFAULT '{}',
      data jsonb NOT NULL DEFAULT '{}',
      created_by_client_id uuid,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users__seq ON users (seq);
    CREATE UNIQUE INDEX users__lower_user_name ON users (lower(user_name));
    CREATE INDEX users__external_id ON users (external_id);
    CREATE INDEX users__lower_display_name ON users (lower(display_name));
    CREATE INDEX users__emails_lower ON users USING gin (emails_lower);
    CREATE INDEX users__created_by_client_id ON users (created_by_client_id);
    CREATE INDEX users__updated_at ON users (updated_at);

    CREATE TABLE groups (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      seq bigint GENERATED ALWAYS AS IDENTITY,
      display_name text NOT NULL,
      external_id text,
      data jsonb NOT NULL DEFAULT '{}',
      created_by_client_id uuid,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX groups__seq ON groups (seq);
    CREATE UNIQUE INDEX groups__lower_display_name ON groups (lower(display_name));
    CREATE INDEX groups__external_id ON groups (external_id);
    CREATE INDEX groups__created_by_client_id ON groups (created_by_client_id);

    -- Adding or removing a member touches one row here, never the group's other members.
    CREATE TABLE group_members (
      group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (group_id, user_id)
    );
    CREATE INDEX group_members__user_id ON group_members (user_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, 'DROP TABLE IF EXISTS group_members;\nDROP TABLE IF EXISTS groups;\nDROP TABLE IF EXISTS users;');
}
