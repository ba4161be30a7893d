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

/**
 * The Keycloak SCIM plugin sends `/scim_v2//Users/ID`, others add a trailing slash, and newman lower-cases
 * paths: before routing, slashes under /scim_v2 are collapsed and a trailing one dropped. Endpoint names
 * are matched case-insensitively by the router.
 */
export function normalizeScimPath(): Middleware {
  return async (ctx, next) => {
    if (/^\/scim_v2(\/|$)/i.test(ctx.path)) {
      const normalized = ctx.path.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
      const withPrefix = normalized.replace(/^\/scim_v2/i, SCIM_PREFIX);
      if (withPrefix !== ctx.path) ctx.path = withPrefix;
    }
    await next();
  };
}

export function mountScimRoutes(router: Router, deps: { config: Config; services: Services }): void {
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
  router.use(scim.routes());
  router.use(scim.allowedMethods());
}
