import { MAX_CREDENTIAL_LIFETIME_DAYS } from '@roster/domain';
import { route, type AdminRoute } from '../define.js';
import { boolean, dateTime, integer, nullable, object, oneOf, optional, string } from '../schema.js';
import { errorSchema, pageOf, pageQueryShape, uuid, type RouteDeps } from './common.js';

const authMethod = oneOf(['static_token', 'oauth_client_credentials', 'jwt']);
const dataScope = oneOf(['all', 'own'], { description: 'all: every user and group; own: only what this client provisioned' });
const lifetimeDays = optional(integer({ min: 1, max: MAX_CREDENTIAL_LIFETIME_DAYS, description: `Days until the credential expires (default ${MAX_CREDENTIAL_LIFETIME_DAYS})` }));

const clientFields = {
  id: uuid(),
  name: string(),
  authProviderId: uuid(),
  authProviderName: string(),
  authMethod,
  jwtSubject: nullable(string({ description: 'jwt: the `sub` the provider puts in its tokens' })),
  dataScope,
  oauthClientId: nullable(string({ description: 'oauth_client_credentials: the client id (not a secret, RFC 6749 §2.2)' })),
  usersProvisioned: integer({ min: 0 }),
  lastActivityAt: nullable(dateTime()),
  credentials: object({
    active: integer({ min: 0, description: 'Active static tokens or client secrets' }),
    soonestExpiry: nullable(dateTime()),
    expiringSoon: boolean({ description: 'An active credential expires within 30 days' }),
  }),
  createdAt: dateTime(),
  updatedAt: dateTime(),
};

// GET and list answers are filtered through this schema: no token, secret or hash can ever appear in them.
const clientSchema = object(clientFields);

const createdClientSchema = object({
  ...clientFields,
  token: optional(string({ description: 'static_token: the token, shown only in this response' })),
  clientId: optional(string({ description: 'oauth_client_credentials: the client id' })),
  clientSecret: optional(string({ description: 'oauth_client_credentials: the secret, shown only in this response' })),
});

const credentialFields = {
  id: uuid(),
  kind: oneOf(['static_token', 'client_secret']),
  hint: string({ description: 'Last four characters, to tell credentials apart' }),
  status: oneOf(['active', 'expired', 'revoked']),
  createdAt: dateTime(),
  expiresAt: dateTime(),
  revokedAt: nullable(dateTime()),
  lastUsedAt: nullable(dateTime()),
};
const credentialSchema = object(credentialFields);

export function scimClientRoutes({ services }: RouteDeps): AdminRoute[] {
  const { scimClients } = services;
  const tag = 'SCIM clients';
  return [
    route({
      method: 'GET',
      path: '/api/admin/scim-clients',
      tag,
      summary: 'List SCIM clients',
      query: object(pageQueryShape),
      responses: { 200: { description: 'A page of clients', schema: pageOf(clientSchema) } },
      handle: async ({ query }) => ({ body: await scimClients.listScimClients(query) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/scim-clients',
      tag,
      summary: 'Create a SCIM client; the 201 carries its first token (static) or client id + secret (OAuth), once',
      body: object({
        name: string({ min: 1, max: 200 }),
        authProviderId: uuid(),
        authMethod,
        jwtSubject: optional(nullable(string({ min: 1, max: 500 }))),
        dataScope: optional(dataScope),
        lifetimeDays,
      }),
      responses: {
        201: { description: 'The client and its one-time secret', schema: createdClientSchema },
        409: { description: 'A client with this name exists (code conflict)', schema: errorSchema },
      },
      handle: async ({ body, admin }) => ({ status: 201, body: await scimClients.createScimClient(body, admin.id) }),
    }),
    route({
      method: 'GET',
      path: '/api/admin/scim-clients/:id',
      tag,
      summary: 'One SCIM client',
      responses: { 200: { description: 'The client', schema: clientSchema } },
      handle: async ({ params }) => ({ body: await scimClients.getScimClient(params.id!) }),
    }),
    route({
      method: 'PATCH',
      path: '/api/admin/scim-clients/:id',
      tag,
      summary: 'Change name, provider, data scope or JWT subject (the method is fixed)',
      body: object(
        {
          name: optional(string({ min: 1, max: 200 })),
          authProviderId: optional(uuid()),
          dataScope: optional(dataScope),
          jwtSubject: optional(string({ min: 1, max: 500 })),
          authMethod: optional(authMethod),
        },
        { minProperties: 1 },
      ),
      responses: { 200: { description: 'The client', schema: clientSchema } },
      handle: async ({ params, body, admin }) => ({ body: await scimClients.updateScimClient(params.id!, body, admin.id) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/admin/scim-clients/:id',
      tag,
      summary: 'Delete a client with all its credentials; the users and groups it provisioned stay',
      responses: { 204: { description: 'Deleted' } },
      handle: async ({ params, admin }) => {
        await scimClients.deleteScimClient(params.id!, admin.id);
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/scim-clients/:id/tokens',
      tag,
      summary: 'Static tokens of a client (never the tokens themselves)',
      responses: { 200: { description: 'All tokens, newest first', schema: pageOf(credentialSchema) } },
      handle: async ({ params }) => ({ body: await scimClients.listTokens(params.id!) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/scim-clients/:id/tokens',
      tag,
      summary: 'Add a static token; the 201 carries it, once',
      body: object({ lifetimeDays }),
      responses: { 201: { description: 'The token record and the token', schema: object({ ...credentialFields, token: string() }) } },
      handle: async ({ params, body, admin }) => ({ status: 201, body: await scimClients.createStaticToken(params.id!, body, admin.id) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/admin/scim-clients/:id/tokens/:tokenId',
      tag,
      summary: 'Revoke a static token (idempotent)',
      responses: { 204: { description: 'Revoked' } },
      handle: async ({ params, admin }) => {
        await scimClients.revokeStaticToken(params.id!, params.tokenId!, admin.id);
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/scim-clients/:id/secrets',
      tag,
      summary: 'OAuth client secrets of a client (never the secrets themselves)',
      responses: { 200: { description: 'All secrets, newest first', schema: pageOf(credentialSchema) } },
      handle: async ({ params }) => ({ body: await scimClients.listSecrets(params.id!) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/scim-clients/:id/secrets',
      tag,
      summary: 'Add an OAuth client secret (the old ones stay valid for rotation); the 201 carries it, once',
      body: object({ lifetimeDays }),
      responses: {
        201: { description: 'The secret record, the client id and the secret', schema: object({ ...credentialFields, clientId: string(), clientSecret: string() }) },
      },
      handle: async ({ params, body, admin }) => ({ status: 201, body: await scimClients.createClientSecret(params.id!, body, admin.id) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/admin/scim-clients/:id/secrets/:secretId',
      tag,
      summary: 'Revoke an OAuth client secret and the access tokens issued with it (idempotent)',
      responses: { 204: { description: 'Revoked' } },
      handle: async ({ params, admin }) => {
        await scimClients.revokeClientSecret(params.id!, params.secretId!, admin.id);
        return { status: 204 };
      },
    }),
  ];
}
