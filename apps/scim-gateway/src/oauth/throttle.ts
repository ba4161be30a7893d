// Slows down guessing at the token endpoint: after `limit` failed client authentications within `windowMs`
// for one client id or one address, further attempts for that key are refused with 429 and Retry-After
// until the window ends. Kept in memory: each process throttles on its own, which bounds the guessing rate
// per process; the secrets themselves have 256 bits, so this is about noise and log volume, not entropy.

export interface FailureThrottleOptions {
  /** Failed attempts allowed per key and window. Default 10. */
  limit?: number;
  /** Window length in ms. Default 60 s. */
  windowMs?: number;
  /** Keys tracked at most (oldest dropped first). Default 10,000. */
  maxKeys?: number;
  now?: () => Date;
}

export function createFailureThrottle(options: FailureThrottleOptions = {}) {
  const limit = options.limit ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? (() => new Date());
  const windows = new Map<string, { count: number; start: number }>();

  function current(key: string, at: number): { count: number; start: number } | undefined {
    const window = windows.get(key);
    if (window && at - window.start >= windowMs) {
      windows.delete(key);
      return undefined;
    }
    return window;
  }

  return {
    /** Seconds to wait when any of `keys` is over the limit, else null. */
    retryAfter(keys: readonly string[]): number | null {
      const at = now().getTime();
      let wait = 0;
      for (const key of keys) {
        const window = current(key, at);
        if (window && window.count >= limit) wait = Math.max(wait, Math.ceil((window.start + windowMs - at) / 1000));
      }
      return wait > 0 ? wait : null;
    },
    failed(keys: readonly string[]): void {
      const at = now().getTime();
      for (const key of keys) {
        const window = current(key, at);
        if (window) window.count += 1;
        else {
          if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
          windows.set(key, { count: 1, start: at });
        }
      }
    },
  };
}

export type FailureThrottle = ReturnType<typeof createFailureThrottle>;
