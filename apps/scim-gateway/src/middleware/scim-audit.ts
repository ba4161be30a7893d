import type { Middleware } from 'koa';
import type { AuditService } from '@roster/domain';
import type { Logger } from '../logger.js';
import type { RequestState } from './request-context.js';

interface AuditState extends RequestState {
  audit?: { operation: string; resourceType?: string; resourceId?: string | null };
  errorDetail?: string;
}

/**
 * The provisioning log: every SCIM write, and every failed request, becomes an audit event with the client,
 * operation, resource, status, duration and request id. Written after the response is decided and off the
 * request's critical path; `drain()` lets shutdown wait for the last ones.
 */
export function scimAudit(audit: AuditService, logger: Logger): { middleware: Middleware; drain(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  const middleware: Middleware = async (ctx, next) => {
    await next();
    const state = ctx.state as AuditState;
    const failed = ctx.status >= 400;
    if (!state.audit && !failed) return;
    if (ctx.status === 401) return; // authentication failures are logged by the authentication middleware
    const write = audit
      .record({
        actorType: 'scim_client',
        clientId: state.clientId ?? null,
        operation: state.audit?.operation ?? `scim.${ctx.method.toLowerCase()}`,
        resourceType: state.audit?.resourceType ?? null,
        resourceId: state.audit?.resourceId ?? null,
        status: ctx.status,
        durationMs: performance.now() - state.startedAt,
        requestId: state.requestId,
        detail: failed ? { error: state.errorDetail ?? null, method: ctx.method, path: ctx.path } : { method: ctx.method, path: ctx.path },
      })
      .catch((error: unknown) => logger.warn({ err: error, requestId: state.requestId }, 'could not write audit event'))
      .finally(() => pending.delete(write));
    pending.add(write);
  };
  return {
    middleware,
    drain: async () => {
      await Promise.allSettled([...pending]);
    },
  };
}
