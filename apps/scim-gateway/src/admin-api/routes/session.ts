import type { RequestState } from '../../middleware/request-context.js';
import { ApiError } from '../errors.js';
import { publicRoute, route, type AdminRoute } from '../define.js';
import { clearedSessionCookie, sessionCookie } from '../http.js';
import { object, string } from '../schema.js';
import { uuid, type RouteDeps } from './common.js';

const sessionSchema = object({
  id: uuid('The signed-in admin'),
  email: string(),
  csrfToken: string({ description: 'Send as X-CSRF-Token on every POST, PATCH, PUT and DELETE' }),
});

// Sign-in, the current session, sign-out. The cookie carries a random token whose hash is the session's key;
// failed sign-ins are slowed per (admin, address), and per address for unknown accounts (see createSignInThrottle).
export function sessionRoutes({ config, services }: RouteDeps): AdminRoute[] {
  const secure = config.publicUrl.startsWith('https:');
  const maxAgeSeconds = Math.floor(services.adminSessions.absoluteTimeoutMs / 1000);

  return [
    publicRoute({
      method: 'POST',
      path: '/api/admin/session',
      tag: 'Session',
      summary: 'Sign in with email and password',
      description: 'Sets the HttpOnly session cookie `roster_session` and returns the CSRF token. No X-CSRF-Token needed.',
      body: object({ email: string({ min: 1, max: 320 }), password: string({ min: 1, max: 1024 }) }),
      responses: {
        200: { description: 'Signed in; Set-Cookie carries the session', schema: sessionSchema },
        401: { description: 'Email or password is incorrect (code invalid_credentials)' },
        429: { description: 'Too many failed sign-ins for this admin from this address (or, for unknown accounts, from this address); see Retry-After' },
      },
      handle: async ({ ctx, body, session, requestId }) => {
        const address = ctx.ip || 'unknown';
        // The throttle keys on the admin the email names (found by the one email lookup), not on its spelling.
        const attempt = await services.admins.beginSignIn(body.email);
        const subject = { adminId: attempt.adminId };
        const waitMs = await services.signInThrottle.retryAfterMs(subject, address);
        if (waitMs > 0) {
          const seconds = Math.ceil(waitMs / 1000);
          throw new ApiError('too_many_attempts', 429, `Too many failed sign-ins. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds }, { 'Retry-After': String(seconds) });
        }
        const admin = await attempt.verify(body.password);
        if (!admin) {
          await services.signInThrottle.recordFailure(subject, address);
          (ctx.state as RequestState).log.info({ address }, 'admin sign-in failed');
          throw new ApiError('invalid_credentials', 401, 'Email or password is incorrect');
        }
        await services.signInThrottle.recordSuccess(admin.id, address);
        // Housekeeping without a timer: ended sessions and forgotten failures go when someone signs in.
        await Promise.all([services.adminSessions.purgeExpired(), services.signInThrottle.purgeStale()]);
        if (session) await services.adminSessions.revoke(session.token);
        const created = await services.adminSessions.create(admin.id);
        await services.admins.recordSignIn(admin.id);
        await services.audit.record({
          actorType: 'admin', adminId: admin.id, operation: 'admin.session.create', resourceType: 'AdminSession', resourceId: created.sessionId, status: 200, requestId,
        });
        ctx.set('Set-Cookie', sessionCookie(created.token, { secure, maxAgeSeconds }));
        return { body: { id: admin.id, email: admin.email, csrfToken: created.csrfToken } };
      },
    }),

    route({
      method: 'GET',
      path: '/api/admin/session',
      tag: 'Session',
      summary: 'The signed-in admin and its CSRF token',
      responses: { 200: { description: 'Signed in', schema: sessionSchema } },
      handle: ({ admin, session }) => ({ body: { id: admin.id, email: admin.email, csrfToken: session.csrfToken } }),
    }),

    route({
      method: 'DELETE',
      path: '/api/admin/session',
      tag: 'Session',
      summary: 'Sign out',
      responses: { 204: { description: 'Signed out; the cookie is cleared' } },
      handle: async ({ ctx, admin, session, requestId }) => {
        await services.adminSessions.revoke(session.token);
        await services.audit.record({
          actorType: 'admin', adminId: admin.id, operation: 'admin.session.delete', resourceType: 'AdminSession', resourceId: session.sessionId, status: 204, requestId,
        });
        ctx.set('Set-Cookie', clearedSessionCookie({ secure }));
        return { status: 204 };
      },
    }),
  ];
}
