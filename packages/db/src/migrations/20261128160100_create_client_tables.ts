import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Authentication providers, SCIM clients and their credentials. Secrets are stored only as SHA-256 hashes
// of high-entropy values (hex); `hint` holds the last four characters so an admin can tell tokens apart.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE auth_providers (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('oidc', 'saml')),
      issuer text,
      client_id text,
      client_secret text,
      metadata jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX auth_providers__lower_name ON auth_providers (lower(name));

    CREATE TABLE scim_clients (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      auth_provider_id uuid NOT NULL REFERENCES auth_providers (id) ON DELETE RESTRICT,
      auth_method text NOT NULL CHECK (auth_method IN ('static_token', 'oauth_client_credentials', 'jwt')),
      jwt_subject text,
      data_scope text NOT NULL DEFAULT 'all' CHECK (data_scope IN ('all', 'own')),
      oauth_client_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX scim_clients__lower_name ON scim_clients (lower(name));
    CREATE UNIQUE INDEX scim_clients__oauth_client_id ON scim_clients (oauth_client_id);
    CREATE INDEX scim_clients__auth_provider_id ON scim_clients (auth_provider_id);

    CREATE TABLE scim_credentials (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      client_id uuid NOT NULL REFERENCES scim_clients (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('static_token', 'client_secret')),
      hash text NOT NULL,
      hint text NOT NULL,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      last_used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX scim_credentials__hash ON scim_credentials (hash);
    CREATE INDEX scim_credentials__client_id ON scim_credentials (client_id);

    CREATE TABLE oauth_access_tokens (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      client_id uuid NOT NULL REFERENCES scim_clients (id) ON DELETE CASCADE,
      credential_id uuid REFERENCES scim_credentials (id) ON DELETE CASCADE,
      hash text NOT NULL,
      scope text NOT NULL,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX oauth_access_tokens__hash ON oauth_access_tokens (hash);
    CREATE INDEX oauth_access_tokens__client_id ON oauth_access_tokens (client_id);
    CREATE INDEX oauth_access_tokens__expires_at ON oauth_access_tokens (expires_at);

    -- A user's identity at an authentication provider: the externalId a SCIM client of that provider sent.
    -- Unique per (user, provider); not unique per (provider, external_id), since RFC 7643 §3.1 does not make
    -- externalId unique.
    CREATE TABLE user_provider_links (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      provider_id uuid NOT NULL REFERENCES auth_providers (id) ON DELETE CASCADE,
      external_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX user_provider_links__user_id_provider_id ON user_provider_links (user_id, provider_id);
    CREATE INDEX user_provider_links__provider_id_external_id ON user_provider_links (provider_id, external_id);

    ALTER TABLE users ADD CONSTRAINT users__created_by_client_id_fkey
      FOREIGN KEY (created_by_client_id) REFERENCES scim_clients (id) ON DELETE SET NULL;
    ALTER TABLE groups ADD CONSTRAINT groups__created_by_client_id_fkey
      FOREIGN KEY (created_by_client_id) REFERENCES scim_clients (id) ON DELETE SET NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    ALTER TABLE users DROP CONSTRAINT IF EXISTS users__created_by_client_id_fkey;
    ALTER TABLE groups DROP CONSTRAINT IF EXISTS groups__created_by_client_id_fkey;
    DROP TABLE IF EXISTS user_provider_links;
    DROP TABLE IF EXISTS oauth_access_tokens;
    DROP TABLE IF EXISTS scim_credentials;
    DROP TABLE IF EXISTS scim_clients;
    DROP TABLE IF EXISTS auth_providers;
  `);
}
