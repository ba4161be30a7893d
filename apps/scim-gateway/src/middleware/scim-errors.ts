import type { Middleware } from 'koa';
import { ScimError } from '../scim/errors.js';
import { isDatabaseUnavailable, isPoolExhausted, isStatementTimeout, isTransientConflict, scimErrorFromDatabase } from '../scim/db-errors.js';
import { sendScim } from '../scim/http.js';
import type { RequestState } from './request-context.js';

/** Seconds a client should wait before retrying while the database is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The one error middleware of /scim_v2: every failure leaves as a SCIM error envelope (RFC 7644 §3.12).
 * Client mistakes are 4xx with a precise detail; an unavailable database is 503 with Retry-After, so identity
 * providers retry instead of giving up; anything else is a 500 whose body leaks nothing but the request id.
 */
/** Seconds a client should wait before retrying when every database connection of the process was busy. */
export const POOL_EXHAUSTED_RETRY_AFTER_SECONDS = 1;

export interface ScimErrorOptions {
  /** ROSTER_DB_STATEMENT_TIMEOUT_MS, quoted in the error of a cancelled statement. */
  statementTimeoutMs?: number;
  /**
   * Whether every pool connection is in use right now. knex times out acquiring a connection both when all are
   * busy and when none can be opened (PostgreSQL down): only the first is "busy", the second stays "unavailable".
   */
  poolFull?: () => boolean;
}

/** `poolFull` for a knex instance: its pool's connections in use reached its maximum (tarn's Pool). */
export function poolFullOf(knex: unknown): () => boolean {
  const pool = (knex as { client?: { pool?: { numUsed?: () => number; max?: number } } }).client?.pool;
  return () => typeof pool?.numUsed === 'function' && typeof pool.max === 'number' && pool.numUsed() >= pool.max;
}

export function scimErrors(options: ScimErrorOptions = {}): Middleware {
  const limit = options.statementTimeoutMs ? ` of ${options.statementTimeoutMs} ms` : '';
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const state = ctx.state as RequestState;
      const scim = error instanceof ScimError ? error : scimErrorFromDatabase(error);
      if (scim) {
        sendScim(ctx, scim.status, scim.toJSON(), scim.headers);
        (ctx.state as { errorDetail?: string }).errorDetail = scim.detail;
        return;
      }
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500 && (error as { expose?: boolean }).expose) {
        // Errors raised by Koa itself for malformed requests (e.g. an undecodable URL).
        sendScim(ctx, status, new ScimError(status, undefined, (error as Error).message).toJSON());
        return;
      }
      if (isStatementTimeout(error)) {
        // A read that ran past the statement timeout asked for more than the server is willing to compute: 400
        // tooMany (RFC 7644 §3.12). A write that did is more likely waiting behind others: 503, retry later.
        const read = ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.path.endsWith('/.search');
        state.log.warn({ err: error }, 'statement cancelled by statement_timeout');
        const cancelled = read
          ? ScimError.tooMany(
              `the query was too expensive: it ran longer than the limit${limit} and was cancelled; narrow the filter (fewer co, ew and [...] clauses), sort less, or ask for smaller pages`,
            )
          : new ScimError(503, undefined, `the request's database work ran longer than the limit${limit} and was cancelled; nothing was changed; retry later`);
        sendScim(ctx, cancelled.status, cancelled.toJSON(), read ? {} : { 'Retry-After': String(RETRY_AFTER_SECONDS) });
        (ctx.state as { errorDetail?: string }).errorDetail = cancelled.detail;
        return;
      }
      if (isPoolExhausted(error) && (options.poolFull?.() ?? true)) {
        state.log.warn('every database connection is busy: a request waited too long for one (ROSTER_DB_POOL_MAX)');
        const busy = new ScimError(503, undefined, 'the server is busy: every database connection of this process is in use; retry shortly');
        sendScim(ctx, 503, busy.toJSON(), { 'Retry-After': String(POOL_EXHAUSTED_RETRY_AFTER_SECONDS) });
        (ctx.state as { errorDetail?: string }).errorDetail = busy.detail;
        return;
      }
      const conflict = isTransientConflict(error);
      if (conflict || isDatabaseUnavailable(error)) {
        state.log.warn({ err: error }, conflict ? 'transaction aborted by the database to resolve a conflict' : 'database unavailable');
        const unavailable = new ScimError(
          503,
          undefined,
          conflict ? 'the request conflicted with a concurrent one and was rolled back; send it again' : 'the directory database is unavailable; retry later',
        );
        sendScim(ctx, 503, unavailable.toJSON(), { 'Retry-After': String(RETRY_AFTER_SECONDS) });
        (ctx.state as { errorDetail?: string }).errorDetail = unavailable.detail;
        return;
      }
      state.log.error({ err: error }, 'unexpected error');
      const internal = new ScimError(500, undefined, `internal error; quote request id ${state.requestId} when reporting it`);
      sendScim(ctx, 500, internal.toJSON());
      (ctx.state as { errorDetail?: string }).errorDetail = 'internal error';
    }
  };
}
