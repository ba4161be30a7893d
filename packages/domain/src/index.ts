// @roster/domain: the directory and configuration of Roster, for the gateway and for other applications
// that read the provisioned directory. See README.md for the public API.
export * from './audit.js';
export * from './directory/index.js';
export * from './errors.js';
export * from './secret-box.js';
export * from './auth-providers.js';
export * from './saml-metadata.js';
export * from './scim-clients.js';
export * from './admins.js';
export * from './admin-sessions.js';
export * from './settings.js';
export * from './directory-read.js';
export * from './admin-oidc.js';
export * from './changes/index.js';
export * from './models/index.js';
export * from './audit-upkeep.js';
export * from './schema-extensions.js';
export * from './client-activity.js';
export * from './events/index.js';
export * from './identity-mapping.js';
export * from './link-rebuilds.js';
export * from './sign-in.js';
export * from './applications.js';
