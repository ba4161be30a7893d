import { APPLICATION_SCOPES, MAX_CREDENTIAL_LIFETIME_DAYS } from '@roster/domain';
import { route, type AdminRoute } from '../define.js';
import { array, dateTime, integer, nullable, object, oneOf, optional, string } from '../schema.js';
import { errorSchema, pageOf, pageQueryShape, uuid, type RouteDeps } from './common.js';

const authMethod = oneOf(['static_token', 'oauth_client_credentials']);
const scopes = array(oneOf(APPLICATION_SCOPES), {
  max: APPLICATION_SCOPES.length,
  description: 'directory.read: read-only SCIM; signin.resolve: POST /api/v1/sign-in/resolve; events.poll: poll event streams (RFC 8936)',
});

const applicationFields = {
  id: uuid(),
  name: string(),
  authMethod,
  scopes,
  oauthClientId: nullable(string({ description: 'oauth_client_credentials: the client id (not a secret, RFC 6749 §2.2)' })),
  activeCredentials: integer({ min: 0 }),
  lastUsedAt: nullable(dateTime()),
  createdAt: dateTime(),
  updatedAt: dateTime(),
};
// Answers are filtered through these schemas: no token, secret or hash can appear beyond the 201.
const applicationSchema = object(applicationFields);
const createdApplicationSchema = object({
  ...applicationFields,
  token: optional(string({ description: 'static_token: the bearer token, shown only in this response' })),
  clientId: optional(string({ description: 'oauth_client_credentials: the client id' })),
  clientSecret: optional(string({ description: 'oauth_client_credentials: the secret, shown only in this response' })),
});

export function applicationRoutes({ services }: RouteDeps): AdminRoute[] {
  const { applications } = services;
  const tag = 'Applications';
  return [
    route({
      method: 'GET',
      path: '/api/admin/applications',
      tag,
      summary: 'List applications',
      query: object(pageQueryShape),
      responses: { 200: { description: 'A page of applications', schema: pageOf(applicationSchema) } },
      handle: async ({ query }) => ({ body: await applications.list(query) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/applications',
      tag,
      summary: 'Register an application; the 201 carries its token (static) or client id + secret (OAuth), once',
      body: object({
        name: string({ min: 1, max: 200 }),
        authMethod,
        scopes,
        lifetimeDays: optional(integer({ min: 1, max: MAX_CREDENTIAL_LIFETIME_DAYS, description: `Days until the credential expires (default ${MAX_CREDENTIAL_LIFETIME_DAYS})` })),
      }),
      responses: {
        201: { description: 'The application and its one-time credential', schema: createdApplicationSchema },
        409: { description: 'An application with this name exists (code conflict)', schema: errorSchema },
      },
      handle: async ({ body, admin }) => ({ status: 201, body: await applications.create(body, admin.id) }),
    }),
    route({
      method: 'GET',
      path: '/api/admin/applications/:id',
      tag,
      summary: 'One application',
      responses: { 200: { description: 'The application', schema: applicationSchema } },
      handle: async ({ params }) => ({ body: await applications.get(params.id!) }),
    }),
    route({
      method: 'PATCH',
      path: '/api/admin/applications/:id',
      tag,
      summary: 'Rename or change scopes (fewer scopes apply to credentials already issued; the method is fixed)',
      body: object({ name: optional(string({ min: 1, max: 200 })), scopes: optional(scopes), authMethod: optional(authMethod) }, { minProperties: 1 }),
      responses: { 200: { description: 'The application', schema: applicationSchema } },
      handle: async ({ params, body, admin }) => ({ body: await applications.update(params.id!, body, admin.id) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/admin/applications/:id',
      tag,
      summary: 'Delete an application with every credential and access token it holds',
      responses: { 204: { description: 'Deleted' } },
      handle: async ({ params, admin }) => {
        await applications.delete(params.id!, admin.id);
        return { status: 204 };
      },
    }),
  ];
}
