import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Knex } from '@roster/db';
import type { RequestState } from './middleware/request-context.js';

// Prometheus metrics, one registry per app (tests run several apps in one process). Labels are bounded:
// `route` is the router's path template (never the raw path, which holds ids), `client` a SCIM client id (as
// many as the admins created), `reason` a short machine word from packages/auth.

export interface Metrics {
  registry: Registry;
  /** Counts and times every request; mount first, right after the request context. */
  middleware: Middleware;
  /** Records a refused SCIM or OAuth authentication with its reason (e.g. `revoked`, `expired`, `unknown`). */
  authenticationFailed(reason: string): void;
}

export interface MetricsOptions {
  knex: Knex;
  now?: () => Date;
  /** Process-level metrics (CPU, memory, event loop lag, GC); off in tests that build many apps. */
  processMetrics?: boolean;
}

/** The expiring-credentials gauge is a database query: at most one per this many ms, however often scraped. */
const CREDENTIALS_QUERY_EVERY_MS = 30_000;
const EXPIRY_WINDOW_DAYS = 30;

/** State this module reads from other middleware: the client (scim-auth) and an authentication failure reason. */
interface MetricsState extends RequestState {
  authFailureReason?: string;
}

interface MatchedLayer {
  path: unknown;
  methods: string[];
}

/**
 * The router's path template of the route the request matched (`/scim_v2/Users/:id`), or a fixed word, so ids
 * never become label values. Read from every layer the routers matched, not from the last one that ran: a request
 * refused by middleware (401, 429) never reaches its route but is still counted under it.
 */
function routeOf(ctx: { matched?: unknown; method: string }, state: RequestState): string {
  // The SCIM surface and the admin API name the route themselves; the other routers through ctx.matched.
  if (state.route) return state.route;
  const layers = (Array.isArray(ctx.matched) ? ctx.matched : []) as MatchedLayer[];
  const routes = layers.filter((layer) => Array.isArray(layer.methods) && layer.methods.length > 0 && typeof layer.path === 'string');
  const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
  // The first specific route that takes the method handles the request; catch-alls (`/*rest`) only when nothing else matched.
  const specific = routes.filter((layer) => !(layer.path as string).includes('*'));
  const route = specific.find((layer) => layer.methods.includes(method)) ?? specific[0] ?? routes[0];
  return route ? (route.path as string) : 'unmatched';
}

interface PoolLike {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  max?: number;
}

function poolOf(knex: Knex): PoolLike | undefined {
  const pool = (knex.client as { pool?: Partial<PoolLike> }).pool;
  return pool && typeof pool.numUsed === 'function' && typeof pool.numFree === 'function' && typeof pool.numPendingAcquires === 'function'
    ? (pool as PoolLike)
    : undefined;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const { knex } = options;
  const now = options.now ?? (() => new Date());
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'roster_' });

  const requests = new Counter({
    name: 'roster_http_requests_total',
    help: 'HTTP requests by route template, method, status and SCIM client id ("none" when unauthenticated).',
    labelNames: ['route', 'method', 'status', 'client'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'roster_http_request_duration_seconds',
    help: 'HTTP request latency by route template and method.',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'roster_authentication_failures_total',
    help: 'Refused SCIM and OAuth client authentications by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  let expiring = { value: 0, at: Number.NEGATIVE_INFINITY };
  new Gauge({
    name: 'roster_credentials_expiring_soon',
    help: `Active static tokens and OAuth client secrets that expire within ${EXPIRY_WINDOW_DAYS} days (refreshed at most every ${CREDENTIALS_QUERY_EVERY_MS / 1000} s).`,
    registers: [registry],
    async collect() {
      const at = Date.now();
      if (at - expiring.at >= CREDENTIALS_QUERY_EVERY_MS) {
        try {
          const current = now();
          const until = new Date(current.getTime() + EXPIRY_WINDOW_DAYS * 86_400_000);
          const row = (await knex('scim_credentials')
            .whereNull('revoked_at')
            .where('expires_at', '>', current)
            .where('expires_at', '<=', until)
            .count<{ count: number | string }[]>({ count: '*' })
            .first()) as { count: number | string } | undefined;
          expiring = { value: Number(row?.count ?? 0), at };
        } catch {
          // The database is down: keep the last value; /readyz and the request metrics tell the story.
        }
      }
      this.set(expiring.value);
    },
  });

  const pool = poolOf(knex);
  new Gauge({
    name: 'roster_db_pool_connections',
    help: 'Database pool: connections in use, idle, and requests waiting for one (PostgreSQL; the embedded database has one fixed connection).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      if (!pool) return;
      this.set({ state: 'used' }, pool.numUsed());
      this.set({ state: 'free' }, pool.numFree());
      this.set({ state: 'pending' }, pool.numPendingAcquires());
    },
  });
  // Requests this process has begun and not yet answered, the /metrics scrape itself included: a value that
  // stays high means requests queue (for the database, or behind a slow client's body).
  let inFlight = 0;
  new Gauge({
    name: 'roster_http_requests_in_flight',
    help: 'HTTP requests this process is serving right now (the scrape itself included).',
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
  });

  const poolMax = new Gauge({ name: 'roster_db_pool_max', help: 'Largest number of database connections this process opens.', registers: [registry] });
  if (pool?.max !== undefined) poolMax.set(pool.max);

  const middleware: Middleware = async (ctx, next) => {
    const started = performance.now();
    inFlight += 1;
    try {
      await next();
    } finally {
      inFlight -= 1;
      const state = ctx.state as MetricsState;
      const route = routeOf(ctx as unknown as { matched?: unknown; method: string }, state);
      const method = ctx.method;
      requests.inc({ route, method, status: String(ctx.status), client: state.clientId ?? 'none' });
      duration.observe({ route, method }, (performance.now() - started) / 1000);
      if (state.authFailureReason) authFailures.inc({ reason: state.authFailureReason });
    }
  };

  return {
    registry,
    middleware,
    authenticationFailed: (reason) => authFailures.inc({ reason }),
  };
}

/** GET /metrics in the Prometheus text format. Deployments expose it only to the monitoring network (docs/operations.md). */
export function mountMetricsRoute(router: Router, metrics: Metrics): void {
  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
