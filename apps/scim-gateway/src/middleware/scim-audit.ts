import type { Middleware } from 'koa';
import { readKindOf, type AuditEventInput, type AuditService, type ClientActivityService, type ReadCount } from '@roster/domain';
import type { Logger } from '../logger.js';
import type { RequestState } from './request-context.js';
import { cutPath } from './auth-failure-log.js';

interface AuditState extends RequestState {
  /** `application` when an application's token authenticated the request (scim-auth.ts). */
  actorType?: 'scim_client' | 'application';
  audit?: { operation: string; resourceType?: string; resourceId?: string | null };
  errorDetail?: string;
  /** The write committed its audit event in its own transaction (routes/scim-context.ts `auditRecorded`). */
  auditRecorded?: boolean;
}

/** Events wait at most this long to be written together, or until this many are waiting. */
const FLUSH_AFTER_MS = 20;
const FLUSH_AT = 500;
/** Counted reads wait at most this long in memory before their counts are added in one statement. */
export const READS_FLUSH_AFTER_MS = 1000;

/**
 * The provisioning log: every SCIM write, and every failed request, becomes an audit event with the client,
 * operation, resource, status, duration and request id. A successful write records its own event in its
 * transaction (scim/service/types.ts `auditEventOf`), so it commits with the change; what is left here are the
 * requests that changed nothing: failures (before or inside a write, whose transaction rolled back). They are
 * written after the response is decided and off the request's critical path, and in batches: the events of up to FLUSH_AFTER_MS go to the database as one
 * statement, each with the time it happened. One INSERT and one commit per write request cost about a tenth
 * of a POST /Users (docs/benchmarks.md, finding 30). `drain()` writes what is waiting and lets shutdown wait
 * for it; an event the database refuses is logged and costs only itself.
 *
 * Successful reads (GET, POST .search) are not logged one by one: they are counted in memory per client,
 * endpoint kind and UTC minute, and the counts are added to client_activity in one statement at most every
 * READS_FLUSH_AFTER_MS, so a read costs no database round trip of its own. A crash loses at most that
 * interval's counts (the requests themselves are not affected).
 */
export function scimAudit(audit: AuditService, logger: Logger, clientActivity?: ClientActivityService): { middleware: Middleware; drain(): Promise<void>; enqueue(event: AuditEventInput): void } {
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

  /** A read count as it is kept between flushes: times as numbers, the Dates made once per flush. */
  interface PendingReads {
    clientId: string;
    kind: ReadCount['kind'];
    minute: number;
    requests: number;
    lastAt: number;
  }
  let reads = new Map<string, PendingReads>();
  let readsTimer: NodeJS.Timeout | undefined;

  function flushReads(): void {
    if (readsTimer) clearTimeout(readsTimer);
    readsTimer = undefined;
    if (reads.size === 0 || !clientActivity) return;
    const counts: ReadCount[] = [];
    for (const count of reads.values()) {
      counts.push({ clientId: count.clientId, kind: count.kind, minute: new Date(count.minute), requests: count.requests, lastAt: new Date(count.lastAt) });
    }
    reads = new Map();
    const write = clientActivity
      .recordReads(counts)
      .catch((error: unknown) => logger.warn({ err: error, counts: counts.length }, 'could not record read counts'))
      .finally(() => pending.delete(write));
    pending.add(write);
  }

  // The endpoint kind per method and route template (a handful of each): worked out once, not per request.
  const kinds = new Map<string, ReadCount['kind']>();
  function kindOf(method: string, path: string): ReadCount['kind'] {
    const key = `${method} ${path}`;
    let kind = kinds.get(key);
    if (kind === undefined) {
      // The path below the SCIM base; a doubled slash (`/scim_v2//Users`) is accepted, so it is ignored here too.
      kind = readKindOf(method, path.replace(/^\/scim_v2(?=\/|$)/i, ''));
      if (kinds.size < 256) kinds.set(key, kind);
    }
    return kind;
  }

  function countRead(clientId: string, method: string, path: string): void {
    const at = Date.now();
    const minute = Math.floor(at / 60_000) * 60_000; // minuteOf's UTC minute, without two Dates per read
    const kind = kindOf(method, path);
    const key = `${clientId}|${kind}|${minute}`;
    const prev = reads.get(key);
    if (prev) {
      prev.requests += 1;
      prev.lastAt = at;
    } else {
      reads.set(key, { clientId, kind, minute, requests: 1, lastAt: at });
    }
    // unref: waiting counts never keep a stopping process alive; shutdown writes them through drain().
    readsTimer ??= setTimeout(flushReads, READS_FLUSH_AFTER_MS).unref();
  }

  const middleware: Middleware = async (ctx, next) => {
    await next();
    const state = ctx.state as AuditState;
    const failed = ctx.status >= 400;
    if (!state.audit && !failed) {
      // By the route template where the router set one (`/scim_v2/Users/:id`), so the kinds map stays small.
      if (state.clientId && clientActivity) countRead(state.clientId, ctx.method, state.route ?? ctx.path);
      return;
    }
    // Written with the write itself: it commits with the change, and a crash cannot lose it.
    if (state.auditRecorded) return;
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
      // Paths are cut (MAX_AUDIT_PATH): a client's 16 KB URL is not worth 16 KB of audit table per request.
      detail: failed ? { error: state.errorDetail ?? null, method: ctx.method, path: cutPath(ctx.path) } : { method: ctx.method, path: cutPath(ctx.path) },
    });
  };
  return {
    middleware,
    enqueue,
    drain: async () => {
      flush();
      flushReads();
      await Promise.allSettled([...pending]);
    },
  };
}
