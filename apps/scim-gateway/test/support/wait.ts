// Waiting in tests: for a condition, never for a time. A test on a loaded machine (two cores shared by a whole
// CI run) may be many times slower than on a quiet one, so a wait ends when what it waits for holds, and gives up
// only after a generous deadline, with a message naming what never happened.

/** The deadline of every wait unless told otherwise: long enough for a machine under full load. */
export const WAIT_TIMEOUT_MS = 60_000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns a value other than undefined, and answers it. Errors thrown by `check` count as
 * "not yet" (the last one is reported if the deadline passes).
 */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined> | T | undefined, options: { timeoutMs?: number; everyMs?: number } = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? WAIT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await pause(options.everyMs ?? 25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/** Lets every callback already queued (promise reactions, I/O callbacks) run: a turn of the event loop, not a time. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
