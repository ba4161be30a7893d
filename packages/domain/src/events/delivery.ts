import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { ChangeLog } from '../changes/change-log.js';
import type { DirectoryChange } from '../changes/types.js';
import { buildSetClaims, type BuiltSet } from './sets.js';
import type { EventSigner } from './signing-keys.js';
import { pushSet, type PushResult } from './push.js';
import { createSecretBox, UnreadableSecretError, type SecretBox } from '../secret-box.js';
import { markAuthorizationHeaderUnreadable, openAuthorizationHeader, streamClientIds, streamEvents, type StreamRow } from './streams.js';
import { VERIFICATION_EVENT, type ResourceLoader } from './types.js';

// Push delivery (RFC 8935), at least once and in order per stream, with any number of processes on one database.
//
// A process delivers a stream only while it holds the stream's lease (`lease_owner`, `lease_until` on its row),
// taken with FOR UPDATE SKIP LOCKED so two processes never take the same one, and renewed with every step. The
// stream's place in the change log (`cursor`) moves only after a 202, in the same statement that checks the lease
// is still ours. A process killed with -9 stops renewing; another takes the stream once the lease has expired
// (LEASE_MS) and starts from the cursor: the SET that was in flight is sent again (same jti), nothing is lost.
// One SET per request and one request at a time per stream keep the order; streams run side by side.

const TABLE = 'event_streams';

export interface DeliveryWorkerOptions {
  changeLog: ChangeLog;
  signer: EventSigner;
  /** The SET `iss`: PUBLIC_URL. */
  issuer: string;
  loadResource?: ResourceLoader;
  /** Lease length; another process takes over a crashed one's streams after at most this. Default 15 s. */
  leaseMs?: number;
  /** How often a process looks for streams without a lease and retries that are due. Default 1 s. */
  scanIntervalMs?: number;
  /** First retry after 1-2 × this (RFC 8935 leaves the policy to the transmitter). Default 2 s. */
  retryBaseMs?: number;
  /** Longest wait between two tries. Default 1 h. */
  retryMaxMs?: number;
  /** A stream whose head SET has failed for this long is marked failing and waits for the admin. Default 72 h. */
  giveUpAfterMs?: number;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  /** SETs read from the change log per step. */
  batchSize?: number;
  /**
   * Least time between two rounds of a stream that is caught up (and between two change-log wake-ups): changes
   * committed meanwhile are read, sent and recorded together, so the statements delivery runs per second stay
   * bounded however fast SCIM clients write, at the price of at most this much lag. Default 20 ms.
   */
  roundSpacingMs?: number;
  onAttempt?(event: { streamId: string; streamName: string; ok: boolean; lagSeconds: number }): void;
  onError?(error: unknown, streamId?: string): void;
  /** Decrypts the streams' Authorization headers (the stream service's SecretBox). */
  secrets?: SecretBox;
}

/** A delivered SET's attempt row, as recordDelivered writes it. */
interface Delivered {
  at: string;
  jti: string;
  event_uri: string;
  resource: string;
  http_status: number;
  duration_ms: number;
  attempt: number;
}

/**
 * Delivered SETs whose attempts are written, and the stream's cursor moved, by one statement. A process killed
 * with -9 sends again at most twice this many SETs (the batch being written and the one being filled).
 */
const RECORD_BATCH = 32;
/** SETs built and signed ahead of the one in flight. */
const PREPARE_AHEAD = 4;

let lastDeliveredAt = 0;
/**
 * When a 202 arrived, as an ISO timestamp with microseconds, strictly increasing within the process: a batch's
 * rows are written by one statement (where now() is one time), and the delivery log orders by this time.
 */
function deliveredAt(): string {
  // Whole microseconds since the epoch (below 2^53), so that "one more" is exact; the wall clock (as the
  // database's now() on the other rows of the log), with a microsecond added per SET within one millisecond.
  const micros = Math.max(Date.now() * 1000, lastDeliveredAt + 1);
  lastDeliveredAt = micros;
  return `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, -1)}${String(micros % 1000).padStart(3, '0')}Z`;
}

/** The backoff before retry number `attempt` (1 for the first retry): exponential with jitter, capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  // "Equal jitter": between half and all of the step, so retries of many streams do not arrive together.
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** Whether a change is in a stream's scope: every resource, or those the chosen SCIM clients provisioned. */
export function inScope(row: Pick<StreamRow, 'client_ids'>, change: DirectoryChange): boolean {
  const clients = streamClientIds(row);
  return clients === null || (change.ownerClientId !== null && clients.includes(change.ownerClientId));
}

export async function recordDelivery(
  db: Knex | Knex.Transaction,
  streamId: string,
  set: Pick<BuiltSet, 'jti' | 'eventUri'> & { resource: string | null },
  outcome: string,
  result: Partial<PushResult> & { attempt?: number },
): Promise<void> {
  await db('event_deliveries').insert({
    stream_id: streamId,
    jti: set.jti,
    event_uri: set.eventUri,
    resource: set.resource,
    outcome,
    http_status: result.status ?? null,
    err: result.err ?? null,
    description: result.description ?? null,
    duration_ms: result.durationMs ?? null,
    attempt: result.attempt ?? 1,
  });
}

export function createDeliveryWorker(knex: Knex, options: DeliveryWorkerOptions) {
  const owner = `${process.pid}-${randomUUID()}`;
  const leaseMs = options.leaseMs ?? 15_000;
  const scanIntervalMs = options.scanIntervalMs ?? 1000;
  const retryBaseMs = options.retryBaseMs ?? 2000;
  const retryMaxMs = options.retryMaxMs ?? 3_600_000;
  const giveUpAfterMs = options.giveUpAfterMs ?? 72 * 3_600_000;
  const batchSize = options.batchSize ?? 200;
  const secrets = options.secrets ?? createSecretBox();
  const roundSpacingMs = options.roundSpacingMs ?? 20;
  const push = { connectTimeoutMs: options.connectTimeoutMs ?? 5000, responseTimeoutMs: options.responseTimeoutMs ?? 10_000 };
  const running = new Map<string, Promise<void>>();
  let abort = new AbortController();
  let stopped = true;
  let loop: Promise<void> | undefined;
  // Wakes the stream runners when the change log has something new (one waiter per process, not per stream).
  const sleepers = new Set<() => void>();
  // Counts the signals, so that a runner whose read came back empty just before a signal does not then sleep
  // through it (it was not among the sleepers to wake when the signal came).
  let changeGeneration = 0;
  const signalChange = () => {
    changeGeneration += 1;
    for (const wake of [...sleepers]) wake();
  };

  const sleep = (ms: number, onChange = false) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      // Delivery never keeps a process alive on its own.
      timer.unref();
      abort.signal.addEventListener('abort', done, { once: true });
      if (onChange) sleepers.add(done);
    });

  /** Takes the leases of active push streams nobody holds. */
  async function claim(): Promise<string[]> {
    const result = (await knex.raw(
      `UPDATE ${TABLE} SET lease_owner = ?, lease_until = now() + make_interval(secs => ?) WHERE id IN (` +
        `SELECT id FROM ${TABLE} WHERE delivery = 'push' AND state = 'active' AND (lease_until IS NULL OR lease_until < now()) ` +
        'ORDER BY id FOR UPDATE SKIP LOCKED) RETURNING id',
      [owner, leaseMs / 1000],
    )) as { rows: Array<{ id: string }> };
    return result.rows.map((row) => row.id);
  }

  /**
   * The one place a stream row read by the worker passes before it is delivered with: renew() reads it, and so do
   * the record statements (RETURNING *), whose row the next round starts from. Anything a row needs before use
   * belongs here, once for all three (the stored Authorization value is decrypted at the start of each round,
   * whichever of them the round's row came from).
   */
  function leasedStream(row: StreamRow | undefined): StreamRow | undefined {
    return row;
  }

  /** Renews our lease and reads the stream; undefined when the lease is no longer ours. */
  async function renew(id: string): Promise<StreamRow | undefined> {
    const [row] = (await knex(TABLE)
      .where({ id, lease_owner: owner })
      .update({ lease_until: knex.raw('now() + make_interval(secs => ?)', [leaseMs / 1000]) })
      .returning('*')) as StreamRow[];
    return leasedStream(row);
  }

  async function release(id: string): Promise<void> {
    await knex(TABLE).where({ id, lease_owner: owner }).update({ lease_owner: null, lease_until: null });
  }

  /** Moves the stream past changes it does not carry; answers the stream as it is now, or undefined when the lease is no longer ours. */
  async function advance(id: string, cursor: string): Promise<StreamRow | undefined> {
    const [row] = (await knex(TABLE)
      .where({ id, lease_owner: owner })
      .update({ cursor, lease_until: knex.raw('now() + make_interval(secs => ?)', [leaseMs / 1000]) })
      .returning('*')) as StreamRow[];
    return leasedStream(row);
  }

  /**
   * Records delivered SETs (one attempt row each, with the time its 202 arrived) and moves the stream to `cursor`
   * (the last change handled, delivered or skipped), in one statement. Answers the stream as it is now (the next
   * round starts from it without renewing the lease again), or undefined when the lease is no longer ours.
   */
  async function recordDelivered(id: string, delivered: Delivered[], cursor: string): Promise<StreamRow | undefined> {
    if (delivered.length === 0) return advance(id, cursor);
    const last = delivered[delivered.length - 1]!;
    const outcome = (await knex.raw(
      'WITH attempt AS (INSERT INTO event_deliveries (stream_id, at, jti, event_uri, resource, outcome, http_status, duration_ms, attempt) ' +
        "SELECT ?, r.at, r.jti, r.event_uri, r.resource, 'delivered', r.http_status, r.duration_ms, r.attempt " +
        'FROM json_to_recordset(?::json) AS r(at timestamptz, jti text, event_uri text, resource text, http_status int, duration_ms int, attempt int)) ' +
        `UPDATE ${TABLE} SET cursor = ?, lease_until = now() + make_interval(secs => ?), retry_attempt = 0, next_attempt_at = NULL, failing_since = NULL, ` +
        'last_delivery_at = ?, last_delivery_status = ?, last_error = NULL, delivered_count = delivered_count + ? WHERE id = ? AND lease_owner = ? RETURNING *',
      [id, JSON.stringify(delivered), cursor, leaseMs / 1000, last.at, String(last.http_status), delivered.length, id, owner],
    )) as { rows: StreamRow[] };
    return leasedStream(outcome.rows[0]);
  }

  /** A change made ready to send: its SET built and signed, or null when the stream does not carry it. */
  type Prepared = { change: DirectoryChange; set: BuiltSet | null; token: string | null };

  /** Delivers one stream while this process holds its lease. */
  async function runStream(id: string): Promise<void> {
    // When the lease was last renewed for sure: the time a renewing statement was sent, once it answered.
    let renewedAt = 0;
    // The stream as the last statement of the previous round answered it, lease renewed: read and renewed once.
    let fresh: StreamRow | undefined;
    // When the last round that found the stream caught up (a page not full) read its page.
    let caughtUpRoundAt = Number.NEGATIVE_INFINITY;
    while (!stopped) {
      const generation = changeGeneration;
      let row = fresh;
      fresh = undefined;
      if (!row) {
        renewedAt = Date.now();
        row = await renew(id);
        if (!row) return;
      }
      if (row.state !== 'active' || row.delivery !== 'push' || !row.endpoint_url) {
        await release(id);
        return;
      }
      let authorization: string | null;
      try {
        authorization = openAuthorizationHeader(row, secrets);
      } catch (error) {
        if (!(error instanceof UnreadableSecretError)) throw error;
        await markAuthorizationHeaderUnreadable(knex, row, error);
        await release(id);
        return;
      }
      if (row.next_attempt_at && new Date(row.next_attempt_at).getTime() > Date.now()) {
        await sleep(Math.min(new Date(row.next_attempt_at).getTime() - Date.now(), scanIntervalMs, leaseMs / 3));
        continue;
      }
      // Without this, at hundreds of SCIM writes per second every stream would run a round (a change-log read and
      // a record statement) per write, doubling the database's work per write; a backlog is read without a pause.
      const spacing = caughtUpRoundAt + roundSpacingMs - Date.now();
      if (spacing > 0) await sleep(spacing);
      const readAt = Date.now();
      const page = await options.changeLog.read({ after: row.cursor, limit: batchSize });
      caughtUpRoundAt = page.changes.length < batchSize ? readAt : Number.NEGATIVE_INFINITY;
      if (page.changes.length === 0) {
        // Unless a change was signalled since this round began (it may not be in the page just read).
        if (changeGeneration === generation) await sleep(Math.min(scanIntervalMs, leaseMs / 3), true);
        continue;
      }
      const wanted = new Set(streamEvents(row));
      const endpoint = row.endpoint_url;
      // The Authorization value as decrypted at the start of this round (never the stored ciphertext).
      const sendOptions = { ...push, authorization };
      // A resource read for a `full` SET is read once per page, however many of its changes the page holds.
      const resources = new Map<string, ReturnType<ResourceLoader>>();
      const loadResource: ResourceLoader | undefined = options.loadResource
        ? (type, resourceId) => {
            const key = `${type}/${resourceId}`;
            let found = resources.get(key);
            if (!found) resources.set(key, (found = options.loadResource!(type, resourceId)));
            return found;
          }
        : undefined;
      // SETs are built and signed ahead of the one in flight (order matters only on the wire, where one request
      // at a time is sent): up to PREPARE_AHEAD of them, so reading a resource or signing overlaps the request.
      const prepared: Array<Promise<Prepared>> = [];
      const prepare = (index: number): Promise<Prepared> => {
        while (prepared.length <= Math.min(index + PREPARE_AHEAD, page.changes.length - 1)) {
          const change = page.changes[prepared.length]!;
          const ready = (async (): Promise<Prepared> => {
            const set = inScope(row, change)
              ? await buildSetClaims({ change, streamId: id, issuer: options.issuer, audience: row.audience, format: row.format, issuedAt: new Date(), loadResource }, wanted)
              : null;
            return { change, set, token: set ? await options.signer.sign(set.claims) : null };
          })();
          // Awaited in order below; marked handled so one that fails after the loop has left cannot go unobserved.
          ready.catch(() => {});
          prepared.push(ready);
        }
        return prepared[index]!;
      };

      // Delivered SETs not recorded yet, and the one statement recording the previous batch (at most one at a time,
      // in order). A crash loses at most these two batches' records: their SETs are sent again (same jti).
      let pending: Delivered[] = [];
      let cursor = row.cursor;
      let recording: Promise<StreamRow | undefined> | null = null;
      let recordingSince = 0;
      const awaitRecording = async (): Promise<boolean> => {
        if (!recording) return true;
        const recorded = await recording;
        recording = null;
        if (!recorded) return false;
        renewedAt = recordingSince;
        fresh = recorded;
        return true;
      };
      const flush = async (): Promise<boolean> => {
        if (!(await awaitRecording())) return false;
        if (cursor === row!.cursor && pending.length === 0) return true;
        recordingSince = Date.now();
        recording = recordDelivered(id, pending, cursor);
        recording.catch(() => {});
        row!.cursor = cursor;
        pending = [];
        return true;
      };

      let attempt = row.retry_attempt + 1;
      let failure: { set: BuiltSet; result: PushResult } | null = null;
      for (let index = 0; index < page.changes.length && !stopped; index += 1) {
        const { change, set, token } = await prepare(index);
        if (!set || !token) {
          cursor = change.cursor;
          continue;
        }
        // Never send on a lease that may have run out: renew first when half of it has passed since it surely was.
        if (Date.now() - renewedAt > leaseMs / 2) {
          if (!(await awaitRecording())) return;
          if (Date.now() - renewedAt > leaseMs / 2) {
            if (!(await renew(id))) return;
            renewedAt = Date.now();
          }
        }
        const result = await pushSet(endpoint, token, sendOptions);
        options.onAttempt?.({ streamId: id, streamName: row.name, ok: result.ok, lagSeconds: (Date.now() - change.at.getTime()) / 1000 });
        if (!result.ok) {
          failure = { set, result };
          break;
        }
        pending.push({ at: deliveredAt(), jti: set.jti, event_uri: set.eventUri, resource: set.resource, http_status: result.status!, duration_ms: result.durationMs, attempt });
        attempt = 1;
        row.retry_attempt = 0;
        cursor = change.cursor;
        // Recorded while the next SETs are sent: one statement per RECORD_BATCH SETs instead of one per SET.
        if (pending.length >= RECORD_BATCH && !(await flush())) return;
      }
      if (!(await flush()) || !(await awaitRecording())) return;
      if (failure) {
        fresh = undefined;
        // The stream now stands just before the failed SET: the retry starts with it.
        await recordDelivery(knex, id, failure.set, 'failed', { ...failure.result, attempt });
        await failed(row, failure.result);
      }
    }
  }

  async function failed(row: StreamRow, result: PushResult): Promise<void> {
    const attempt = row.retry_attempt + 1;
    const summary = [result.status ?? '', result.err ?? '', result.description ?? ''].filter(Boolean).join(' ');
    await knex(TABLE)
      .where({ id: row.id, lease_owner: owner })
      .update({
        retry_attempt: attempt,
        next_attempt_at: new Date(Date.now() + retryDelayMs(attempt, retryBaseMs, retryMaxMs)),
        // Read from the row as it is now (not as this runner last read it), so the time of the first failure
        // survives takeovers and the admin's edits.
        failing_since: knex.raw('coalesce(failing_since, now())'),
        failed_count: knex.raw('failed_count + 1'),
        last_error: summary.slice(0, 500),
        state: knex.raw("CASE WHEN coalesce(failing_since, now()) <= now() - make_interval(secs => ?) THEN 'failing' ELSE state END", [giveUpAfterMs / 1000]),
      });
  }

  function start(streamId: string): void {
    if (running.has(streamId)) return;
    const task = runStream(streamId)
      .catch(async (error: unknown) => {
        options.onError?.(error, streamId);
        // The database went away or a bug: give the lease back so this or another process starts over cleanly.
        await release(streamId).catch(() => {});
      })
      .finally(() => running.delete(streamId));
    running.set(streamId, task);
  }

  async function mainLoop(): Promise<void> {
    let seen: string | undefined;
    while (!stopped) {
      try {
        for (const id of await claim()) start(id);
        if (running.size === 0) {
          // Nothing to deliver here: do not poll the change log, only look for streams again.
          seen = undefined;
          await sleep(scanIntervalMs);
          continue;
        }
        seen ??= await options.changeLog.head();
        // No signal: ChangeLog.wait leaves its abort listener on the signal when it times out, and this loop waits
        // every second; stop() waits for at most one more interval instead.
        const page = await options.changeLog.wait({ after: seen, timeoutMs: scanIntervalMs });
        if (page.changes.length > 0) {
          seen = page.cursor;
          signalChange();
          // The runners read what was committed meanwhile anyway: one wake-up per roundSpacingMs at most.
          await sleep(roundSpacingMs);
        }
      } catch (error) {
        // PostgreSQL restarting, a lost connection: wait and try again; the leases expire if this takes long.
        options.onError?.(error);
        await sleep(scanIntervalMs);
      }
    }
  }

  return {
    owner,
    start(): void {
      if (!stopped) return;
      stopped = false;
      abort = new AbortController();
      loop = mainLoop();
    },
    /** Stops delivering and gives the leases back, so another process continues at once. */
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      abort.abort();
      await loop;
      await Promise.allSettled([...running.values()]);
      await knex(TABLE).where({ lease_owner: owner }).update({ lease_owner: null, lease_until: null }).catch(() => {});
    },
    /** Streams this process delivers right now. */
    held(): string[] {
      return [...running.keys()];
    },
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;

export interface VerificationResult {
  jti: string;
  /** push: the receiver answered 202; poll: the SET is queued for the next poll. */
  ok: boolean;
  httpStatus: number | null;
  err: string | null;
  description: string | null;
  durationMs: number | null;
}

/**
 * Sends a verification SET to a stream outside its order (the admin's test button): pushed at once, or queued for
 * the next poll. It carries no directory data; receivers may ignore it. Recorded in the delivery log.
 */
export async function sendVerificationSet(knex: Knex, row: StreamRow, deps: { signer: EventSigner; issuer: string; secrets?: SecretBox }): Promise<VerificationResult> {
  const jti = randomUUID().replaceAll('-', '');
  const claims = {
    jti,
    iss: deps.issuer,
    iat: Math.floor(Date.now() / 1000),
    aud: row.audience,
    txn: `test-${jti}`,
    sub_id: { format: 'opaque', id: row.id },
    events: { [VERIFICATION_EVENT]: { state: `roster-test-${jti.slice(0, 8)}` } },
  };
  const token = await deps.signer.sign(claims);
  const set = { jti, eventUri: VERIFICATION_EVENT, resource: null };
  if (row.delivery === 'poll') {
    await knex('event_poll_pending').insert({ stream_id: row.id, jti, event_uri: VERIFICATION_EVENT, resource: null, token });
    return { jti, ok: true, httpStatus: null, err: null, description: 'queued for the next poll', durationMs: null };
  }
  let authorization: string | null;
  try {
    authorization = openAuthorizationHeader(row, deps.secrets ?? createSecretBox());
  } catch (error) {
    if (!(error instanceof UnreadableSecretError)) throw error;
    await markAuthorizationHeaderUnreadable(knex, row, error);
    return { jti, ok: false, httpStatus: null, err: 'unreadable_secret', description: `not sent: the Authorization header cannot be decrypted: ${error.message}`, durationMs: null };
  }
  const result = await pushSet(row.endpoint_url!, token, { authorization, connectTimeoutMs: 5000, responseTimeoutMs: 10_000 });
  await recordDelivery(knex, row.id, set, result.ok ? 'delivered' : 'failed', result);
  return { jti, ok: result.ok, httpStatus: result.status, err: result.err, description: result.description, durationMs: result.durationMs };
}
