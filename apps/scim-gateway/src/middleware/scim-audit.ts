import type { Middleware } from 'koa';
import type { AuditEventInput, AuditService } from '@roster/domain';
import type { Logger } from '../logger.js';
import type { RequestState } from './request-context.js';

interface AuditState extends RequestState {
  /** `application` when an application's token authenticated the request (scim-auth.ts). */
  actorType?: 'scim_client' | 'application';
  audit?: { operation: string; resourceType?: string; resourceId?: string | null };
  errorDetail?: string;
}

/** Events wait at most this long to be written together, or until this many are waiting. */
const FLUSH_AFTER_MS = 20;
const FLUSH_AT = 500;

/**
 * The provisioning log: every SCIM write, and every failed request, becomes an audit event with the client,
 * operation, resource, status, duration and request id. Written after the response is decided and off the
 * request's critical path, and in batches: the events of up to FLUSH_AFTER_MS go to the database as one
 * statement, each with the time it happened. One INSERT and one commit per write request cost about a tenth
 * of a POST /Users (docs/benchmarks.md, finding 30). `drain()` writes what is waiting and lets shutdown wait
 * for it; an event the database refuses is logged and costs only itself.
 */
export function scimAudit(audit: AuditService, logger: Logger): { middleware: Middleware; drain(): Promise<void>; enqueue(event: AuditEventInput): void } {
  const pending = new Set<Promise<void>>();
  let waiting: AuditEventInput[] = [];
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const batch = waiting;
    waiting = [];
    const write = audit
      .recordMany(batch)
      .then((failed) => {
        for (const { event, error } of failed) logger.warn({ err: error, requestId: event.requestId, operation: event.operation }, 'could not write audit event');
      })
      .catch((error: unknown) => logger.warn({ err: error, events: batch.length }, 'could not write audit events'))
      .finally(() => pending.delete(write));
    pending.add(write);
  }

  function enqueue(event: AuditEventInput): void {
    waiting.push(event);
    if (waiting.length >= FLUSH_AT) flush();
    else timer ??= setTimeout(flush, FLUSH_AFTER_MS);
  }

  const middleware: Middleware = async (ctx, next) => {
    await next();
    const state = ctx.state as AuditState;
    const failed = ctx.status >= 400;
    if (!state.audit && !failed) return;
    if (ctx.status === 401) return; // authentication failures are logged by the authentication middleware
    enqueue({
      at: new Date(),
      actorType: state.actorType ?? 'scim_client',
      clientId: state.clientId ?? null,
      operation: state.audit?.operation ?? `scim.${ctx.method.toLowerCase()}`,
      resourceType: state.audit?.resourceType ?? null,
      resourceId: state.audit?.resourceId ?? null,
      status: ctx.status,
      durationMs: performance.now() - state.startedAt,
      requestId: state.requestId,
      detail: failed ? { error: state.errorDetail ?? null, method: ctx.method, path: ctx.path } : { method: ctx.method, path: ctx.path },
    });
  };
  return {
    middleware,
    enqueue,
    drain: async () => {
      flush();
      await Promise.allSettled([...pending]);
    },
  };
}
