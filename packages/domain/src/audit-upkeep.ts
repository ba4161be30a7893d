import type { Knex } from 'knex';
import { toAuditRow, type AuditEventInput } from './audit.js';

// Two ways the audit log is kept from growing without bound (issue 20, item 2): aggregates, which fold many
// like events (failed authentications of one address and client within one minute) into one row with a
// count, and retention, which deletes rows older than the `auditRetentionDays` setting.

/** What an aggregate carries in `detail` besides the event's own detail. */
export interface AggregateCounts {
  /** Events folded into this flush of the aggregate. */
  count: number;
  /** When the last of them happened. */
  lastAt: Date;
  /** The distinct reasons among them (a small fixed vocabulary). */
  reasons: string[];
}

/** Deletes at most this many rows per statement, so a first prune of a large table never holds long locks. */
const PRUNE_BATCH = 5000;

export function createAuditUpkeep(knex: Knex) {
  return {
    /**
     * Adds `counts` to the aggregate row `key` (created with `event` the first time). Several processes may
     * flush the same key: the unique index audit_events__aggregate_key makes them meet in one row.
     */
    async addToAggregate(key: string, event: AuditEventInput, counts: AggregateCounts): Promise<void> {
      const reasons = Object.fromEntries(counts.reasons.map((reason) => [reason, true]));
      const row = toAuditRow({ ...event, detail: { ...event.detail, count: counts.count, lastAt: counts.lastAt.toISOString(), reasons } });
      await knex.raw(
        `INSERT INTO audit_events (at, actor_type, client_id, admin_id, operation, resource_type, resource_id, status, duration_ms, request_id, detail, aggregate_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)
         ON CONFLICT (aggregate_key) WHERE aggregate_key IS NOT NULL DO UPDATE SET detail = audit_events.detail
           || jsonb_build_object(
                'count', coalesce((audit_events.detail->>'count')::int, 0) + (excluded.detail->>'count')::int,
                'lastAt', excluded.detail->'lastAt',
                'reasons', coalesce(audit_events.detail->'reasons', '{}'::jsonb) || (excluded.detail->'reasons'))`,
        [row.at ?? new Date(), row.actor_type, row.client_id, row.admin_id, row.operation, row.resource_type, row.resource_id, row.status, row.duration_ms, row.request_id, row.detail, key] as Knex.RawBinding[],
      );
    },

    /**
     * Deletes audit rows older than `days`, in batches; returns how many went. Safe to run in several processes
     * at once: each batch locks the rows it deletes with SKIP LOCKED, so two pruners take different rows and
     * never wait for each other, and a row already gone is simply not found.
     */
    async prune(days: number, now: Date = new Date()): Promise<number> {
      const before = new Date(now.getTime() - days * 86_400_000);
      let total = 0;
      for (;;) {
        const result = (await knex.raw(
          `DELETE FROM audit_events WHERE id IN (
             SELECT id FROM audit_events WHERE at < ? ORDER BY at LIMIT ${PRUNE_BATCH} FOR UPDATE SKIP LOCKED
           )`,
          [before],
        )) as { rowCount?: number; affectedRows?: number };
        const deleted = result.rowCount ?? result.affectedRows ?? 0;
        total += deleted;
        if (deleted < PRUNE_BATCH) return total;
      }
    },
  };
}

export type AuditUpkeep = ReturnType<typeof createAuditUpkeep>;
