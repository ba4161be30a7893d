import Koa from 'koa';
import Router from '@koa/router';
import { ping, type Knex } from '@roster/db';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { requestContext } from './middleware/request-context.js';
import { clientAddress } from './middleware/client-address.js';
import { securityHeaders } from './middleware/security-headers.js';
import { mountHealthRoutes } from './routes/health.js';
import { scimSurface } from './routes/index.js';
import { mountOAuthRoutes } from './oauth/index.js';
import { mountAdminApi } from './admin-api/index.js';
import { serveAdminApp } from './admin-static.js';
import { createServices, type Services } from './services.js';
import { createMetrics, mountMetricsRoute } from './metrics.js';
import { useFastQueryParser } from './query-string.js';
import { mountEventRoutes } from './events/routes.js';
import { registerEventMetrics } from './events/metrics.js';
import { mountApplicationApi } from './app-api/index.js';

export interface AppOptions {
  config: Config;
  knex: Knex;
  logger: Logger;
  /** Directory of the built admin SPA; omitted in tests that do not need it. */
  adminDistDir?: string;
  /** Lets tests inject prepared services (fakes, clocks); by default they are built from `knex`. */
  services?: Services;
  /** Also export process metrics (CPU, memory, event loop) on /metrics: the real process sets it, tests do not. */
  processMetrics?: boolean;
}

export interface RosterApp {
  app: Koa;
  services: Services;
  /** Refuse new work (readiness turns 503) while in-flight requests finish. */
  beginShutdown(): void;
}

// One Koa application, three API surfaces, each with its own error middleware:
// /scim_v2 (SCIM envelope), /oauth and /.well-known (RFC 6749/6750 errors), /api/admin ({code, message}).
export function createApp(options: AppOptions): RosterApp {
  const { config, knex, logger } = options;
  const services = options.services ?? createServices({ knex, config, logger });
  let shuttingDown = false;

  const app = new Koa({ proxy: false });
  app.silent = true;
  useFastQueryParser(app);
  app.on('error', (error: unknown) => logger.error({ err: error }, 'unhandled koa error'));

  const metrics = createMetrics({ knex, now: services.now, processMetrics: options.processMetrics ?? false });
  // Without trusted proxies ctx.ip is the socket's address, as Koa reads it: no layer needed.
  if (config.trustedProxies) app.use(clientAddress(config.trustedProxies));
  app.use(requestContext(logger));
  app.use(metrics.middleware);
  app.use(securityHeaders());
  app.use(scimSurface({ config, services }));

  const router = new Router();
  mountHealthRoutes(router, { databaseAnswers: (timeoutMs) => ping(knex, timeoutMs), isShuttingDown: () => shuttingDown });
  mountMetricsRoute(router, metrics);
  mountOAuthRoutes(router, { config, services });
  mountAdminApi(router, { config, services });
  mountEventRoutes(router, { services });
  registerEventMetrics(metrics.registry, services.events);
  mountApplicationApi(router, { config, services });
  app.use(router.routes());
  app.use(router.allowedMethods());
  if (options.adminDistDir) app.use(serveAdminApp(options.adminDistDir));

  return {
    app,
    services,
    beginShutdown: () => {
      shuttingDown = true;
    },
  };
}
