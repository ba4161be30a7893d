import type Router from '@koa/router';
import { ping, type Knex } from '@roster/db';

// /healthz answers while the process lives; /readyz only while the database answers, so a load balancer
// stops sending traffic to a process that cannot serve it.
export function mountHealthRoutes(router: Router, deps: { knex: Knex; isShuttingDown: () => boolean }): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    if (deps.isShuttingDown()) {
      ctx.status = 503;
      ctx.body = { status: 'shutting down' };
      return;
    }
    const ok = await ping(deps.knex, 2000);
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ready' : 'database unavailable' };
  });
}
