import type { Knex } from 'knex';
import { toAuditRow as toAuditRowFields, type AuditEventInput } from '../audit.js';
import { directoryChangesTable } from '../models/index.js';
import {
  CHANGE_LOG_START,
  MEMBERS_PER_CHANGE,
  type ChangeContext,
  type ChangeCursor,
  type ChangeDetail,
  type ChangeInput,
  type ChangeKind,
  type ChangeResourceType,
  type DirectoryChange,
} from './types.js';

type Db = Knex | Knex.Transaction;

/** The channel writers notify at commit (NOTIFY is delivered only when the transaction commits). */
export const CHANGE_CHANNEL = 'roster_directory_changes';

const TABLE = directoryChangesTable.table;
const C = directoryChangesTable.columns;

// The columns of a change record other than the shared context, and how the JSON parameter is read as rows.
export const CHANGE_RECORD_COLUMNS = [C.kind, C.resourceType, C.resourceId, C.externalId, C.ownerClientId, C.actorType, C.actorId, C.requestId, C.detail].join(', ');
const AUDIT_RECORDSET =
  'json_to_recordset(?::json) AS e(at timestamptz, actor_type text, client_id uuid, admin_id uuid, operation text, resource_type text, ' +
  'resource_id text, status int, duration_ms int, request_id text, detail jsonb)';

/**
 * The data-modifying CTE `${name}` inserting a request's audit event (0 or 1 rows, one JSON parameter) in the
 * statement of the change itself: the event commits with the write it describes (DESIGN.md, Principles).
 * `resourceId` is SQL for the resource id when the statement itself creates it (POST /Users), else the event's.
 */
export function auditEventCte(name: string, from = '', resourceId = 'e.resource_id'): string {
  return (
    `${name} AS (INSERT INTO audit_events (at, actor_type, client_id, admin_id, operation, resource_type, resource_id, status, duration_ms, request_id, detail) ` +
    `SELECT coalesce(e.at, now()), e.actor_type, e.client_id, e.admin_id, e.operation, e.resource_type, ${resourceId}, e.status, e.duration_ms, e.request_id, e.detail ` +
    `FROM ${from ? `${from}, ` : ''}${AUDIT_RECORDSET} RETURNING 1)`
  );
}

/** The JSON parameter of auditEventCte: `[]` without an event. */
export function auditEventParameter(audit: AuditEventInput | null | undefined): string {
  if (!audit) return '[]';
  // As toAuditRow, with the detail as an object: json_to_recordset reads it into jsonb as it is.
  return JSON.stringify([{ ...toAuditRowFields(audit), detail: audit.detail ?? null }]);
}

/** Wakes waiting readers at commit: a FROM item that runs pg_notify once when the CTE `cte` returned a row. */
export function notifyWhenAny(cte: string): string {
  return `(SELECT count(*) AS notified FROM (SELECT pg_notify('${CHANGE_CHANNEL}', '') FROM (SELECT 1 FROM ${cte} LIMIT 1) AS any_change) AS n) AS notify`;
}

/**
 * Wakes change-log readers after commits made outside a transaction of the caller's, without a NOTIFY inside
 * them: PostgreSQL serializes the commits of notifying transactions (a database-wide lock from PreCommit_Notify
 * to the end of the commit, WAL flush included), which held concurrent POST /Users to one commit flush at a
 * time (pgbench, 10 clients: 4,000-6,700 inserts/s without, 530-680/s with a pg_notify; docs/benchmarks.md).
 * `notify()` is called after the commit; one `pg_notify` runs at a time on its own, and calls while one is
 * running ask for exactly one more after it, so every commit is followed by a NOTIFY sent after it. A failed
 * NOTIFY is only a late wake-up: readers poll anyway (pollIntervalMs).
 */
export function createChangeNotifier(knex: Knex): { notify(): void } | undefined {
  // Only PostgreSQL serializes notifying commits and has other processes listening; elsewhere the NOTIFY stays in the statement.
  if (!isPostgres(knex)) return undefined;
  let running = false;
  let again = false;
  function run(): void {
    running = true;
    again = false;
    knex
      .raw('SELECT pg_notify(?, ?)', [CHANGE_CHANNEL, ''])
      .catch(() => {})
      .finally(() => {
        running = false;
        if (again) run();
      });
  }
  return {
    notify(): void {
      if (running) again = true;
      else run();
    },
  };
}

// One statement records every change of a transaction (and the request's audit event, if any) and wakes the
// waiting readers of other processes: the rows arrive as JSON parameters, so the statement's text (and its
// plan) does not depend on the count.
const INSERT_CHANGES_SQL =
  `WITH c AS (INSERT INTO ${TABLE} (${CHANGE_RECORD_COLUMNS}) ` +
  `SELECT r.${C.kind}, r.${C.resourceType}, r.${C.resourceId}, r.${C.externalId}, r.${C.ownerClientId}, ?, ?::uuid, ?, r.${C.detail} ` +
  `FROM json_to_recordset(?::json) AS r(${C.kind} text, ${C.resourceType} text, ${C.resourceId} uuid, ${C.externalId} text, ${C.ownerClientId} uuid, ${C.detail} jsonb) ` +
  `RETURNING 1), ${auditEventCte('a')} SELECT notify.notified FROM ${notifyWhenAny('c')}`;

// Rows whose transaction is older than the oldest one still running: all of them have committed or rolled back,
// so nothing can still appear before the cursor of a reader that has read them (migration
// 20261207000100_create_directory_changes explains why `position` alone is not enough).
const READ_SQL =
  `SELECT ${C.position}, ${C.txId}::text AS ${C.txId}, ${C.at}, ${C.kind}, ${C.resourceType}, ${C.resourceId}, ${C.externalId}, ${C.ownerClientId}, ` +
  `${C.actorType}, ${C.actorId}, ${C.requestId}, ${C.detail} ` +
  `FROM ${TABLE} WHERE (${C.txId}, ${C.position}) > (?::text::xid8, ?::bigint) AND ${C.txId} < pg_snapshot_xmin(pg_current_snapshot()) ` +
  `ORDER BY ${C.txId}, ${C.position} LIMIT ?`;

const PRUNE_SQL = `DELETE FROM ${TABLE} WHERE ${C.position} IN (SELECT ${C.position} FROM ${TABLE} WHERE ${C.at} < now() - make_interval(secs => ?) ORDER BY ${C.at} LIMIT ?)`;

interface ChangeRow {
  [C.position]: string | number;
  [C.txId]: string;
  [C.at]: Date | string;
  [C.kind]: ChangeKind;
  [C.resourceType]: ChangeResourceType;
  [C.resourceId]: string;
  [C.externalId]: string | null;
  [C.ownerClientId]: string | null;
  [C.actorType]: DirectoryChange['actor']['type'];
  [C.actorId]: string | null;
  [C.requestId]: string | null;
  [C.detail]: ChangeDetail | string | null;
}

const CURSOR = /^(\d{1,20})\.(\d{1,20})$/;
const MAX_BIGINT = 9223372036854775807n;

export class InvalidChangeCursorError extends Error {
  override name = 'InvalidChangeCursorError';
}

/** Parses a cursor; refuses anything that is not one (a reader's bug, or input from outside). */
export function parseChangeCursor(cursor: ChangeCursor): { txId: bigint; position: bigint } {
  const match = CURSOR.exec(cursor);
  if (!match) throw new InvalidChangeCursorError(`not a change-log cursor: ${JSON.stringify(cursor).slice(0, 60)}`);
  const txId = BigInt(match[1]!);
  const position = BigInt(match[2]!);
  if (txId > MAX_BIGINT || position > MAX_BIGINT) throw new InvalidChangeCursorError('change-log cursor out of range');
  return { txId, position };
}

function cursorOf(txId: string | bigint, position: string | number | bigint): ChangeCursor {
  return `${txId}.${position}`;
}

function toChange(row: ChangeRow): DirectoryChange {
  const stored = row[C.detail];
  const detail = typeof stored === 'string' ? (JSON.parse(stored) as ChangeDetail) : (stored ?? {});
  return {
    position: Number(row[C.position]),
    cursor: cursorOf(row[C.txId], row[C.position]),
    kind: row[C.kind],
    resourceType: row[C.resourceType],
    resourceId: row[C.resourceId],
    externalId: row[C.externalId],
    ownerClientId: row[C.ownerClientId],
    actor: { type: row[C.actorType], id: row[C.actorId] },
    requestId: row[C.requestId],
    at: new Date(row[C.at]),
    detail,
  };
}

/**
 * Records changes in the caller's transaction: they commit with the change they describe, or not at all.
 * A membership change naming more than MEMBERS_PER_CHANGE members is split into records of that size, in order.
 * `audit`, the request's audit event, is written by the same statement (audit that cannot be lost).
 */
export async function recordChanges(trx: Db, context: ChangeContext, changes: readonly ChangeInput[], audit?: AuditEventInput | null): Promise<void> {
  if (changes.length === 0 && !audit) return;
  const rows: Array<Record<string, unknown>> = [];
  for (const change of changes) {
    const base = {
      [C.kind]: change.kind,
      [C.resourceType]: change.resourceType,
      [C.resourceId]: change.resourceId,
      [C.externalId]: change.externalId ?? null,
      [C.ownerClientId]: change.ownerClientId ?? null,
    };
    const members = change.detail?.members;
    if (members && members.length > MEMBERS_PER_CHANGE) {
      for (let start = 0; start < members.length; start += MEMBERS_PER_CHANGE) {
        rows.push({ ...base, [C.detail]: { ...change.detail, members: members.slice(start, start + MEMBERS_PER_CHANGE) } });
      }
    } else {
      rows.push({ ...base, [C.detail]: change.detail ?? null });
    }
  }
  await trx.raw(INSERT_CHANGES_SQL, [context.actor.type, context.actor.id, context.requestId ?? null, JSON.stringify(rows), auditEventParameter(audit)]);
}

export interface ReadChangesOptions {
  /** Read what follows this cursor; `CHANGE_LOG_START` (the default) reads from the oldest retained change. */
  after?: ChangeCursor;
  /** At most this many changes (1 to 10,000; default 1,000). */
  limit?: number;
}

export interface ChangePage {
  changes: DirectoryChange[];
  /** Pass as `after` to read on: the last change's cursor, or `after` itself when nothing was new. */
  cursor: ChangeCursor;
}

export interface WaitChangesOptions extends ReadChangesOptions {
  /** How long to wait for a first change when there is none yet (at most 60,000 ms). */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ChangeLogOptions {
  /**
   * How often a waiting reader looks again without a notification. PostgreSQL wakes readers by LISTEN/NOTIFY
   * and this only bounds the delay after a missed notification (a reconnect); the embedded database has no
   * other process to notify it and polls at this interval.
   */
  pollIntervalMs?: number;
  onListenError?: (error: unknown) => void;
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return 1000;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  return Math.min(limit, 10_000);
}

function isPostgres(knex: Knex): boolean {
  const client = (knex.client as { config?: { client?: unknown } }).config?.client;
  return client === 'pg' || client === 'postgres' || client === 'postgresql';
}

interface Waiter {
  wake(): void;
}

/**
 * The directory change log for consumers: event streams, applications, the admin app.
 * `read` pages through it; `wait` blocks until something new is readable (or the timeout passes).
 */
export function createChangeLog(knex: Knex, options: ChangeLogOptions = {}) {
  const postgres = isPostgres(knex);
  const pollIntervalMs = options.pollIntervalMs ?? (postgres ? 1000 : 200);
  const waiters = new Set<Waiter>();
  let listener: { connection: ListenConnection; closing: boolean } | undefined;
  let listening: Promise<void> | undefined;
  let closed = false;

  interface ListenConnection {
    query(sql: string): Promise<unknown>;
    on(event: 'notification' | 'error' | 'end', handler: (...args: unknown[]) => void): void;
    removeAllListeners(): void;
    end(): Promise<void>;
  }

  function wakeAll(): void {
    for (const waiter of waiters) waiter.wake();
  }

  // One dedicated connection per process LISTENs for commits of other processes (and of this one). It is not
  // taken from the pool, so a busy pool never delays a wake-up. Lost connections are re-made on the next wait;
  // meanwhile the poll interval bounds the delay.
  function ensureListening(): void {
    if (!postgres || closed || listener || listening) return;
    listening = (async () => {
      const client = knex.client as { acquireRawConnection(): Promise<ListenConnection> };
      const connection = await client.acquireRawConnection();
      const entry = { connection, closing: false };
      const drop = (error?: unknown) => {
        if (listener !== entry) return;
        listener = undefined;
        connection.removeAllListeners();
        connection.on('error', () => {});
        if (!entry.closing) {
          options.onListenError?.(error);
          void connection.end().catch(() => {});
        }
      };
      connection.on('notification', wakeAll);
      connection.on('error', drop);
      connection.on('end', drop);
      listener = entry;
      await connection.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (closed) await close();
    })()
      .catch((error: unknown) => {
        options.onListenError?.(error);
        if (listener) {
          const { connection } = listener;
          listener = undefined;
          connection.removeAllListeners();
          void connection.end().catch(() => {});
        }
      })
      .finally(() => {
        listening = undefined;
      });
  }

  async function read(readOptions: ReadChangesOptions = {}, db: Db = knex): Promise<ChangePage> {
    const after = readOptions.after ?? CHANGE_LOG_START;
    const { txId, position } = parseChangeCursor(after);
    const limit = clampLimit(readOptions.limit);
    const result = (await db.raw(READ_SQL, [txId.toString(), position.toString(), limit])) as { rows: ChangeRow[] };
    const changes = result.rows.map(toChange);
    return { changes, cursor: changes.length > 0 ? changes[changes.length - 1]!.cursor : after };
  }

  async function close(): Promise<void> {
    closed = true;
    wakeAll();
    const entry = listener;
    listener = undefined;
    if (entry) {
      entry.closing = true;
      entry.connection.removeAllListeners();
      entry.connection.on('error', () => {});
      await entry.connection.end().catch(() => {});
    }
  }

  return {
    read,

    /**
     * Waits until at least one change after `after` is readable, then answers like `read`; answers an empty page
     * when `timeoutMs` passes first, the signal aborts, or the log is closed.
     */
    async wait(waitOptions: WaitChangesOptions): Promise<ChangePage> {
      const timeoutMs = Math.min(Math.max(0, waitOptions.timeoutMs), 60_000);
      const deadline = Date.now() + timeoutMs;
      ensureListening();
      for (;;) {
        let woken = false;
        let wake: () => void = () => {};
        const waiter: Waiter = {
          wake: () => {
            woken = true;
            wake();
          },
        };
        // Registered before reading, so a commit between the read and the sleep is not missed.
        waiters.add(waiter);
        try {
          const page = await read(waitOptions);
          const remaining = deadline - Date.now();
          if (page.changes.length > 0 || remaining <= 0 || closed || waitOptions.signal?.aborted) return page;
          if (!woken) {
            // Whichever ends the sleep (the poll timer, a notification, the signal) undoes the other two, so a
            // long-lived signal does not collect one listener per sleep.
            await new Promise<void>((resolve) => {
              const done = () => {
                clearTimeout(timer);
                waitOptions.signal?.removeEventListener('abort', done);
                resolve();
              };
              const timer = setTimeout(done, Math.min(remaining, pollIntervalMs));
              waitOptions.signal?.addEventListener('abort', done, { once: true });
              wake = done;
            });
          }
        } finally {
          waiters.delete(waiter);
        }
      }
    },

    /**
     * The cursor of "now": reading after it returns every change whose transaction had not finished when it was
     * taken, and what comes later. A transaction that committed just before may be read again (at least once).
     */
    async head(db: Db = knex): Promise<ChangeCursor> {
      const result = (await db.raw('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin')) as { rows: Array<{ xmin: string }> };
      const xmin = BigInt(result.rows[0]!.xmin);
      return cursorOf(xmin > 0n ? xmin - 1n : 0n, MAX_BIGINT);
    },

    /**
     * Deletes changes older than `days` days, in batches, and answers how many went. Safe with several
     * processes: each batch is one statement, and rows another process deleted first are simply not counted.
     */
    async prune(days: number, batchSize = 10_000): Promise<number> {
      if (!Number.isFinite(days) || days < 0) throw new RangeError('days must be zero or more');
      let total = 0;
      for (;;) {
        const result = (await knex.raw(
          PRUNE_SQL,
          [days * 86_400, batchSize],
        )) as { rowCount?: number; affectedRows?: number };
        const deleted = Number(result.rowCount ?? result.affectedRows ?? 0);
        total += deleted;
        if (deleted < batchSize) return total;
      }
    },

    /** Stops listening and wakes every waiting reader. */
    close,
  };
}

export type ChangeLog = ReturnType<typeof createChangeLog>;
