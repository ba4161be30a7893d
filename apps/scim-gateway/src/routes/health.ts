import type Router from '@koa/router';

// /healthz answers while the process lives; /readyz only while the database answers, so a load balancer
// stops sending traffic to a process that cannot serve it.
export function mountHealthRoutes(router: Router, deps: { databaseAnswers: (timeoutMs: number) => Promise<boolean>; isShuttingDown: () => boolean }): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    if (deps.isShuttingDown()) {
      ctx.status = 503;
      ctx.body = { status: 'shutting down' };
      return;
    }
    const ok = await deps.databaseAnswers(2000);
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ready' : 'database unavailable' };
  });
}
