import { ApiError } from '../errors.js';
import { route, type AdminRoute } from '../define.js';
import { dateTime, integer, array, nullable, object, string } from '../schema.js';
import { errorSchema, uuid, type RouteDeps } from './common.js';

// The signed-in admin's bindings to provider accounts (issue 20, item 1): the first sign-in through an OIDC
// provider binds the admin to the provider's `sub`; later sign-ins match the binding, not the email. An admin
// sees their own bindings and removes one when the account at the provider is no longer theirs.

const identitySchema = object({
  id: uuid(),
  providerId: uuid(),
  providerName: string(),
  subject: string({ description: 'The provider\'s `sub` for this admin' }),
  email: string({ description: 'The verified email the provider stated when the binding was made' }),
  createdAt: dateTime(),
  lastUsedAt: nullable(dateTime()),
});

export function oidcIdentityRoutes({ services }: RouteDeps): AdminRoute[] {
  return [
    route({
      method: 'GET',
      path: '/api/admin/session/oidc-identities',
      tag: 'Session',
      summary: 'The provider accounts the signed-in admin is bound to',
      responses: { 200: { description: 'The bindings, newest first', schema: object({ items: array(identitySchema), total: integer({ min: 0 }) }) } },
      handle: async ({ admin }) => {
        const items = await services.adminOidc.listIdentities(admin.id);
        return { body: { items, total: items.length } };
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/admin/session/oidc-identities/:identityId',
      tag: 'Session',
      summary: 'Remove one of the signed-in admin\'s bindings',
      description: 'The next sign-in through that provider binds again, and again needs a verified email.',
      responses: {
        204: { description: 'Removed' },
        404: { description: 'The admin has no binding with this id (code not_found)', schema: errorSchema },
      },
      handle: async ({ admin, params, requestId }) => {
        if (!(await services.adminOidc.removeIdentity(admin.id, params.identityId!, requestId))) throw ApiError.notFound('Sign-in identity');
        return { status: 204 };
      },
    }),
  ];
}
