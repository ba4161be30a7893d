import type { AuditUpkeep } from '@roster/domain';
import type { Logger } from '../logger.js';

// Failed authentications (SCIM 401/400/403 from the credential check, /oauth/token 401s) are the one kind of
// request a stranger can send without limit. Each used to write an audit row with the whole path (up to
// 16 KB) and a log line: one client wrote 540 rows a second and a 236 MB log. Now they are counted in memory
// per (surface, client address, client, minute) and written as one aggregate audit row with a count
// (audit_events.aggregate_key), flushed every FLUSH_MS and on shutdown; the first failure of an aggregate
// writes one log line, the rest only count. At most FLUSH_MS of counts live only in memory, the price of
// not writing per request; several processes add to the same row.

/** Paths kept in audit rows are cut to this many characters. */
export const MAX_AUDIT_PATH = 512;
const FLUSH_MS = 5000;
/** Past this many open aggregates a flush runs at once, so a flood of made-up addresses cannot grow memory. */
const MAX_OPEN = 10_000;

export function cutPath(path: string): string {
  return path.length > MAX_AUDIT_PATH ? `${path.slice(0, MAX_AUDIT_PATH - 1)}…` : path;
}

export interface AuthFailure {
  surface: 'scim' | 'oauth';
  /** Whose credential failed: a SCIM client's (default) or an application's. */
  actorType?: 'scim_client' | 'application';
  /** The audit operation. Default `auth.failure`; the token endpoint's other refusals are `oauth.token.refused`. */
  operation?: string;
  address: string;
  clientId: string | null;
  reason: string;
  status: number;
  method: string;
  path: string;
  requestId: string | null;
  /** The request's logger: the first failure of an aggregate is logged through it (request id included). */
  log?: Logger | undefined;
}

interface Aggregate {
  first: AuthFailure;
  at: Date;
  count: number;
  lastAt: Date;
  reasons: Set<string>;
}

export interface AuthFailureLogOptions {
  upkeep: AuditUpkeep;
  logger: Logger;
  now?: () => Date;
  flushMs?: number;
}

export function createAuthFailureLog(options: AuthFailureLogOptions) {
  const { upkeep, logger } = options;
  const now = options.now ?? (() => new Date());
  const flushMs = options.flushMs ?? FLUSH_MS;
  /** Open aggregates of the current minutes; an entry stays after a flush (count 0) so its log line is not repeated. */
  const open = new Map<string, Aggregate>();
  const pending = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const currentMinute = Math.floor(now().getTime() / 60_000);
    // Full: forget every aggregate once written (a later failure of one logs a line again), so a flood from
    // many addresses costs one pass per MAX_OPEN failures, not one per failure.
    const full = open.size >= MAX_OPEN;
    for (const [key, aggregate] of open) {
      if (aggregate.count > 0) {
        const { first } = aggregate;
        const write = upkeep
          .addToAggregate(
            key,
            {
              at: aggregate.at,
              actorType: first.actorType ?? 'scim_client',
              clientId: first.clientId,
              operation: first.operation ?? 'auth.failure',
              status: first.status,
              requestId: first.requestId,
              detail: { aggregate: true, surface: first.surface, address: first.address, reason: first.reason, method: first.method, path: cutPath(first.path) },
            },
            { count: aggregate.count, lastAt: aggregate.lastAt, reasons: [...aggregate.reasons] },
          )
          .catch((error: unknown) => logger.warn({ err: error, count: aggregate.count }, 'could not record failed authentications'))
          .finally(() => pending.delete(write));
        pending.add(write);
        aggregate.count = 0;
        aggregate.reasons.clear();
      }
      if (full || Math.floor(aggregate.at.getTime() / 60_000) < currentMinute) open.delete(key);
    }
  }

  return {
    record(failure: AuthFailure): void {
      const at = now();
      const minute = Math.floor(at.getTime() / 60_000);
      const key = `${failure.surface}|${failure.actorType ?? 'scim_client'}|${failure.operation ?? 'auth.failure'}|${minute}|${failure.address}|${failure.clientId ?? ''}`;
      let aggregate = open.get(key);
      if (!aggregate) {
        aggregate = { first: failure, at, count: 0, lastAt: at, reasons: new Set() };
        open.set(key, aggregate);
        (failure.log ?? logger).info(
          { reason: failure.reason, clientId: failure.clientId ?? undefined, status: failure.status, address: failure.address },
          failure.surface === 'scim' ? 'SCIM authentication failed (further failures of this address and client this minute are only counted)' : 'token request refused (further failures of this address and client this minute are only counted)',
        );
      }
      aggregate.count += 1;
      aggregate.lastAt = at;
      aggregate.reasons.add(failure.reason);
      if (open.size >= MAX_OPEN) flush();
      else if (!timer) {
        timer = setTimeout(flush, flushMs);
        timer.unref();
      }
    },

    /** Writes every count still in memory and waits for the writes (shutdown, tests). */
    async drain(): Promise<void> {
      flush();
      await Promise.allSettled([...pending]);
    },
  };
}

export type AuthFailureLog = ReturnType<typeof createAuthFailureLog>;
