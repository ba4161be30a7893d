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
  onAttempt?(event: { streamId: string; streamName: string; ok: boolean; lagSeconds: number }): void;
  onError?(error: unknown, streamId?: string): void;
  /** Decrypts the streams' Authorization headers (the stream service's SecretBox). */
  secrets?: SecretBox;
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
  const push = { connectTimeoutMs: options.connectTimeoutMs ?? 5000, responseTimeoutMs: options.responseTimeoutMs ?? 10_000 };
  const running = new Map<string, Promise<void>>();
  let abort = new AbortController();
  let stopped = true;
  let loop: Promise<void> | undefined;
  // Wakes the stream runners when the change log has something new (one waiter per process, not per stream).
  const sleepers = new Set<() => void>();
  const signalChange = () => {
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

  /** Renews our lease and reads the stream; undefined when the lease is no longer ours. */
  async function renew(id: string): Promise<StreamRow | undefined> {
    const [row] = (await knex(TABLE)
      .where({ id, lease_owner: owner })
      .update({ lease_until: knex.raw('now() + make_interval(secs => ?)', [leaseMs / 1000]) })
      .returning('*')) as StreamRow[];
    return row;
  }

  async function release(id: string): Promise<void> {
    await knex(TABLE).where({ id, lease_owner: owner }).update({ lease_owner: null, lease_until: null });
  }

  /** Moves the stream past changes it does not carry; false when the lease is no longer ours. */
  async function advance(id: string, cursor: string): Promise<boolean> {
    const count = await knex(TABLE)
      .where({ id, lease_owner: owner })
      .update({ cursor, lease_until: knex.raw('now() + make_interval(secs => ?)', [leaseMs / 1000]) });
    return count === 1;
  }

  /** Records a delivered SET and moves the stream past it, in one statement; false when the lease is no longer ours. */
  async function recordDelivered(id: string, set: BuiltSet, result: PushResult, attempt: number, cursor: string): Promise<boolean> {
    const outcome = (await knex.raw(
      'WITH attempt AS (INSERT INTO event_deliveries (stream_id, jti, event_uri, resource, outcome, http_status, duration_ms, attempt) ' +
        "VALUES (?, ?, ?, ?, 'delivered', ?, ?, ?)) " +
        `UPDATE ${TABLE} SET cursor = ?, lease_until = now() + make_interval(secs => ?), retry_attempt = 0, next_attempt_at = NULL, failing_since = NULL, ` +
        'last_delivery_at = now(), last_delivery_status = ?, last_error = NULL, delivered_count = delivered_count + 1 WHERE id = ? AND lease_owner = ? RETURNING id',
      [id, set.jti, set.eventUri, set.resource, result.status, result.durationMs, attempt, cursor, leaseMs / 1000, String(result.status), id, owner],
    )) as { rows: unknown[] };
    return outcome.rows.length === 1;
  }

  /** Delivers one stream while this process holds its lease. */
  async function runStream(id: string): Promise<void> {
    let renewedAt: number;
    while (!stopped) {
      const row = await renew(id);
      if (!row) return;
      renewedAt = Date.now();
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
      const page = await options.changeLog.read({ after: row.cursor, limit: batchSize });
      if (page.changes.length === 0) {
        await sleep(Math.min(scanIntervalMs, leaseMs / 3), true);
        continue;
      }
      const wanted = new Set(streamEvents(row));
      let recorded: Promise<boolean> | null = null;
      let cursor = row.cursor;
      let skipped = false;
      for (const change of page.changes) {
        if (stopped) {
          await recorded?.catch(() => false);
          return;
        }
        const set = inScope(row, change)
          ? await buildSetClaims({ change, streamId: id, issuer: options.issuer, audience: row.audience, format: row.format, issuedAt: new Date(), loadResource: options.loadResource }, wanted)
          : null;
        if (!set) {
          cursor = change.cursor;
          skipped = true;
          continue;
        }
        if (skipped) {
          // Persist the skipped changes before sending, so a takeover does not scan them again.
          if (recorded && !(await recorded)) return;
          recorded = null;
          if (!(await advance(id, cursor))) return;
          skipped = false;
          renewedAt = Date.now();
        }
        // Never send on a lease that may have run out: renew first when half of it has passed (the answer renews it again).
        if (Date.now() - renewedAt > leaseMs / 2 && !(await renew(id))) return;
        const token = await options.signer.sign(set.claims);
        const result = await pushSet(row.endpoint_url, token, { ...push, authorization });
        const attempt = row.retry_attempt + 1;
        options.onAttempt?.({ streamId: id, streamName: row.name, ok: result.ok, lagSeconds: (Date.now() - change.at.getTime()) / 1000 });
        // The previous SET's record must be written (and the lease still ours) before this one's.
        if (recorded && !(await recorded)) return;
        recorded = null;
        if (!result.ok) {
          await recordDelivery(knex, id, set, 'failed', { ...result, attempt });
          await failed(row, result);
          break;
        }
        // Recorded while the next SET is prepared and sent: one statement writes the attempt and moves the cursor.
        // A crash before it lands resends this SET (same jti), as after any unrecorded 202.
        recorded = recordDelivered(id, set, result, attempt, change.cursor);
        // Awaited before the next record or on leaving; marked handled so a failure cannot go unobserved in between.
        recorded.catch(() => {});
        renewedAt = Date.now();
        cursor = change.cursor;
        row.retry_attempt = 0;
      }
      if (recorded && !(await recorded)) return;
      if (skipped && !(await advance(id, cursor))) return;
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
