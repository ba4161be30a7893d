import type { Knex } from 'knex';
import type { ChangeLog } from '../changes/change-log.js';
import { recordDelivery, inScope } from './delivery.js';
import { buildSetClaims } from './sets.js';
import type { EventSigner } from './signing-keys.js';
import { streamEvents, type StreamRow } from './streams.js';
import type { ResourceLoader } from './types.js';

// Poll delivery (RFC 8936). A poll first settles what the receiver reports (`ack`, `setErrs`: §2.4.2, §2.4.3), then
// hands out the oldest SETs not acknowledged and not already out (`maxEvents`), in order. A SET handed out and not
// acknowledged within the visibility timeout is handed out again (same jti): at-least-once, like push. SETs are
// built from the change log when first needed and kept in event_poll_pending until acknowledged, so every poller
// of a stream (any process) sees the same SETs with the same jti. The stream's row is locked while a poll settles
// and fills, which orders concurrent polls of one stream.

export class PollError extends Error {
  override name = 'PollError';
  /** RFC 8936 §2.4.4 / RFC 8935 §2.4 error code. */
  constructor(
    readonly err: 'invalid_request' | 'authentication_failed' | 'access_denied',
    readonly status: number,
    readonly description: string,
  ) {
    super(description);
  }
}

export interface PollRequest {
  maxEvents?: number;
  returnImmediately?: boolean;
  ack?: string[];
  setErrs?: Record<string, { err: string; description?: string }>;
}

export interface PollResponse {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

export const MAX_POLL_EVENTS = 1000;
const DEFAULT_POLL_EVENTS = 100;
/** RFC 8936 §2.1 lets the transmitter bound a long poll; 30 s stays under common proxy idle timeouts. */
export const LONG_POLL_MS = 30_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a poll body (RFC 8936 §2.4); every problem is an `invalid_request` naming the member. */
export function parsePollRequest(body: unknown): PollRequest {
  if (body === undefined || body === null) return {};
  if (!isPlainObject(body)) throw new PollError('invalid_request', 400, 'the poll request must be a JSON object');
  const known = new Set(['maxEvents', 'returnImmediately', 'ack', 'setErrs']);
  const unknown = Object.keys(body).filter((key) => !known.has(key));
  if (unknown.length) throw new PollError('invalid_request', 400, `unknown member ${unknown[0]}`);
  const request: PollRequest = {};
  if (body.maxEvents !== undefined) {
    if (!Number.isInteger(body.maxEvents) || (body.maxEvents as number) < 0) throw new PollError('invalid_request', 400, 'maxEvents must be a whole number, 0 or more');
    request.maxEvents = Math.min(body.maxEvents as number, MAX_POLL_EVENTS);
  }
  if (body.returnImmediately !== undefined) {
    if (typeof body.returnImmediately !== 'boolean') throw new PollError('invalid_request', 400, 'returnImmediately must be true or false');
    request.returnImmediately = body.returnImmediately;
  }
  if (body.ack !== undefined) {
    if (!Array.isArray(body.ack) || body.ack.some((jti) => typeof jti !== 'string' || jti.length === 0 || jti.length > 200) || body.ack.length > 10_000) {
      throw new PollError('invalid_request', 400, 'ack must be an array of jti strings');
    }
    request.ack = body.ack as string[];
  }
  if (body.setErrs !== undefined) {
    if (!isPlainObject(body.setErrs)) throw new PollError('invalid_request', 400, 'setErrs must be an object of jti -> {err, description}');
    const errs: Record<string, { err: string; description?: string }> = {};
    for (const [jti, value] of Object.entries(body.setErrs)) {
      if (!isPlainObject(value) || typeof value.err !== 'string' || (value.description !== undefined && typeof value.description !== 'string')) {
        throw new PollError('invalid_request', 400, `setErrs.${jti.slice(0, 60)} must be {"err": string, "description"?: string}`);
      }
      errs[jti] = { err: value.err.slice(0, 100), ...(typeof value.description === 'string' ? { description: value.description.slice(0, 500) } : {}) };
    }
    request.setErrs = errs;
  }
  return request;
}

export interface PollServiceOptions {
  changeLog: ChangeLog;
  signer: EventSigner;
  issuer: string;
  loadResource?: ResourceLoader;
  /** How long a handed-out SET waits for its ack before it is handed out again. Default 60 s. */
  visibilityTimeoutMs?: number;
  longPollMs?: number;
}

interface PendingRow {
  seq: string | number;
  jti: string;
  token: string;
}

export function createPollService(knex: Knex, options: PollServiceOptions) {
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? 60_000;
  const longPollMs = options.longPollMs ?? LONG_POLL_MS;

  async function settle(trx: Knex.Transaction, streamId: string, request: PollRequest): Promise<void> {
    const reported = [...(request.ack ?? []).map((jti) => ({ jti, error: undefined })), ...Object.entries(request.setErrs ?? {}).map(([jti, error]) => ({ jti, error }))];
    if (reported.length === 0) return;
    const removed = (await trx('event_poll_pending')
      .where({ stream_id: streamId })
      .whereIn('jti', reported.map((entry) => entry.jti))
      .delete()
      .returning(['jti', 'event_uri', 'resource'])) as Array<{ jti: string; event_uri: string; resource: string | null }>;
    // Acknowledging a jti that is not pending (already acknowledged, or never ours) is not an error (RFC 8936 §2.4.2).
    const byJti = new Map(removed.map((row) => [row.jti, row]));
    for (const entry of reported) {
      const row = byJti.get(entry.jti);
      if (!row) continue;
      const set = { jti: row.jti, eventUri: row.event_uri, resource: row.resource };
      await recordDelivery(trx, streamId, set, entry.error ? 'set_error' : 'acknowledged', entry.error ? { err: entry.error.err, description: entry.error.description ?? null } : {});
    }
    if (removed.length > 0) {
      await trx('event_streams')
        .where({ id: streamId })
        .update({ delivered_count: trx.raw('delivered_count + ?', [removed.length]), last_delivery_at: new Date(), last_delivery_status: 'acknowledged' });
    }
  }

  /**
   * The resource loader of a `full` stream, reading inside the poll's transaction: on the embedded database the
   * transaction holds the only connection, and a read outside it would wait for the transaction to end.
   */
  const loadIn = (trx: Knex.Transaction): ResourceLoader | undefined => {
    const load = options.loadResource;
    return load ? (resourceType, id) => load(resourceType, id, trx) : undefined;
  };

  /** Builds SETs for changes after the cursor until `wanted` are pending (or the log is read to its end). */
  async function fill(trx: Knex.Transaction, row: StreamRow, wanted: number): Promise<boolean> {
    const pending = Number(
      ((await trx('event_poll_pending').where({ stream_id: row.id }).where('visible_after', '<=', trx.fn.now()).count<Array<{ count: string | number }>>({ count: '*' }))[0]?.count) ?? 0,
    );
    let missing = wanted + 1 - pending;
    let cursor = row.cursor;
    const events = new Set(streamEvents(row));
    let more = false;
    while (missing > 0) {
      const page = await options.changeLog.read({ after: cursor, limit: Math.min(Math.max(missing, 50), 1000) }, trx);
      if (page.changes.length === 0) break;
      for (const change of page.changes) {
        cursor = change.cursor;
        const set = inScope(row, change)
          ? await buildSetClaims({ change, streamId: row.id, issuer: options.issuer, audience: row.audience, format: row.format, issuedAt: new Date(), loadResource: loadIn(trx) }, events)
          : null;
        if (!set) continue;
        await trx('event_poll_pending')
          .insert({ stream_id: row.id, jti: set.jti, event_uri: set.eventUri, resource: set.resource, token: await options.signer.sign(set.claims) })
          .onConflict(['stream_id', 'jti'])
          .ignore();
        missing -= 1;
        if (missing <= 0) {
          more = true;
          break;
        }
      }
    }
    if (cursor !== row.cursor) await trx('event_streams').where({ id: row.id }).update({ cursor });
    return more;
  }

  async function pollOnce(streamId: string, request: PollRequest, settleReports: boolean): Promise<PollResponse> {
    const maxEvents = request.maxEvents ?? DEFAULT_POLL_EVENTS;
    // The signing key is read before the transaction, which on the embedded database holds the only connection.
    await options.signer.ready();
    return knex.transaction(async (trx) => {
      const row = (await trx('event_streams').where({ id: streamId }).forUpdate().first()) as StreamRow | undefined;
      if (!row || row.delivery !== 'poll') throw new PollError('access_denied', 404, 'no such poll stream');
      if (settleReports) await settle(trx, streamId, request);
      // A paused stream answers no SETs (acknowledgements are still taken); RFC 8936 has no "paused" error.
      if (maxEvents === 0 || row.state === 'paused') return { sets: {}, moreAvailable: false };
      await fill(trx, row, maxEvents);
      const visible = (await trx('event_poll_pending')
        .select('seq', 'jti', 'token')
        .where({ stream_id: streamId })
        .where('visible_after', '<=', trx.fn.now())
        .orderBy('seq')
        .limit(maxEvents + 1)) as PendingRow[];
      const out = visible.slice(0, maxEvents);
      if (out.length > 0) {
        await trx('event_poll_pending')
          .whereIn('seq', out.map((pending) => pending.seq))
          .update({ visible_after: trx.raw("now() + make_interval(secs => ?)", [visibilityTimeoutMs / 1000]), handed_out: trx.raw('handed_out + 1') });
      }
      const sets: Record<string, string> = {};
      for (const pending of out) sets[pending.jti] = pending.token;
      return { sets, moreAvailable: visible.length > maxEvents };
    });
  }

  return {
    /**
     * One RFC 8936 poll. Without `returnImmediately: true` it waits (up to the long-poll bound) until a SET is
     * available. `signal` ends the wait early (the client went away).
     */
    async poll(streamId: string, request: PollRequest, signal?: AbortSignal): Promise<PollResponse> {
      const deadline = Date.now() + longPollMs;
      let first = true;
      for (;;) {
        const answer = await pollOnce(streamId, request, first);
        first = false;
        const waitMs = deadline - Date.now();
        if (Object.keys(answer.sets).length > 0 || request.returnImmediately || request.maxEvents === 0 || waitMs <= 0 || signal?.aborted) return answer;
        const row = (await knex('event_streams').select('cursor').where({ id: streamId }).first()) as Pick<StreamRow, 'cursor'> | undefined;
        if (!row) return answer;
        // Woken by a new change, or after a second to see SETs whose visibility timeout has passed.
        await options.changeLog.wait({ after: row.cursor, timeoutMs: Math.min(waitMs, 1000), ...(signal ? { signal } : {}) });
      }
    },
  };
}

export type PollService = ReturnType<typeof createPollService>;
