import type { Knex } from 'knex';
import * as createDirectoryTables from './20261128160000_create_directory_tables.js';
import * as createClientTables from './20261128160100_create_client_tables.js';
import * as createAdminTables from './20261128160200_create_admin_tables.js';
import * as createAdminSignInThrottle from './20261128171000_create_admin_sign_in_throttle.js';
import * as createSortIndexes from './20261128180000_create_sort_indexes.js';
import * as createAdminOidcSignIns from './20261128181000_create_admin_oidc_sign_ins.js';
import * as dropGroupMembersGroupFk from './20261128190000_drop_group_members_group_fk.js';
import * as createDirectoryChanges from './20261207000100_create_directory_changes.js';
import * as createOauthClientAssertions from './20261207020100_create_oauth_client_assertions.js';
import * as createAdminOidcIdentities from './20261207020200_create_admin_oidc_identities.js';
import * as addAuditEventAggregates from './20261207020300_add_audit_event_aggregates.js';
import * as createEventStreams from './20261207040100_create_event_streams.js';
import * as addIdentityMappings from './20261207050000_add_identity_mappings.js';
import * as createApplications from './20261207050100_create_applications.js';
import * as createSchemaExtensions from './20261207060100_create_schema_extensions.js';
import * as createClientActivity from './20261207070100_create_client_activity.js';
import * as alterEventSigningKeysPrivateJwk from './20261207090000_alter_event_signing_keys_private_jwk.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Migrations are listed here rather than discovered on disk, so the same list works from TypeScript
// sources (tests, dev) and from the compiled dist (production) without knex's file loader.
const migrations: ReadonlyArray<readonly [string, Migration]> = [
  ['20261128160000_create_directory_tables', createDirectoryTables],
  ['20261128160100_create_client_tables', createClientTables],
  ['20261128160200_create_admin_tables', createAdminTables],
  ['20261128171000_create_admin_sign_in_throttle', createAdminSignInThrottle],
  ['20261128180000_create_sort_indexes', createSortIndexes],
  ['20261128181000_create_admin_oidc_sign_ins', createAdminOidcSignIns],
  ['20261128190000_drop_group_members_group_fk', dropGroupMembersGroupFk],
  ['20261207000100_create_directory_changes', createDirectoryChanges],
  ['20261207020100_create_oauth_client_assertions', createOauthClientAssertions],
  ['20261207020200_create_admin_oidc_identities', createAdminOidcIdentities],
  ['20261207020300_add_audit_event_aggregates', addAuditEventAggregates],
  ['20261207040100_create_event_streams', createEventStreams],
  ['20261207050000_add_identity_mappings', addIdentityMappings],
  ['20261207050100_create_applications', createApplications],
  ['20261207060100_create_schema_extensions', createSchemaExtensions],
  ['20261207070100_create_client_activity', createClientActivity],
  ['20261207090000_alter_event_signing_keys_private_jwk', alterEventSigningKeysPrivateJwk],
];

export const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
