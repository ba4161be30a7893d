import type { Knex } from 'knex';

export type AuditActorType = 'scim_client' | 'admin' | 'system' | 'application';

export interface AuditEventInput {
  actorType: AuditActorType;
  clientId?: string | null;
  adminId?: string | null;
  /** What happened, e.g. `scim.user.create`, `admin.scim_client.create`, `auth.failure`. */
  operation: string;
  resourceType?: string | null;
  resourceId?: string | null;
  status?: number | null;
  durationMs?: number | null;
  requestId?: string | null;
  /** Non-secret detail (an error message, changed fields). Never a credential. */
  detail?: Record<string, unknown> | null;
  /** When it happened; the time of the insert when left out. */
  at?: Date;
}

export interface AuditEvent extends Required<Omit<AuditEventInput, 'detail' | 'at'>> {
  id: number;
  at: Date;
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  clientId?: string;
  adminId?: string;
  resourceId?: string;
  /** `error` (status >= 400), `success` (< 400) or an exact status. */
  status?: 'error' | 'success' | number;
  operationPrefix?: string;
  from?: Date;
  to?: Date;
  q?: string;
  limit?: number;
  offset?: number;
}

export interface AuditRow {
  id: number;
  at: Date;
  actor_type: AuditActorType;
  client_id: string | null;
  admin_id: string | null;
  operation: string;
  resource_type: string | null;
  resource_id: string | null;
  status: number | null;
  duration_ms: number | null;
  request_id: string | null;
  detail: Record<string, unknown> | null;
}

export const AUDIT_COLUMNS = ['id', 'at', 'actor_type', 'client_id', 'admin_id', 'operation', 'resource_type', 'resource_id', 'status', 'duration_ms', 'request_id', 'detail'];

export function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    id: Number(row.id),
    at: new Date(row.at),
    actorType: row.actor_type,
    clientId: row.client_id,
    adminId: row.admin_id,
    operation: row.operation,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    status: row.status,
    durationMs: row.duration_ms,
    requestId: row.request_id,
    detail: row.detail,
  };
}

export function toAuditRow(event: AuditEventInput): Record<string, unknown> {
  return {
    ...(event.at ? { at: event.at } : {}),
    actor_type: event.actorType,
    client_id: event.clientId ?? null,
    admin_id: event.adminId ?? null,
    operation: event.operation,
    resource_type: event.resourceType ?? null,
    resource_id: event.resourceId ?? null,
    status: event.status ?? null,
    duration_ms: event.durationMs === undefined || event.durationMs === null ? null : Math.round(event.durationMs),
    request_id: event.requestId ?? null,
    detail: event.detail ? JSON.stringify(event.detail) : null,
  };
}

/**
 * Many events as one statement with one parameter, a JSON array of rows: knex's multi-row insert compiled
 * eleven placeholders per event and pg serialised each, which cost more of the gateway's CPU than a sign-in
 * resolution's own lookup (docs/benchmarks.md, "Sign-in resolution (issue 19)"). Column types as declared.
 */
const INSERT_EVENTS_SQL =
  'INSERT INTO audit_events (at, actor_type, client_id, admin_id, operation, resource_type, resource_id, status, duration_ms, request_id, detail) ' +
  'SELECT at, actor_type, client_id, admin_id, operation, resource_type, resource_id, status, duration_ms, request_id, detail FROM json_to_recordset(?::json) ' +
  'AS e(at timestamptz, actor_type text, client_id uuid, admin_id uuid, operation text, resource_type text, resource_id text, status integer, duration_ms integer, request_id text, detail jsonb)';

/** An event as a row of INSERT_EVENTS_SQL's recordset: toAuditRow's values, with `detail` as JSON (not a string of it). */
function recordsetRow(event: AuditEventInput): Record<string, unknown> {
  return {
    at: event.at ?? new Date(),
    actor_type: event.actorType,
    client_id: event.clientId ?? null,
    admin_id: event.adminId ?? null,
    operation: event.operation,
    resource_type: event.resourceType ?? null,
    resource_id: event.resourceId ?? null,
    status: event.status ?? null,
    duration_ms: event.durationMs === undefined || event.durationMs === null ? null : Math.round(event.durationMs),
    request_id: event.requestId ?? null,
    detail: event.detail ?? null,
  };
}

/** Applies the filters of an AuditQuery to a query on audit_events: the one definition the list, the CSV export and the admin screens share. */
export function applyAuditFilters(builder: Knex.QueryBuilder, query: AuditQuery): Knex.QueryBuilder {
  if (query.clientId) builder.where('client_id', query.clientId);
  if (query.adminId) builder.where('admin_id', query.adminId);
  if (query.resourceId) builder.where('resource_id', query.resourceId);
  if (query.status === 'error') builder.where('status', '>=', 400);
  else if (query.status === 'success') builder.where('status', '<', 400);
  else if (typeof query.status === 'number') builder.where('status', query.status);
  if (query.operationPrefix) builder.whereLike('operation', `${escapeLike(query.operationPrefix)}%`);
  if (query.from) builder.where('at', '>=', query.from);
  if (query.to) builder.where('at', '<', query.to);
  if (query.q) {
    const like = `%${escapeLike(query.q)}%`;
    builder.where((inner) => inner.whereILike('operation', like).orWhereILike('resource_id', like).orWhereILike('request_id', like));
  }
  return builder;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** The provisioning and administration log (audit_events). */
export function createAuditService(knex: Knex) {
  const filtered = (query: AuditQuery): Knex.QueryBuilder => applyAuditFilters(knex('audit_events'), query);

  return {
    /** Records one event; `trx` keeps it in the same transaction as the change it describes. */
    async record(event: AuditEventInput, trx: Knex | Knex.Transaction = knex): Promise<void> {
      await trx('audit_events').insert(toAuditRow(event));
    },

    /**
     * Records several events in one statement, each with its own time (`at`). Should the database refuse the
     * statement, each event is tried alone, so one bad event costs only itself; returns the events that could
     * not be written, with why.
     */
    async recordMany(events: AuditEventInput[]): Promise<Array<{ event: AuditEventInput; error: unknown }>> {
      if (events.length === 0) return [];
      try {
        await knex.raw(INSERT_EVENTS_SQL, [JSON.stringify(events.map(recordsetRow))]);
        return [];
      } catch (error) {
        if (events.length === 1) return [{ event: events[0]!, error }];
      }
      const rows = events.map((event) => toAuditRow({ ...event, at: event.at ?? new Date() }));
      const failed: Array<{ event: AuditEventInput; error: unknown }> = [];
      for (const [index, row] of rows.entries()) {
        try {
          await knex('audit_events').insert(row);
        } catch (error) {
          failed.push({ event: events[index]!, error });
        }
      }
      return failed;
    },

    async list(query: AuditQuery = {}): Promise<{ items: AuditEvent[]; total: number }> {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 1000);
      const offset = Math.max(query.offset ?? 0, 0);
      const [rows, [count]] = await Promise.all([
        filtered(query).select(AUDIT_COLUMNS).orderBy('id', 'desc').limit(limit).offset(offset),
        filtered(query).count<Array<{ total: number }>>('* as total'),
      ]);
      return { items: (rows as AuditRow[]).map(toAuditEvent), total: Number(count?.total ?? 0) };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
