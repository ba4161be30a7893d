import type { Middleware } from 'koa';
import { ScimError } from '../scim/errors.js';
import { sendScim } from '../scim/http.js';
import type { RequestState } from './request-context.js';

/** Retry-After of a request refused for too many in flight: the client's running requests are short. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

export interface InFlightOptions {
  /** Requests one client may have running at once (ROSTER_CLIENT_MAX_IN_FLIGHT). */
  max: number;
  /** Told about every refused request (metrics, log). */
  onLimited?: (clientId: string) => void;
}

/**
 * A cap on the requests one SCIM client has running at once in this process. The rate limit bounds requests
 * per second, not their cost: 40 parallel sorted deep pages, inside the rate, held every database connection and
 * made another client's GET by id wait 10 s (issue 20, item 5). With this cap one client holds at most `max`
 * connections, and the others keep theirs. Past it the answer is 429 with Retry-After (RFC 6585 §4) in the SCIM
 * error envelope (RFC 7644 §3.12), as for the rate limit. Mounted after authentication (the count is the
 * client's), and costs a Map lookup per request.
 */
export function clientInFlightLimit(options: InFlightOptions): Middleware {
  const running = new Map<string, number>();
  return async (ctx, next) => {
    const state = ctx.state as RequestState & { errorDetail?: string };
    const clientId = state.clientId;
    if (!clientId) return next();
    const count = running.get(clientId) ?? 0;
    if (count >= options.max) {
      const error = new ScimError(
        429,
        undefined,
        `too many requests in flight from this SCIM client: at most ${options.max} at once; wait for one to finish (retry after ${IN_FLIGHT_RETRY_AFTER_SECONDS} s)`,
      );
      sendScim(ctx, 429, error.toJSON(), { 'Retry-After': String(IN_FLIGHT_RETRY_AFTER_SECONDS) });
      state.errorDetail = error.detail;
      options.onLimited?.(clientId);
      return;
    }
    running.set(clientId, count + 1);
    try {
      await next();
    } finally {
      const left = (running.get(clientId) ?? 1) - 1;
      // Forgotten at zero: the map holds only clients with requests running.
      if (left <= 0) running.delete(clientId);
      else running.set(clientId, left);
    }
  };
}
