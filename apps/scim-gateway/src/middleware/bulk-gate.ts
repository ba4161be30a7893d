import type { Middleware } from 'koa';

/**
 * At most `limit` /Bulk requests run at once in one process; others wait their turn (FIFO). A /Bulk body may
 * carry 1,000 operations and several MB of JSON: without a bound, ten concurrent ones hold ten parsed bodies
 * and their results in memory at the same time. Waiting costs the client latency, never an error.
 */
export function bulkGate(limit: number): Middleware {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (_ctx, next) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      await next();
    } finally {
      const resume = waiting.shift();
      if (resume) resume();
      else running--;
    }
  };
}
