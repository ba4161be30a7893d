import { Readable } from 'node:stream';
import Router, { type RouterMiddleware } from '@koa/router';
import type { Middleware } from 'koa';
import { isUuid, verifyCsrfToken } from '@roster/domain';
import type { Config } from '../config.js';
import type { RequestState } from '../middleware/request-context.js';
import type { Services } from '../services.js';
import { parseBody, parseQuery, shapeResponse, type AdminRoute, type SessionInput } from './define.js';
import { ApiError, adminErrorMiddleware } from './errors.js';
import { clearedSessionCookie, readJsonBody, readSessionCookie } from './http.js';
import { activityRoutes } from './routes/activity.js';
import { adminRoutes } from './routes/admins.js';
import { authProviderRoutes } from './routes/auth-providers.js';
import type { RouteDeps } from './routes/common.js';
import { directoryRoutes } from './routes/directory.js';
import { gatewayVersion, infoRoutes } from './routes/info.js';
import { oidcSignInRoutes } from './routes/oidc-sign-in.js';
import { openApiRoutes, pathParams } from './routes/openapi.js';
import { sessionRoutes } from './routes/session.js';
import { scimClientRoutes } from './routes/scim-clients.js';
import { settingsRoutes } from './routes/settings.js';
import { setupRoutes } from './routes/setup.js';
import { oidcIdentityRoutes } from './routes/oidc-identities.js';
import { schemaExtensionRoutes } from './routes/schema-extensions.js';
import { eventStreamRoutes } from './routes/event-streams.js';
import { eventSigningKeyRoutes } from './routes/event-signing-keys.js';
import { applicationRoutes } from './routes/applications.js';

export { ApiError } from './errors.js';

/** Every route of /api/admin, in the order the OpenAPI document lists them. */
export function createAdminRoutes(deps: RouteDeps): AdminRoute[] {
  const routes: AdminRoute[] = [];
  routes.push(
    ...sessionRoutes(deps),
    ...oidcSignInRoutes(deps),
    ...setupRoutes(deps),
    ...adminRoutes(deps),
    ...settingsRoutes(deps),
    ...infoRoutes(deps),
    ...authProviderRoutes(deps),
    ...scimClientRoutes(deps),
    ...directoryRoutes(deps),
    ...activityRoutes(deps),
    ...oidcIdentityRoutes(deps),
    ...schemaExtensionRoutes(deps),
    ...eventStreamRoutes(deps),
    ...eventSigningKeyRoutes(deps),
    ...applicationRoutes(deps),
    ...openApiRoutes(deps, () => routes, gatewayVersion, deps.config.publicUrl),
  );
  return routes;
}

/**
 * The admin API's own router. Each route runs, in order: session lookup (401 unauthenticated), CSRF check
 * for mutating calls (403 csrf_failed), query validation, path ids (404 for non-UUIDs: they name nothing),
 * body reading and validation, the handler, and the response filter of its declared schema.
 */
export function buildAdminRouter(routes: AdminRoute[], deps: RouteDeps): Router {
  const router = new Router();
  const secure = deps.config.publicUrl.startsWith('https:');
  for (const route of routes) {
    const names = pathParams(route.path);
    const handler: RouterMiddleware = async (ctx) => {
      const state = ctx.state as RequestState;
      state.route = route.path;
      const token = readSessionCookie(ctx);
      let session: SessionInput | undefined;
      if (token) {
        const found = await deps.services.adminSessions.authenticate(token);
        if (found) session = { ...found, token };
      }
      if (route.auth === 'session') {
        if (!session) {
          if (token) ctx.append('Set-Cookie', clearedSessionCookie({ secure }));
          throw new ApiError('unauthenticated', 401, token ? 'Your session has ended; sign in again' : 'Sign in first');
        }
        if (route.csrf && !verifyCsrfToken(session.token, ctx.get('x-csrf-token') || undefined)) {
          throw new ApiError('csrf_failed', 403, 'Missing or wrong X-CSRF-Token header; use the csrfToken of GET /api/admin/session');
        }
      }
      const query = parseQuery(route, ctx.query);
      const params: Record<string, string> = {};
      for (const name of names) {
        const value = ctx.params[name];
        if (!isUuid(value)) throw ApiError.notFound();
        params[name] = value;
      }
      const body = route.body ? parseBody(route, await readJsonBody(ctx)) : undefined;
      const reply = await route.run({ ctx, body, query, params, requestId: state.requestId, ...(session ? { session } : {}) });
      if (!reply) return;
      const status = reply.status ?? 200;
      ctx.status = status;
      if (reply.body instanceof Readable) ctx.body = reply.body;
      else if (reply.body !== undefined) ctx.body = shapeResponse(route, status, reply.body);
    };
    router.register(route.path, [route.method], handler);
  }
  return router;
}

/** Mounts /api/admin/* on the app router: one error middleware, JSON 404/405 for unknown paths. */
export function mountAdminApi(router: Router, deps: { config: Config; services: Services }): void {
  const routes = createAdminRoutes(deps);
  const admin = buildAdminRouter(routes, deps);
  const dispatch = admin.routes();
  const errors = adminErrorMiddleware();
  const handler: Middleware = (ctx, next) =>
    errors(ctx, async () => {
      // Admin responses carry session-bound data: never cached by the browser or a proxy.
      ctx.set('Cache-Control', 'no-store');
      const match = admin.match(ctx.path, ctx.method);
      if (!match.route) {
        const allowed = [...new Set(match.path.flatMap((layer) => layer.methods))];
        if (allowed.length) throw new ApiError('method_not_allowed', 405, `${ctx.method} is not allowed here; use ${allowed.join(', ')}`, undefined, { Allow: allowed.join(', ') });
        throw new ApiError('not_found', 404, `No admin API route ${ctx.method} ${ctx.path}`);
      }
      await dispatch(ctx as Parameters<typeof dispatch>[0], next);
    });
  router.all('/api/admin', handler);
  router.all('/api/admin/*rest', handler);
}
