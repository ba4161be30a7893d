// Objection models: the one declaration of every table (README "Models"). One file per table; a new table's
// file is found by the drift test (test/models.test.ts) on its own, and listed here when code outside the
// models needs it.
export { col, defineTable, TableModel, UDT_NAMES, type ColumnSpec, type SqlType, type TableDeclaration } from './table.js';
export * from './users.js';
export * from './groups.js';
export * from './group-members.js';
export * from './user-provider-links.js';
export * from './auth-providers.js';
export * from './scim-clients.js';
export * from './scim-credentials.js';
export * from './oauth-access-tokens.js';
export * from './settings.js';
export * from './admins.js';
export * from './admin-sessions.js';
export * from './admin-setup-tokens.js';
export * from './admin-sign-in-throttle.js';
export * from './admin-oidc-sign-ins.js';
export * from './audit-events.js';
export * from './directory-changes.js';
export { AdminOidcIdentityModel, adminOidcIdentitiesTable } from './admin-oidc-identities.js';
export { ClientActivityModel, clientActivityTable } from './client-activity.js';
export { EventDeliveryModel, eventDeliveriesTable } from './event-deliveries.js';
export { EventPollPendingModel, eventPollPendingTable } from './event-poll-pending.js';
export { EventSigningKeyModel, eventSigningKeysTable } from './event-signing-keys.js';
export { EventStreamModel, eventStreamsTable } from './event-streams.js';
export { OauthClientAssertionModel, oauthClientAssertionsTable } from './oauth-client-assertions.js';
export { SchemaExtensionModel, schemaExtensionsTable } from './schema-extensions.js';
export { ApplicationCredentialModel, applicationCredentialsTable } from './application-credentials.js';
export { ApplicationModel, applicationsTable } from './applications.js';
export { LinkRebuildModel, linkRebuildsTable } from './link-rebuilds.js';
