// The reference for "authentication skipped" (issue 7: each authentication method must keep at least 90 % of
// the throughput of the same request without authentication). This is the built gateway exactly as
// `node apps/scim-gateway/dist/main.js` runs it (same configuration, middleware, routes, audit, rate limit and
// metrics), except that a request WITHOUT an Authorization header is taken as the SCIM client of
// BENCH_STATIC_TOKEN (resolved once at start) instead of being refused; a request with one is authenticated as
// usual. So one process, with one history and warm-up, measures both sides. It lives in the bench folder and
// nothing in the product can turn it on. Started by the harness against the benchmark database; stops on SIGTERM.
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// BENCH_GATEWAY_SOURCE=1 (with `--import tsx --conditions=source`, as the harness's --source runs the gateway)
// loads the TypeScript sources instead of the build.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = process.env.BENCH_GATEWAY_SOURCE === '1';
const gateway = (name) => import(pathToFileURL(path.join(root, 'apps/scim-gateway', source ? `src/${name}.ts` : `dist/${name}.js`)).href);
const fromGateway = createRequire(path.join(root, 'apps/scim-gateway/package.json'));

const [{ loadConfig }, { createLogger }, { createApp }, { createServices }, db] = await Promise.all([
  gateway('config'),
  gateway('logger'),
  gateway('app'),
  gateway('services'),
  import(pathToFileURL(source ? path.join(root, 'packages/db/src/index.ts') : fromGateway.resolve('@roster/db')).href),
]);

const config = loadConfig();
const logger = createLogger(config.logLevel);
const database = await db.createDatabase({ url: config.databaseUrl, poolMax: config.dbPoolMax, preparedStatements: config.dbPreparedStatements });
const services = createServices({ knex: database.knex, config, logger });
const token = process.env.BENCH_STATIC_TOKEN;
const authenticated = await services.authenticator.authenticate(`Bearer ${token}`);
if (!authenticated || !authenticated.client) {
  console.error('gateway-without-auth: BENCH_STATIC_TOKEN does not authenticate');
  process.exit(2);
}
const authenticate = services.authenticator.authenticate;
services.authenticator.authenticate = (authorization) => (authorization === undefined ? Promise.resolve(authenticated) : authenticate(authorization));

const roster = createApp({ config, knex: database.knex, logger, services });
const server = http.createServer(roster.app.callback());
server.keepAliveTimeout = 65_000;
server.listen(config.port, config.host);

const stop = () => {
  server.close(() => void roster.services.shutdown().then(() => database.close()).then(() => process.exit(0)));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
