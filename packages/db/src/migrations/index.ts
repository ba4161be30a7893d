import type { Knex } from 'knex';
import * as createDirectoryTables from './20261128160000_create_directory_tables.js';
import * as createClientTables from './20261128160100_create_client_tables.js';
import * as createAdminTables from './20261128160200_create_admin_tables.js';
import * as createAdminSignInThrottle from './20261128171000_create_admin_sign_in_throttle.js';
import * as createSortIndexes from './20261128180000_create_sort_indexes.js';
import * as createAdminOidcSignIns from './20261128181000_create_admin_oidc_sign_ins.js';
import * as dropGroupMembersGroupFk from './20261128190000_drop_group_members_group_fk.js';
import * as addIdentityMappings from './20261207050000_add_identity_mappings.js';
import * as createApplications from './20261207050100_create_applications.js';

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
  ['20261207050000_add_identity_mappings', addIdentityMappings],
  ['20261207050100_create_applications', createApplications],
];

export const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
