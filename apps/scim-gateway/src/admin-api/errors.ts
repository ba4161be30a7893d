import type { Middleware } from 'koa';
import { DomainError, type DomainErrorCode } from '@roster/domain';
import type { RequestState } from '../middleware/request-context.js';
import { isPoolExhausted, isStatementTimeout } from '../scim/db-errors.js';

// Errors of the admin JSON API: `{ code, message, details? }` with a fitting status. One middleware turns
// ApiError and DomainError into that shape; anything else is a bug, answered with a generic 500 that
// leaks nothing and logged with the request id the response carries (X-Request-Id and the body).

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new Error(`ApiError status ${status} is not an error status`);
  }

  static notFound(what = 'Resource'): ApiError {
    return new ApiError('not_found', 404, `${what} not found`);
  }
}

export const DOMAIN_ERROR_STATUS: Record<DomainErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  in_use: 409,
  invalid_input: 400,
  immutable: 400,
  // A dependency (an identity provider's discovery endpoint, a metadata URL) did not answer usably.
  unavailable: 502,
};

interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
  requestId?: string;
}

/** Errors thrown below (body readers, koa's own) that carry an HTTP status meant for the client. */
function clientHttpError(error: unknown): { status: number; expose: boolean; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, expose, message } = error as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return { status, expose: expose === true, message: typeof message === 'string' ? message : 'Bad request' };
}

export function adminErrorMiddleware(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const state = ctx.state as RequestState;
      let status: number;
      let body: ErrorBody;
      if (error instanceof ApiError) {
        status = error.status;
        body = { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
        for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
      } else if (error instanceof DomainError) {
        status = DOMAIN_ERROR_STATUS[error.code] ?? 400;
        body = { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
      } else if (clientHttpError(error)) {
        const http = clientHttpError(error)!;
        status = http.status;
        body = { code: status === 413 ? 'payload_too_large' : 'bad_request', message: http.expose ? http.message : 'Bad request' };
      } else if (isStatementTimeout(error) || isPoolExhausted(error)) {
        // ROSTER_DB_STATEMENT_TIMEOUT_MS cancelled the query, or no pool connection came free in time (issue 20,
        // item 5): the request was too expensive or the process is busy, not a bug.
        const timeout = isStatementTimeout(error);
        status = 503;
        body = timeout
          ? { code: 'query_too_expensive', message: 'The query ran longer than the statement timeout and was cancelled; narrow the search' }
          : { code: 'busy', message: 'Every database connection is in use; retry shortly' };
        ctx.set('Retry-After', timeout ? '5' : '1');
        state.log.warn({ err: error, method: ctx.method, path: ctx.path }, timeout ? 'admin api: statement cancelled by statement_timeout' : 'admin api: no free database connection');
      } else {
        status = 500;
        body = { code: 'internal_error', message: 'Internal error', requestId: state.requestId };
        state.log.error({ err: error, method: ctx.method, path: ctx.path }, 'admin api: unhandled error');
      }
      ctx.status = status;
      ctx.type = 'application/json';
      ctx.body = body;
      if (status === 401) ctx.set('WWW-Authenticate', 'Cookie realm="roster-admin"');
    }
  };
}
