// The reference for "authentication skipped" (issue 7: each authentication method must keep at least 90 % of
// the throughput of the same request without authentication). This is the built gateway's own process
// (`runServer` of apps/scim-gateway/src/server.ts, which main.ts runs: same configuration, migrations,
// middleware, routes, audit, rate limit, metrics, timeouts and shutdown), except that a request WITHOUT an
// Authorization header is taken as the SCIM client of BENCH_STATIC_TOKEN (resolved once at start) instead of
// being refused, with no await; a request with one is authenticated as usual. So one process, with one
// history and warm-up, measures both sides. It lives in the bench folder and nothing in the product can turn
// it on. Started by the harness against the benchmark database; stops on SIGTERM.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// BENCH_GATEWAY_SOURCE=1 (with `--import tsx --conditions=source`, as the harness's --source runs the gateway)
// loads the TypeScript sources instead of the build.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = process.env.BENCH_GATEWAY_SOURCE === '1';
const { runServer } = await import(pathToFileURL(path.join(root, 'apps/scim-gateway', source ? 'src/server.ts' : 'dist/server.js')).href);

await runServer({
  async prepareServices(services) {
    const { authenticator } = services;
    const authenticated = await authenticator.authenticate(`Bearer ${process.env.BENCH_STATIC_TOKEN}`);
    if (!authenticated || !authenticated.client) {
      console.error('gateway-without-auth: BENCH_STATIC_TOKEN does not authenticate');
      process.exit(2);
    }
    const { authenticate, authenticateFromCache } = authenticator;
    authenticator.authenticateFromCache = (authorization) => (authorization === undefined ? authenticated : authenticateFromCache(authorization));
    authenticator.authenticate = (authorization) => (authorization === undefined ? Promise.resolve(authenticated) : authenticate(authorization));
  },
});
