import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Identity mapping per authentication provider: which claim of the provider's token (OIDC) or which SAML
// attribute (NameID included) matches which user value. NULL keeps the first round's meaning: `sub` against
// externalId. user_provider_links.external_id then holds the mapped user value (lower-cased for userName and
// email, which compare case-insensitively: RFC 7643 §4.1.1 caseExact false).
//
// link_rebuilds: the work of re-deriving links after a mapping changed (provider_id, every user of the
// provider's clients) or a SCIM client moved to another provider (client_id, that client's users). Batches
// advance `after_seq` in their own transaction, so a rebuild survives a restart; a worker takes a rebuild with
// FOR UPDATE SKIP LOCKED, so several processes never run the same batch.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    ALTER TABLE auth_providers ADD COLUMN identity_mapping jsonb;

    CREATE TABLE link_rebuilds (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      provider_id uuid NOT NULL REFERENCES auth_providers (id) ON DELETE CASCADE,
      client_id uuid REFERENCES scim_clients (id) ON DELETE CASCADE,
      reason text NOT NULL CHECK (reason IN ('mapping_changed', 'client_moved')),
      after_seq bigint NOT NULL DEFAULT 0,
      processed integer NOT NULL DEFAULT 0,
      total integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    );
    CREATE INDEX link_rebuilds__provider_id_created_at ON link_rebuilds (provider_id, created_at);
    CREATE INDEX link_rebuilds__pending ON link_rebuilds (created_at) WHERE finished_at IS NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    DROP TABLE IF EXISTS link_rebuilds;
    ALTER TABLE auth_providers DROP COLUMN IF EXISTS identity_mapping;
  `);
}
