import { createDatabase, migrateLatest, type Database } from '@roster/db';
import { adminDistDir } from '@roster/admin';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { createApp } from './app.js';
import { createHttpServer } from './http-server.js';
import { createServices, type Services } from './services.js';
import { KeyFileError, resolveSecretBox } from './encryption-key.js';

export interface RunOptions {
  /**
   * Called with the services before the application is built on them. The benchmark's reference process
   * (bench/gateway-without-auth.mjs) replaces authentication there, so that it runs exactly this process;
   * no configuration reaches it.
   */
  prepareServices?(services: Services): void | Promise<void>;
}

/**
 * The process (main.ts): configuration, database, migrations, listen, and a graceful stop on SIGTERM/SIGINT
 * that stops readiness at once, keeps accepting for ROSTER_SHUTDOWN_GRACE_MS, then lets in-flight requests finish
 * (bounded by ROSTER_SHUTDOWN_TIMEOUT_MS) before the database closes.
 */
export async function runServer(options: RunOptions = {}): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`roster: invalid configuration: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }

  const logger = createLogger(config.logLevel);
  if (config.databaseUrl && config.limits.clientMaxInFlight >= config.dbPoolMax) {
    logger.warn(
      { clientMaxInFlight: config.limits.clientMaxInFlight, dbPoolMax: config.dbPoolMax },
      'ROSTER_CLIENT_MAX_IN_FLIGHT is not below ROSTER_DB_POOL_MAX: one client can hold every database connection',
    );
  }
  if (config.allowInsecureIssuers) {
    logger.warn('ROSTER_ALLOW_INSECURE_ISSUERS=1: http:// OIDC issuers are accepted. Never use this in production.');
  }

  const startedAt = performance.now();
  let database: Database;
  try {
    database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax, preparedStatements: config.dbPreparedStatements, statementTimeoutMs: config.limits.dbStatementTimeoutMs });
    let applied: string[];
    if (config.databaseUrl && config.limits.dbStatementTimeoutMs > 0) {
      // A migration may rightly run longer than any request's statement (an index built on a large table): it
      // gets a connection of its own, without ROSTER_DB_STATEMENT_TIMEOUT_MS.
      const migrator = await createDatabase({ url: config.databaseUrl, poolMax: 1, preparedStatements: false });
      try {
        applied = await migrateLatest(migrator.knex);
      } finally {
        await migrator.close();
      }
    } else {
      applied = await migrateLatest(database.knex);
    }
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');
  } catch (error) {
    logger.fatal({ err: error }, 'could not open the database');
    console.error(`roster: could not open the database: ${(error as Error).message}`);
    process.exit(1);
  }

  let secrets: ReturnType<typeof resolveSecretBox>;
  try {
    secrets = resolveSecretBox(config, logger);
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    console.error(`roster: ${error.message}`);
    process.exit(2);
  }
  const services = createServices({ knex: database.knex, config, logger, secrets });
  await options.prepareServices?.(services);
  const roster = createApp({ config, knex: database.knex, logger, adminDistDir, processMetrics: true, services });
  await roster.services.startup();

  const server = createHttpServer(roster.app.callback(), config.limits, logger);
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info(
      { host: config.host, port, database: database.kind, location: database.location, startMs: Math.round(performance.now() - startedAt) },
      'roster listening',
    );
    console.log(`Roster is running at http://${config.host}:${port}/admin/ (SCIM base ${config.publicUrl}/scim_v2, database: ${database.kind})`);
  });

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    // /readyz answers 503 from now on, but the listener keeps accepting for the grace period: a load balancer
    // needs a few health checks to take the process out, and meanwhile keeps sending. Closing the listener at
    // once reset the connections still waiting in the kernel's accept queue (ECONNRESET for requests sent
    // 10 ms before the signal, issue 20, item 8b). Every request accepted until close() is answered.
    logger.info({ signal }, 'shutting down');
    logger.info({ graceMs: config.limits.shutdownGraceMs }, 'not ready any more; still accepting during the grace period');
    roster.beginShutdown();
    if (config.limits.shutdownGraceMs > 0) await new Promise((resolve) => setTimeout(resolve, config.limits.shutdownGraceMs));
    logger.info('closing the listener; waiting for in-flight requests');
    const forced = setTimeout(() => {
      logger.error('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    forced.unref();
    server.close();
    server.closeIdleConnections();
    await new Promise<void>((resolve) => {
      const wait = (): void => {
        // A keep-alive connection whose request finished after close() is idle now: close it too, or it holds the exit.
        server.closeIdleConnections();
        server.getConnections((_error, count) => (count === 0 ? resolve() : setTimeout(wait, 50)));
      };
      wait();
    });
    await roster.services.shutdown();
    await database.close();
    logger.info('stopped');
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
