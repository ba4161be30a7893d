import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '@roster/domain';
import { ApiError } from '../errors.js';
import { publicRoute, type AdminRoute } from '../define.js';
import { boolean, object, oneOf, string } from '../schema.js';
import { adminSchema } from './admins.js';
import type { RouteDeps } from './common.js';

// The first admin, created through the one-time link printed at the first start (see bootstrap.ts).
export function setupRoutes({ services }: RouteDeps): AdminRoute[] {
  return [
    publicRoute({
      method: 'GET',
      path: '/api/admin/setup',
      tag: 'Session',
      summary: 'Whether the first admin still has to be created',
      responses: { 200: { description: 'Setup state', schema: object({ setupRequired: boolean() }) } },
      handle: async () => ({ body: { setupRequired: (await services.admins.count()) === 0 } }),
    }),
    publicRoute({
      method: 'POST',
      path: '/api/admin/setup/check',
      tag: 'Session',
      summary: 'What a setup link is worth, before its form is filled in (changes nothing)',
      description: 'A POST so the token stays out of URLs and access logs.',
      body: object({ token: string({ min: 1, max: 200 }) }),
      responses: {
        200: {
          description: 'valid; used or expired (restart Roster for a new link); unknown (not issued, or replaced by a later start); setup_complete (sign in instead)',
          schema: object({ status: oneOf(['valid', 'used', 'expired', 'unknown', 'setup_complete']) }),
        },
      },
      handle: async ({ body }) => ({ body: { status: await services.admins.checkSetupToken(body.token) } }),
    }),
    publicRoute({
      method: 'POST',
      path: '/api/admin/setup',
      tag: 'Session',
      summary: 'Create the first admin with the one-time setup token',
      description: 'Refused once any admin exists. Does not sign in: call POST /api/admin/session next.',
      body: object({
        token: string({ min: 1, max: 200, description: 'The token of the setup link printed at start' }),
        email: string({ format: 'email' }),
        password: string({ min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH }),
      }),
      responses: {
        201: { description: 'The first admin', schema: adminSchema },
        403: { description: 'The setup token is invalid, used or expired (code invalid_setup_token)' },
        409: { description: 'An admin already exists (code setup_complete)' },
      },
      handle: async ({ body, requestId }) => {
        const result = await services.admins.completeSetup(body, requestId);
        if (result.ok) return { status: 201, body: result.admin };
        if (result.reason === 'invalid_token') {
          throw new ApiError('invalid_setup_token', 403, 'The setup link is invalid, already used or expired. Restart Roster to print a new one.');
        }
        if (result.reason === 'setup_complete') throw new ApiError('setup_complete', 409, 'An admin already exists; sign in instead');
        throw new ApiError('conflict', 409, 'An admin with this email already exists');
      },
    }),
  ];
}
