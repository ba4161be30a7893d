import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AuditService } from '../audit.js';
import type { ChangeLog } from '../changes/change-log.js';
import { CHANGE_LOG_START, parseChangeCursor } from '../changes/index.js';
import { isUuid } from '../directory/rows.js';
import { DomainError, assertThat, mapUniqueViolations, systemClock, type Clock } from '../errors.js';
import { generateSecret, hashesEqual, hashSecret, secretHint } from '../scim-clients.js';
import { createSecretBox, UnreadableSecretError, type SecretBox } from '../secret-box.js';
import { PROV_EVENTS, type EventDelivery, type EventStream, type ProvEvent, type StreamDelivery, type StreamFormat, type StreamLag, type StreamState } from './types.js';
import { directoryChangesTable } from '../models/index.js';

// Event streams as the admin manages them (docs/events.md). Validation of what the admin sends lives here, so the
// admin API and any other caller get the same rules and messages.

const C = directoryChangesTable.columns;
// The changes after a stream's place, counted up to a limit (lag).
const LAG_SQL =
  `SELECT count(*)::int AS events, min(${C.at}) AS oldest FROM (SELECT ${C.at} FROM ${directoryChangesTable.table} ` +
  `WHERE (${C.txId}, ${C.position}) > (?::text::xid8, ?::bigint) LIMIT ?) AS behind`;

const TABLE = 'event_streams';
export const POLL_TOKEN_PREFIX = 'roster_ev_';
/** Lag is counted up to this many changes (the count is a bounded scan; the admin sees "10000+"). */
export const LAG_COUNT_LIMIT = 10_000;

export interface StreamRow {
  id: string;
  name: string;
  delivery: StreamDelivery;
  endpoint_url: string | null;
  audience: string;
  /** Stored sealed with the stream id as AAD (secret-box.ts); read it with openAuthorizationHeader. */
  authorization_header: string | null;
  events: ProvEvent[] | string | null;
  format: StreamFormat;
  client_ids: string[] | string | null;
  state: StreamState;
  cursor: string;
  poll_token_hash: string | null;
  poll_token_hint: string | null;
  lease_owner: string | null;
  lease_until: Date | null;
  retry_attempt: number;
  next_attempt_at: Date | null;
  failing_since: Date | null;
  last_delivery_at: Date | null;
  last_delivery_status: string | null;
  last_error: string | null;
  delivered_count: number | string;
  failed_count: number | string;
  created_at: Date;
  updated_at: Date;
}

function jsonArray<T>(value: T[] | string | null): T[] | null {
  if (value === null) return null;
  return typeof value === 'string' ? (JSON.parse(value) as T[]) : value;
}

function date(value: Date | string | null): Date | null {
  return value === null ? null : new Date(value);
}

export function streamEvents(row: Pick<StreamRow, 'events'>): ProvEvent[] {
  return jsonArray(row.events) ?? [...PROV_EVENTS];
}

export function streamClientIds(row: Pick<StreamRow, 'client_ids'>): string[] | null {
  return jsonArray(row.client_ids);
}

export function toEventStream(row: StreamRow): EventStream {
  return {
    id: row.id,
    name: row.name,
    delivery: row.delivery,
    endpointUrl: row.endpoint_url,
    audience: row.audience,
    hasAuthorizationHeader: row.authorization_header !== null,
    events: streamEvents(row),
    format: row.format,
    clientIds: streamClientIds(row),
    state: row.state,
    pollTokenHint: row.poll_token_hint,
    lastDeliveryAt: date(row.last_delivery_at),
    lastDeliveryStatus: row.last_delivery_status,
    lastError: row.last_error,
    nextAttemptAt: date(row.next_attempt_at),
    failingSince: date(row.failing_since),
    deliveredCount: Number(row.delivered_count),
    failedCount: Number(row.failed_count),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export interface CreateStreamInput {
  name: string;
  delivery: StreamDelivery;
  endpointUrl?: string | null;
  audience: string;
  authorizationHeader?: string | null;
  events?: string[];
  format: StreamFormat;
  clientIds?: string[] | null;
  /** Where the stream starts in the change log: "now" (default) or "oldest" (the oldest retained change). */
  startAt?: 'now' | 'oldest';
}

export type UpdateStreamInput = Partial<Omit<CreateStreamInput, 'delivery' | 'startAt'>>;

export interface EventStreamServiceOptions {
  changeLog: ChangeLog;
  /** ROSTER_ALLOW_INSECURE_ISSUERS=1: http:// push endpoints are accepted (development and tests only). */
  allowInsecureEndpoints: boolean;
  audit?: AuditService;
  now?: Clock;
  /** Encrypts the push Authorization header at rest; default: none (stored plain:). */
  secrets?: SecretBox;
}

/** The Authorization header value to send; throws UnreadableSecretError when this process cannot decrypt it. */
export function openAuthorizationHeader(row: Pick<StreamRow, 'id' | 'authorization_header'>, secrets: SecretBox): string | null {
  return row.authorization_header === null ? null : secrets.open(row.authorization_header, row.id);
}

/**
 * Marks a stream failing because its Authorization header cannot be decrypted: sending without it would only be
 * refused, and the admin must act (restore the key, or enter the header again and resume).
 */
export async function markAuthorizationHeaderUnreadable(knex: Knex, row: Pick<StreamRow, 'id' | 'authorization_header'>, error: UnreadableSecretError): Promise<void> {
  const message = `The push Authorization header cannot be decrypted: ${error.message}. Set ROSTER_ENCRYPTION_KEY to include that key, or enter the header again; then resume.`;
  await knex(TABLE)
    .where({ id: row.id, authorization_header: row.authorization_header })
    .update({ state: 'failing', failing_since: knex.raw('coalesce(failing_since, now())'), last_error: message.slice(0, 500), lease_owner: null, lease_until: null });
}

/** Accepts `urn:...:prov:create`, and for convenience the qualified `...:create:notice` / `:full` forms. */
export function normalizeEvents(events: string[]): ProvEvent[] {
  const wanted = new Set<ProvEvent>();
  events.forEach((event, index) => {
    const base = event.replace(/:(notice|full)$/, '') as ProvEvent;
    if (!PROV_EVENTS.includes(base)) {
      throw new DomainError('invalid_input', `events[${index}]: ${JSON.stringify(event).slice(0, 120)} is not an RFC 9967 provisioning event; use one of ${PROV_EVENTS.join(', ')}`, { field: 'events' });
    }
    wanted.add(base);
  });
  assertThat(wanted.size > 0, 'invalid_input', 'events must name at least one event (leave it out for all)', { field: 'events' });
  return PROV_EVENTS.filter((event) => wanted.has(event));
}

export function validateEndpointUrl(value: string, allowInsecure: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DomainError('invalid_input', 'endpointUrl must be an absolute URL', { field: 'endpointUrl' });
  }
  if (url.protocol === 'http:') {
    assertThat(allowInsecure, 'invalid_input', 'endpointUrl must use https:// (http:// only with ROSTER_ALLOW_INSECURE_ISSUERS=1, for development)', { field: 'endpointUrl' });
  } else {
    assertThat(url.protocol === 'https:', 'invalid_input', 'endpointUrl must use https://', { field: 'endpointUrl' });
  }
  assertThat(!url.username && !url.password, 'invalid_input', 'endpointUrl must not carry credentials; use authorizationHeader', { field: 'endpointUrl' });
  assertThat(!url.hash, 'invalid_input', 'endpointUrl must not have a #fragment', { field: 'endpointUrl' });
  return url.toString();
}

function validateAuthorizationHeader(value: string): string {
  // A header value must not contain line breaks or other control characters (RFC 9110 §5.5).
  // eslint-disable-next-line no-control-regex
  assertThat(!/[\u0000-\u001f\u007f]/.test(value), 'invalid_input', 'authorizationHeader must not contain control characters or line breaks', { field: 'authorizationHeader' });
  return value;
}

export function createEventStreamService(knex: Knex, options: EventStreamServiceOptions) {
  const now = options.now ?? systemClock;
  const { changeLog } = options;
  const secrets = options.secrets ?? createSecretBox();

  async function rowOf(id: string, db: Knex | Knex.Transaction = knex): Promise<StreamRow> {
    if (!isUuid(id)) throw DomainError.notFound('Event stream', id);
    const row = (await db(TABLE).where({ id }).first()) as StreamRow | undefined;
    if (!row) throw DomainError.notFound('Event stream', id);
    return row;
  }

  async function checkClients(clientIds: string[] | null | undefined): Promise<string[] | null> {
    if (!clientIds) return null;
    clientIds.forEach((id, index) => assertThat(isUuid(id), 'invalid_input', `clientIds[${index}] is not a SCIM client id`, { field: 'clientIds' }));
    const unique = [...new Set(clientIds)];
    assertThat(unique.length > 0, 'invalid_input', 'clientIds must name at least one SCIM client (leave it out for every resource)', { field: 'clientIds' });
    const found = (await knex('scim_clients').whereIn('id', unique).pluck('id')) as string[];
    const missing = unique.filter((id) => !found.includes(id));
    assertThat(missing.length === 0, 'invalid_input', `clientIds: no SCIM client ${missing.join(', ')}`, { field: 'clientIds', missing });
    return unique;
  }

  const conflicts = { event_streams__lower_name: () => new DomainError('conflict', 'An event stream with this name exists', { field: 'name' }) };

  async function record(operation: string, adminId: string | undefined, id: string, detail?: Record<string, unknown>): Promise<void> {
    await options.audit?.record({ actorType: adminId ? 'admin' : 'system', adminId: adminId ?? null, operation, resourceType: 'EventStream', resourceId: id, detail: detail ?? null });
  }

  return {
    async list(query: { limit?: number; offset?: number; q?: string } = {}): Promise<{ items: EventStream[]; total: number }> {
      const base = knex(TABLE).modify((q) => {
        if (query.q) q.whereRaw('lower(name) LIKE ?', [`%${query.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`]);
      });
      const [rows, count] = await Promise.all([
        base.clone().orderBy([{ column: 'name' }, { column: 'id' }]).limit(query.limit ?? 50).offset(query.offset ?? 0),
        base.clone().count<Array<{ count: string | number }>>({ count: '*' }),
      ]);
      return { items: (rows as StreamRow[]).map(toEventStream), total: Number(count[0]?.count ?? 0) };
    },

    async get(id: string): Promise<EventStream> {
      return toEventStream(await rowOf(id));
    },

    /** Creates a stream; a poll stream's answer carries its bearer token, the only time it is shown. */
    async create(input: CreateStreamInput, adminId?: string): Promise<EventStream & { token?: string }> {
      const name = input.name.trim();
      assertThat(name.length > 0, 'invalid_input', 'name must not be blank', { field: 'name' });
      let endpointUrl: string | null = null;
      if (input.delivery === 'push') {
        assertThat(input.endpointUrl, 'invalid_input', 'endpointUrl is required for push delivery', { field: 'endpointUrl' });
        endpointUrl = validateEndpointUrl(input.endpointUrl, options.allowInsecureEndpoints);
      } else {
        assertThat(!input.endpointUrl, 'invalid_input', 'endpointUrl is for push delivery; a poll stream is read at its poll endpoint', { field: 'endpointUrl' });
        assertThat(!input.authorizationHeader, 'invalid_input', 'authorizationHeader is for push delivery', { field: 'authorizationHeader' });
      }
      const authorizationHeader = input.authorizationHeader ? validateAuthorizationHeader(input.authorizationHeader) : null;
      const events = input.events === undefined ? null : normalizeEvents(input.events);
      const clientIds = await checkClients(input.clientIds);
      const cursor = input.startAt === 'oldest' ? CHANGE_LOG_START : await changeLog.head();
      const token = input.delivery === 'poll' ? generateSecret(POLL_TOKEN_PREFIX) : undefined;
      // The id is chosen here because the sealed header is bound to it (additional authenticated data).
      const id = randomUUID();
      const [row] = (await mapUniqueViolations(
        () =>
          knex(TABLE)
            .insert({
              id,
              name,
              delivery: input.delivery,
              endpoint_url: endpointUrl,
              audience: input.audience,
              authorization_header: authorizationHeader === null ? null : secrets.seal(authorizationHeader, id),
              events: events ? JSON.stringify(events) : null,
              format: input.format,
              client_ids: clientIds ? JSON.stringify(clientIds) : null,
              cursor,
              poll_token_hash: token ? hashSecret(token) : null,
              poll_token_hint: token ? secretHint(token) : null,
            })
            .returning('*'),
        conflicts,
      )) as StreamRow[];
      await record('admin.event_stream.create', adminId, row!.id, { name, delivery: input.delivery });
      return { ...toEventStream(row!), ...(token ? { token } : {}) };
    },

    async update(id: string, input: UpdateStreamInput, adminId?: string): Promise<EventStream> {
      const row = await rowOf(id);
      const changes: Record<string, unknown> = {};
      if (input.name !== undefined) {
        const name = input.name.trim();
        assertThat(name.length > 0, 'invalid_input', 'name must not be blank', { field: 'name' });
        changes.name = name;
      }
      if (input.endpointUrl !== undefined) {
        assertThat(row.delivery === 'push', 'invalid_input', 'endpointUrl is for push delivery', { field: 'endpointUrl' });
        assertThat(input.endpointUrl, 'invalid_input', 'endpointUrl is required for push delivery', { field: 'endpointUrl' });
        changes.endpoint_url = validateEndpointUrl(input.endpointUrl, options.allowInsecureEndpoints);
      }
      if (input.authorizationHeader !== undefined) {
        assertThat(row.delivery === 'push' || input.authorizationHeader === null, 'invalid_input', 'authorizationHeader is for push delivery', { field: 'authorizationHeader' });
        changes.authorization_header = input.authorizationHeader ? secrets.seal(validateAuthorizationHeader(input.authorizationHeader), id) : null;
      }
      if (input.audience !== undefined) changes.audience = input.audience;
      if (input.format !== undefined) changes.format = input.format;
      if (input.events !== undefined) changes.events = JSON.stringify(normalizeEvents(input.events));
      if (input.clientIds !== undefined) {
        const clientIds = await checkClients(input.clientIds);
        changes.client_ids = clientIds ? JSON.stringify(clientIds) : null;
      }
      const [updated] = (await mapUniqueViolations(() => knex(TABLE).where({ id }).update({ ...changes, updated_at: now() }).returning('*'), conflicts)) as StreamRow[];
      await record('admin.event_stream.update', adminId, id, { fields: Object.keys(input) });
      return toEventStream(updated!);
    },

    async remove(id: string, adminId?: string): Promise<void> {
      await rowOf(id);
      await knex(TABLE).where({ id }).delete();
      await record('admin.event_stream.delete', adminId, id);
    },

    /** Stops delivery; the stream keeps its place, and everything after it waits until resume. */
    async pause(id: string, adminId?: string): Promise<EventStream> {
      await rowOf(id);
      const [row] = (await knex(TABLE).where({ id }).update({ state: 'paused', updated_at: now() }).returning('*')) as StreamRow[];
      await record('admin.event_stream.pause', adminId, id);
      return toEventStream(row!);
    },

    /** Resumes a paused or failing stream, and retries now: the backoff starts over (also "retry now" on an active stream). */
    async resume(id: string, adminId?: string): Promise<EventStream> {
      await rowOf(id);
      const [row] = (await knex(TABLE)
        .where({ id })
        .update({ state: 'active', retry_attempt: 0, next_attempt_at: null, failing_since: null, updated_at: now() })
        .returning('*')) as StreamRow[];
      await record('admin.event_stream.resume', adminId, id);
      return toEventStream(row!);
    },

    /** How far behind the change log the stream is: changes after its place (and unacknowledged poll SETs). */
    async lag(id: string): Promise<StreamLag> {
      const row = await rowOf(id);
      const { txId, position } = parseChangeCursor(row.cursor);
      const result = (await knex.raw(
        LAG_SQL,
        [txId.toString(), position.toString(), LAG_COUNT_LIMIT],
      )) as { rows: Array<{ events: number; oldest: Date | string | null }> };
      const pending = (await knex('event_poll_pending').where({ stream_id: id }).count<Array<{ count: string | number }>>({ count: '*' }))[0];
      const behind = result.rows[0]!;
      const oldest = behind.oldest ? new Date(behind.oldest) : null;
      return {
        events: Number(behind.events) + Number(pending?.count ?? 0),
        seconds: oldest ? Math.max(0, (now().getTime() - oldest.getTime()) / 1000) : 0,
      };
    },

    async deliveries(id: string, query: { limit?: number; offset?: number } = {}): Promise<{ items: EventDelivery[]; total: number }> {
      await rowOf(id);
      const [rows, count] = await Promise.all([
        knex('event_deliveries').where({ stream_id: id }).orderBy([{ column: 'at', order: 'desc' }, { column: 'id' }]).limit(query.limit ?? 50).offset(query.offset ?? 0),
        knex('event_deliveries').where({ stream_id: id }).count<Array<{ count: string | number }>>({ count: '*' }),
      ]);
      return {
        items: (rows as Array<Record<string, unknown>>).map((r) => ({
          id: r.id as string,
          at: new Date(r.at as string),
          jti: r.jti as string,
          eventUri: r.event_uri as string,
          resource: (r.resource as string | null) ?? null,
          outcome: r.outcome as EventDelivery['outcome'],
          httpStatus: (r.http_status as number | null) ?? null,
          err: (r.err as string | null) ?? null,
          description: (r.description as string | null) ?? null,
          durationMs: (r.duration_ms as number | null) ?? null,
          attempt: Number(r.attempt),
        })),
        total: Number(count[0]?.count ?? 0),
      };
    },

    /** The poll stream a bearer token belongs to, compared in constant time; undefined when it is not one. */
    async authenticatePoll(id: string, token: string): Promise<boolean> {
      if (!isUuid(id) || !token.startsWith(POLL_TOKEN_PREFIX)) return false;
      const row = (await knex(TABLE).select('poll_token_hash').where({ id, delivery: 'poll' }).first()) as Pick<StreamRow, 'poll_token_hash'> | undefined;
      return Boolean(row?.poll_token_hash && hashesEqual(row.poll_token_hash, hashSecret(token)));
    },

    /** Replaces a poll stream's token (the old one stops working at once); the answer is the only time it is shown. */
    async rotatePollToken(id: string, adminId?: string): Promise<{ token: string }> {
      const row = await rowOf(id);
      assertThat(row.delivery === 'poll', 'invalid_input', 'Only a poll stream has a token');
      const token = generateSecret(POLL_TOKEN_PREFIX);
      await knex(TABLE).where({ id }).update({ poll_token_hash: hashSecret(token), poll_token_hint: secretHint(token), updated_at: now() });
      await record('admin.event_stream.rotate_token', adminId, id);
      return { token };
    },

    rowOf,
    /** The Authorization header to send for a stream row (see openAuthorizationHeader). */
    authorizationHeaderOf: (row: Pick<StreamRow, 'id' | 'authorization_header'>) => openAuthorizationHeader(row, secrets),
  };
}

export type EventStreamService = ReturnType<typeof createEventStreamService>;
