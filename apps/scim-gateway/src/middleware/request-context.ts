import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** State every request carries; routes and middleware read it from `ctx.state`. */
export interface RequestState {
  requestId: string;
  log: Logger;
  startedAt: number;
  /** Set by SCIM authentication. */
  clientId?: string;
  /** Route template for metrics and logs, set by routers. */
  route?: string;
}

/**
 * The state object of one request. The child logger (bound to the request id) is made on first use: most
 * requests log one line at most, often none at LOG_LEVEL=warn. A class rather than a per-request accessor
 * keeps every request's state the same shape for V8 (`Object.defineProperty` on a fresh object per request
 * showed in the gateway's profile).
 */
class State implements RequestState {
  #logger: Logger;
  #child: Logger | undefined;
  constructor(
    logger: Logger,
    public requestId: string,
    public startedAt: number,
  ) {
    this.#logger = logger;
  }

  get log(): Logger {
    return (this.#child ??= this.#logger.child({ requestId: this.requestId }));
  }
}

// A request id from the caller (a load balancer's X-Request-Id) is kept when it is safe to log; otherwise a
// fresh one is made. It is echoed back so an admin can quote it when reporting a problem.
export function requestContext(logger: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const state = new State(logger, requestId, performance.now());
    ctx.state = state;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const status = ctx.status;
      const failed = status >= 500;
      // The access line is built only when it is written (below info, only for failures).
      if (failed || logger.isLevelEnabled('info')) {
        // The request id goes in the line itself: a child logger made for one line costs more than the line
        // (pino serialises a child's bindings when it is made).
        const line = {
          requestId: state.requestId,
          method: ctx.method,
          path: ctx.path,
          route: (ctx.state as RequestState).route,
          status,
          durationMs: Math.round((performance.now() - state.startedAt) * 10) / 10,
          clientId: (ctx.state as RequestState).clientId,
        };
        if (failed) logger.error(line, 'request');
        else logger.info(line, 'request');
      }
    }
  };
}
