// Slows down guessing at the token endpoint. Failed client authentications are counted per (address, client
// id): past `limit` within `windowMs`, a further *wrong* credential for that pair is answered 429 with
// Retry-After instead of 401. A correct credential is verified and answered as always: the secrets have 256
// bits, so the count is about noise and log volume, not entropy, and refusing a right secret would let a
// stranger lock out a named client (a per-client key) or everyone behind one address (a per-address key).
// Kept in memory: each process throttles on its own, which bounds the rate of refusals per process.

export interface FailureThrottleOptions {
  /** Failed attempts allowed per (address, client id) and window. Default 10. */
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
    /** Seconds to wait when any of `keys` is over the limit, else null (for the answer to a wrong credential). */
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

/** The throttle key of a token request: the client's address (ROSTER_TRUSTED_PROXIES) and the client id named. */
export function failureKey(address: string, clientId: string | undefined): string {
  return `${address}\n${clientId ?? ''}`;
}
