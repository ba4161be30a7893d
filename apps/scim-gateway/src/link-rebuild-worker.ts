import type { Knex } from '@roster/db';
import { createLinkRebuildService, type LinkRebuildService } from '@roster/domain';
import type { Logger } from './logger.js';

/**
 * Runs rebuilds of provider links in the background of every gateway process (packages/domain
 * link-rebuilds.ts): at once when this process scheduled one (`kick`), and every `pollMs` for rebuilds another
 * process scheduled or a restart left unfinished. Batches are taken FOR UPDATE SKIP LOCKED, so processes
 * sharing a database split the work instead of repeating it; SCIM requests are served meanwhile (a batch
 * locks only its own users, FOR SHARE, for one short transaction).
 */
export function createLinkRebuildWorker(deps: { knex: Knex; logger: Logger; pollMs?: number; batchSize?: number }) {
  const service: LinkRebuildService = createLinkRebuildService(deps.knex, { batchSize: deps.batchSize });
  const pollMs = deps.pollMs ?? 5_000;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;

  function kick(): void {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          const batches = await service.runUntilIdle();
          if (batches > 0) deps.logger.info({ batches }, 'provider links rebuilt');
        } catch (error) {
          deps.logger.warn({ err: error }, 'could not rebuild provider links; retrying later');
        }
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
  }

  return {
    service,
    kick,
    start(): void {
      stopped = false;
      kick();
      timer = setInterval(kick, pollMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    /** Resolves when the work started so far has finished (tests). */
    async settled(): Promise<void> {
      while (running) await running;
    },
  };
}

export type LinkRebuildWorker = ReturnType<typeof createLinkRebuildWorker>;
