import compose from 'koa-compose';
import type { Middleware } from 'koa';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import type { RequestState } from '../middleware/request-context.js';
import { poolFullOf, scimErrors } from '../middleware/scim-errors.js';
import { scimAuthentication } from '../middleware/scim-auth.js';
import { scimRateLimit } from '../middleware/rate-limit.js';
import { clientInFlightLimit } from '../middleware/in-flight.js';
import { ScimError } from '../scim/errors.js';
import { buildSchemaSet, withSchemas, type SchemaSet } from '../scim/schemas/index.js';
import { createDirectoryService } from '@roster/domain';
import { createGroupService, MAX_MEMBERS_PER_REQUEST } from '../scim/service/groups.js';
import { createUserService } from '../scim/service/users.js';
import { mountBulkRoute } from './bulk.js';
import { mountDiscoveryRoutes } from './discovery.js';
import { mountResourceRoutes, searchAllAndRespond, searchParamsOf } from './resources.js';
import { ScimRoutes, type ScimContext } from './scim-routes.js';

export const SCIM_PREFIX = '/scim_v2';

const SCIM_PATH = /^\/scim_v2(\/|$)/i;

/**
 * The Keycloak SCIM plugin sends `/scim_v2//Users/ID`, others add a trailing slash, and newman lower-cases
 * paths: before routing, slashes under /scim_v2 are collapsed and a trailing one dropped. Endpoint names
 * are matched case-insensitively by the router.
 */
function normalizedScimPath(path: string): string {
  // Nearly every request is already in this form: tell it apart without three replacements.
  if (path.startsWith(SCIM_PREFIX) && !path.includes('//') && !path.endsWith('/')) return path;
  return path.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1').replace(/^\/scim_v2/i, SCIM_PREFIX);
}

/**
 * The whole SCIM surface as one middleware: a request under /scim_v2 (any case) is answered here, any other
 * passes on. Dispatching on the prefix first spares every SCIM request the matching against the admin API's
 * routes, and a SCIM request never falls through to another surface (unknown endpoints are SCIM 404s).
 *
 * Discovery (GET and HEAD) needs no credential (RFC 7644 §4); everything else, including unknown endpoints and
 * other methods on the discovery endpoints, is authenticated first, so an unauthenticated caller learns nothing
 * but the 401. A known endpoint asked with a method it does not take answers 405 with Allow (RFC 9110
 * §15.5.6), and OPTIONS answers 204 with Allow.
 */
export function scimSurface(deps: { config: Config; services: Services }): Middleware {
  const { config, services } = deps;
  const { discovery, api } = createScimRoutes(deps);
  const errorOptions = { statementTimeoutMs: config.limits.dbStatementTimeoutMs, poolFull: poolFullOf(services.knex) };
  const errors = scimErrors(errorOptions);
  // Errors become SCIM responses inside the audit middleware too, so failed requests reach the activity log.
  const authenticated = compose([
    scimAuthentication(services),
    services.scimAudit.middleware,
    scimErrors(errorOptions),
    scimRateLimit(config.rateLimit),
    // After the rate limit: a request refused for its rate never counts as running.
    clientInFlightLimit({ max: config.limits.clientMaxInFlight }),
  ]);
  // Every SCIM request is served with the schemas declared when it starts (built-in plus admin extensions):
  // without an await while the declarations and the setting are cached (scimSchemas.now()), which is nearly always.
  const withCurrentSchemas =
    <T>(work: () => Promise<T>) =>
    (): Promise<T> => {
      const set = services.scimSchemas.now();
      if (set) return withSchemas(set, work);
      return services.scimSchemas().then((read) => withSchemas(read, work));
    };
  // Discovery needs no database otherwise: while the declarations cannot be read it answers with the last set
  // this process read (the built-in schemas before the first), rather than fail.
  let lastSchemas: SchemaSet | undefined;
  const withDiscoverySchemas =
    <T>(work: () => Promise<T>) =>
    async (): Promise<T> => {
      const set = services.scimSchemas.now();
      if (set) {
        lastSchemas = set;
        return withSchemas(set, work);
      }
      try {
        lastSchemas = await services.scimSchemas();
      } catch (error) {
        services.logger.warn({ err: error }, 'extension schemas could not be read; discovery answers with the last known ones');
      }
      return withSchemas(lastSchemas ?? buildSchemaSet(), work);
    };

  return (ctx, next) => {
    const requested = ctx.path;
    if (!SCIM_PATH.test(requested)) return next();
    const normalized = normalizedScimPath(requested);
    if (normalized !== requested) ctx.path = normalized;
    const path = normalized.slice(SCIM_PREFIX.length) || '/';
    const state = ctx.state as RequestState;
    const open = discovery.match(path, ctx.method);
    if (open.route) {
      state.route = SCIM_PREFIX + open.template;
      (ctx as ScimContext).params = open.params;
      return errors(ctx, withDiscoverySchemas(async () => open.route!.run(ctx as ScimContext)));
    }
    const found = api.match(path, ctx.method);
    // Metrics and logs count a request under its endpoint even when it is refused before reaching it (401, 429).
    const template = found.template ?? open.template;
    state.route = template ? SCIM_PREFIX + template : `${SCIM_PREFIX}/*rest`;
    (ctx as ScimContext).params = found.params;
    const route = found.route;
    if (route) return errors(ctx, () => authenticated(ctx, withCurrentSchemas(async () => route.run(ctx as ScimContext))));
    return errors(ctx, () =>
      authenticated(ctx, async () => {
        const allowed = [...new Set([...found.allowed, ...open.allowed])];
        if (allowed.length === 0) {
          throw ScimError.notFound(path === '/' ? 'no such SCIM endpoint: try /scim_v2/ServiceProviderConfig' : 'no such SCIM endpoint');
        }
        const allow = [...allowed, 'OPTIONS'].join(', ');
        if (ctx.method === 'OPTIONS') {
          ctx.status = 204;
          ctx.set('Allow', allow);
          return;
        }
        throw new ScimError(405, undefined, `${ctx.method} is not allowed on this SCIM endpoint; use ${allowed.join(', ')}`, { headers: { Allow: allow } });
      }),
    );
  };
}

function createScimRoutes(deps: { config: Config; services: Services }): { discovery: ScimRoutes; api: ScimRoutes } {
  const { config, services } = deps;
  const baseUrl = `${config.publicUrl}${SCIM_PREFIX}`;
  const directory = createDirectoryService(services.knex, { settings: services.settings, maxMembersPerChange: MAX_MEMBERS_PER_REQUEST });
  const users = createUserService({ directory, baseUrl });
  const groups = createGroupService({ directory, baseUrl });

  const discovery = new ScimRoutes();
  mountDiscoveryRoutes(discovery, { publicUrl: config.publicUrl, baseUrl });

  const api = new ScimRoutes();
  mountResourceRoutes(api, 'User', users);
  mountResourceRoutes(api, 'Group', groups);
  mountBulkRoute(api, { directory, users, groups, baseUrl });
  // POST /.search at the root searches every resource type (RFC 7644 §3.4.3).
  api.on('POST', '/.search', async (ctx) => {
    await searchAllAndRespond(ctx, { users, groups }, await searchParamsOf(ctx));
  });
  // Clients are not users: there is no authenticated subject to return (RFC 7644 §3.11).
  api.on('*', '/Me', () => {
    throw ScimError.notImplemented('/Me is not supported: SCIM clients are not users of this service');
  });
  api.on('*', '/Me/*rest', () => {
    throw ScimError.notImplemented('/Me is not supported: SCIM clients are not users of this service');
  });
  return { discovery, api };
}
