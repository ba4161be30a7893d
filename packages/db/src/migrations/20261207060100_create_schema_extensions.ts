import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Extension schemas an admin declares (RFC 7643 §3.3, §7): one row per URN, its attributes as the RFC 7643 §7
// characteristics in jsonb. Values live in the resource's `data` under the URN key, like the enterprise
// extension's; the expression indexes for "filterable" and `uniqueness: server` attributes are created and
// dropped by the domain when the admin changes an extension (packages/domain/src/schema-extensions.ts).
//
// `unknownExtensions` (settings): new installs refuse a URN no declared extension owns ("reject"). An install
// that already holds users or SCIM clients keeps working as before the upgrade, where such values were dropped:
// it gets "keep" (accepted and kept verbatim, never dropped) until an admin chooses, so an identity provider
// that sends an undeclared URN is not suddenly refused after the upgrade.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE schema_extensions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      urn text NOT NULL,
      resource_type text NOT NULL CHECK (resource_type IN ('User', 'Group')),
      required boolean NOT NULL DEFAULT false,
      name text NOT NULL DEFAULT '',
      description text NOT NULL DEFAULT '',
      attributes jsonb NOT NULL DEFAULT '[]',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX schema_extensions__lower_urn ON schema_extensions (lower(urn));
    INSERT INTO settings (key, value, updated_at)
      SELECT 'unknownExtensions', '"keep"'::jsonb, now()
      WHERE EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM scim_clients)
      ON CONFLICT (key) DO NOTHING;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    DROP TABLE IF EXISTS schema_extensions;
    DELETE FROM settings WHERE key = 'unknownExtensions';
  `);
}
