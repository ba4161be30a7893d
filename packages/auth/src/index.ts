// @roster/auth: how a SCIM client proves who it is. See authenticator.ts for the three methods.
export * from './errors.js';
export * from './discovery.js';
export * from './jwt.js';
export * from './authenticator.js';
export * from './client-credentials.js';
export * from './saml-fetch.js';
export * from './admin-oidc-client.js';
export * from './outbound-fetch.js';
export * from './applications.js';
export * from './id-token.js';
