import type { Knex } from '@roster/db';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

// Wiring happens once, here: every service is built from its repositories and handed to the routes.
export interface Services {
  knex: Knex;
  config: Config;
  logger: Logger;
  /** Work to do once the database is migrated (bootstrap admin, timers). */
  startup(): Promise<void>;
  /** Stops timers and flushes buffered writes before the database closes. */
  shutdown(): Promise<void>;
}

export function createServices(deps: { knex: Knex; config: Config; logger: Logger }): Services {
  const { knex, config, logger } = deps;
  return {
    knex,
    config,
    logger,
    startup: async () => {},
    shutdown: async () => {},
  };
}
