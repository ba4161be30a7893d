import { loadConfig } from '../config.js';
import type { Services } from '../services.js';
import { createAdminRoutes } from './index.js';
import { buildOpenApiDocument } from './routes/openapi.js';
import { gatewayVersion } from './routes/info.js';
import type { JsonSchema } from './schema.js';

/**
 * The admin API's OpenAPI 3.1 document without a running gateway: the route declarations only need their
 * services when a request arrives, so an inert stand-in serves to build them. The admin app's build generates
 * its API types from this document (apps/admin: `pnpm api:types`), so a route change the app does not follow
 * fails its typecheck.
 */
export function adminOpenApiDocument(): JsonSchema {
  // Any property, call or number read at declaration time (a timeout turned into a cookie max-age) is inert.
  const inert: unknown = new Proxy(() => inert, { get: (_target, key) => (key === Symbol.toPrimitive ? () => 0 : inert), apply: () => inert });
  const config = loadConfig({ PUBLIC_URL: 'http://localhost:8080', LOG_LEVEL: 'silent' });
  const routes = createAdminRoutes({ config, services: inert as Services });
  return buildOpenApiDocument(routes, { publicUrl: config.publicUrl, version: gatewayVersion });
}
