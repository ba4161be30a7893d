import type { Middleware } from 'koa';
import { ScimError } from '../scim/errors.js';
import { sendScim } from '../scim/http.js';
import type { RequestState } from './request-context.js';

export interface RateLimitOptions {
  /** Tokens added to a client's bucket per second (sustained request rate). */
  perSecond: number;
  /** Bucket size: how many requests a client may send at once after being idle. */
  burst: number;
  /** Milliseconds since an arbitrary origin; tests inject a steppable clock. */
  now?: () => number;
  /** Told about every refused request (metrics). */
  onLimited?: (clientId: string) => void;
}

export interface TokenBucketLimiter {
  /** Takes one token from `key`'s bucket: 0 when allowed, else the seconds to wait before the next token. */
  take(key: string): number;
  /** Buckets currently held (bounded: full buckets are forgotten). */
  size(): number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Above this many buckets, full ones (idle clients) are dropped: they hold no information. */
const PRUNE_ABOVE = 10_000;

/**
 * A token bucket per key (SCIM client id). Refilled lazily on each take, so an idle client costs nothing.
 * Per process: N processes behind a load balancer allow N times the rate in total (docs/operations.md).
 */
export function createTokenBucketLimiter(options: RateLimitOptions): TokenBucketLimiter {
  const { perSecond, burst } = options;
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, Bucket>();

  function refill(bucket: Bucket, at: number): void {
    const elapsedSeconds = Math.max(0, at - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(burst, bucket.tokens + elapsedSeconds * perSecond);
    bucket.updatedAt = at;
  }

  function prune(at: number): void {
    for (const [key, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= burst) buckets.delete(key);
    }
  }

  return {
    take(key) {
      const at = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= PRUNE_ABOVE) prune(at);
        bucket = { tokens: burst, updatedAt: at };
        buckets.set(key, bucket);
      } else {
        refill(bucket, at);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return (1 - bucket.tokens) / perSecond;
    },
    size: () => buckets.size,
  };
}

/**
 * Per-SCIM-client rate limiting for /scim_v2, mounted after authentication (the bucket is the client's, not the
 * address's: identity providers send from shared egress addresses) and inside the audit middleware, so a refused
 * request is written to the provisioning log like any failed one. A refusal is 429 with Retry-After in whole
 * seconds (RFC 6585 §4) and a SCIM error body (RFC 7644 §3.12), so identity providers back off and retry.
 */
export function scimRateLimit(options: RateLimitOptions): Middleware {
  const limiter = createTokenBucketLimiter(options);
  return (ctx, next) => {
    const state = ctx.state as RequestState & { errorDetail?: string };
    const clientId = state.clientId;
    if (!clientId) return next();
    const waitSeconds = limiter.take(clientId);
    if (waitSeconds > 0) {
      const retryAfter = Math.max(1, Math.ceil(waitSeconds));
      const error = new ScimError(
        429,
        undefined,
        `too many requests from this SCIM client: at most ${options.perSecond} per second (bursts of ${options.burst}); retry after ${retryAfter} s`,
      );
      sendScim(ctx, 429, error.toJSON(), { 'Retry-After': String(retryAfter) });
      state.errorDetail = error.detail;
      options.onLimited?.(clientId);
      return Promise.resolve();
    }
    return next();
  };
}
