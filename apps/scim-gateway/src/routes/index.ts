import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import { scimErrors } from '../middleware/scim-errors.js';
import { scimAuthentication } from '../middleware/scim-auth.js';
import { scimRateLimit } from '../middleware/rate-limit.js';
import { ScimError } from '../scim/errors.js';
import { createGroupService } from '../scim/service/groups.js';
import { createUserService } from '../scim/service/users.js';
import { mountBulkRoute } from './bulk.js';
import { mountDiscoveryRoutes } from './discovery.js';
import { mountResourceRoutes, searchAllAndRespond, searchParamsOf } from './resources.js';

export const SCIM_PREFIX = '/scim_v2';

const SCIM_PATH = /^\/scim_v2(\/|$)/i;

/**
 * The Keycloak SCIM plugin sends `/scim_v2//Users/ID`, others add a trailing slash, and newman lower-cases
 * paths: before routing, slashes under /scim_v2 are collapsed and a trailing one dropped. Endpoint names
 * are matched case-insensitively by the router.
 */
function normalizedScimPath(path: string): string {
  return path.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1').replace(/^\/scim_v2/i, SCIM_PREFIX);
}

/**
 * The whole SCIM surface as one middleware: a request under /scim_v2 (any case) is answered here, any other
 * passes on. Dispatching on the prefix first spares every SCIM request the matching against the admin API's
 * routes, and a SCIM request never falls through to another surface (unknown endpoints are SCIM 404s).
 */
export function scimSurface(deps: { config: Config; services: Services }): Middleware {
  const router = createScimRouter(deps);
  const routes = router.routes();
  const allowed = router.allowedMethods();
  return (ctx, next) => {
    if (!SCIM_PATH.test(ctx.path)) return next();
    const normalized = normalizedScimPath(ctx.path);
    if (normalized !== ctx.path) ctx.path = normalized;
    return routes(ctx as Parameters<typeof routes>[0], () => allowed(ctx as Parameters<typeof allowed>[0], next));
  };
}

function createScimRouter(deps: { config: Config; services: Services }): Router {
  const { config, services } = deps;
  const baseUrl = `${config.publicUrl}${SCIM_PREFIX}`;
  const users = createUserService({ knex: services.knex, baseUrl, settings: services.settings });
  const groups = createGroupService({ knex: services.knex, baseUrl, settings: services.settings });

  const scim = new Router({ prefix: SCIM_PREFIX, sensitive: false });
  scim.use(scimErrors());

  // Discovery needs no credential (RFC 7644 §4).
  mountDiscoveryRoutes(scim, { publicUrl: config.publicUrl, baseUrl });

  const api = new Router({ sensitive: false });
  api.use(scimAuthentication(services));
  api.use(services.scimAudit.middleware);
  // Errors become SCIM responses here too, inside the audit middleware, so failed requests reach the activity log.
  api.use(scimErrors());
  api.use(scimRateLimit(config.rateLimit));
  mountResourceRoutes(api, 'User', users);
  mountResourceRoutes(api, 'Group', groups);
  mountBulkRoute(api, { knex: services.knex, users, groups, baseUrl });
  // POST /.search at the root searches every resource type (RFC 7644 §3.4.3).
  api.post('/.search', async (ctx) => {
    await searchAllAndRespond(ctx, { users, groups }, await searchParamsOf(ctx));
  });
  // Clients are not users: there is no authenticated subject to return (RFC 7644 §3.11).
  api.all('/Me', () => {
    throw ScimError.notImplemented('/Me is not supported: SCIM clients are not users of this service');
  });
  api.all('/Me/*rest', () => {
    throw ScimError.notImplemented('/Me is not supported: SCIM clients are not users of this service');
  });
  scim.use(api.routes());
  scim.use(api.allowedMethods({ throw: true }));

  scim.all('/*rest', () => {
    throw ScimError.notFound('no such SCIM endpoint');
  });
  scim.all('/', () => {
    throw ScimError.notFound('no such SCIM endpoint: try /scim_v2/ServiceProviderConfig');
  });
  return scim;
}
