/**
 * At most `limit` /Bulk requests run at once in one process; others wait their turn. A /Bulk body may carry
 * 1,000 operations and several MB of JSON: without a bound, ten concurrent ones hold ten parsed bodies and their
 * results in memory at the same time, and their transactions hold that many database connections. Waiting costs
 * the client latency, never an error.
 *
 * Fair per client (issue 20, item 6): when a slot frees, it goes to the waiting client that runs the fewest
 * /Bulk requests, the longest-waiting one among equals; a client's own requests keep their order. So a client
 * sending many /Bulk requests cannot keep another client's one request waiting behind all of them. A free slot
 * is taken at once by whoever asks, so one client alone still uses every slot. The caller reads the request body
 * before asking for a slot (routes/bulk.ts): a client trickling its body holds no slot.
 */
export interface BulkSlots {
  /** Runs `work` once a slot is free for `client`, and frees the slot when it settles. */
  run<T>(client: string, work: () => Promise<T>): Promise<T>;
}

interface Waiter {
  client: string;
  admit: () => void;
}

export function createBulkSlots(limit: number): BulkSlots {
  let running = 0;
  const runningBy = new Map<string, number>();
  const waiting: Waiter[] = [];

  function take(client: string): void {
    running++;
    runningBy.set(client, (runningBy.get(client) ?? 0) + 1);
  }

  function release(client: string): void {
    running--;
    const left = (runningBy.get(client) ?? 1) - 1;
    if (left <= 0) runningBy.delete(client);
    else runningBy.set(client, left);
    if (waiting.length === 0) return;
    // The waiter whose client runs the fewest; `waiting` is in arrival order, so the first such is the longest-waiting.
    let chosen = 0;
    let fewest = Infinity;
    for (let index = 0; index < waiting.length; index++) {
      const count = runningBy.get(waiting[index]!.client) ?? 0;
      if (count < fewest) {
        fewest = count;
        chosen = index;
        if (count === 0) break;
      }
    }
    const [next] = waiting.splice(chosen, 1);
    take(next!.client);
    next!.admit();
  }

  return {
    async run(client, work) {
      if (running < limit) take(client);
      else await new Promise<void>((admit) => waiting.push({ client, admit }));
      try {
        return await work();
      } finally {
        release(client);
      }
    },
  };
}
