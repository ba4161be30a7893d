import { vi } from 'vitest';

// vi.waitFor gives up after 1 s by default: a route change or a rendered error can take longer than that when the
// machine runs a whole CI suite. Waits here end when the assertion holds; the bound only stops one that never will.
export const WAIT_TIMEOUT_MS = 30_000;

/** Retries `assertion` until it passes (or the generous bound passes, with its last error). */
export function eventually<T>(assertion: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(assertion, { timeout: WAIT_TIMEOUT_MS, interval: 20 });
}
