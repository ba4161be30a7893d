import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '@roster/domain';
import { ApiError } from '../errors.js';
import { route, type AdminRoute } from '../define.js';
import { dateTime, nullable, object, string } from '../schema.js';
import { errorSchema, pageOf, pageQueryShape, uuid, type RouteDeps } from './common.js';

export const adminSchema = object({
  id: uuid(),
  email: string(),
  createdAt: dateTime(),
  lastSignInAt: nullable(dateTime()),
});

export function adminRoutes({ services }: RouteDeps): AdminRoute[] {
  return [
    route({
      method: 'GET',
      path: '/api/admin/admins',
      tag: 'Admins',
      summary: 'List admins',
      query: object(pageQueryShape),
      responses: { 200: { description: 'A page of admins', schema: pageOf(adminSchema) } },
      handle: async ({ query }) => ({ body: await services.admins.list(query) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/admins',
      tag: 'Admins',
      summary: 'Add an admin',
      body: object({ email: string({ format: 'email' }), password: string({ min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH }) }),
      responses: {
        201: { description: 'The new admin', schema: adminSchema },
        409: { description: 'An admin with this email exists (code conflict)', schema: errorSchema },
      },
      handle: async ({ body, admin, requestId }) => {
        const result = await services.admins.create(body, admin.id, requestId);
        if (!result.ok) throw new ApiError('conflict', 409, 'An admin with this email already exists', { field: 'email' });
        return { status: 201, body: result.admin };
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/admin/admins/:id',
      tag: 'Admins',
      summary: 'Remove an admin (never the last one)',
      description: 'The removed admin is signed out everywhere.',
      responses: {
        204: { description: 'Removed' },
        409: { description: 'This is the last admin (code last_admin)', schema: errorSchema },
      },
      handle: async ({ params, admin, requestId }) => {
        const result = await services.admins.delete(params.id!, admin.id, requestId);
        if (result.ok) return { status: 204 };
        if (result.reason === 'not_found') throw ApiError.notFound('Admin');
        throw new ApiError('last_admin', 409, 'The last admin cannot be removed; add another admin first');
      },
    }),
  ];
}
