import type { Knex } from 'knex';
import { linkWriteCtes } from './directory/links.js';

type Db = Knex | Knex.Transaction;

// Rebuilding provider links after an identity mapping changed or a SCIM client moved to another provider.
// The work is a row in link_rebuilds (scheduled in the transaction of the change that causes it) and goes in
// batches of users in `seq` order, each batch one statement (so one transaction and one round trip) that takes
// the rebuild, locks its users, rewrites their links and advances the row's cursor: a restart resumes at the
// last committed batch, and a worker takes a rebuild FOR UPDATE SKIP LOCKED, so several processes sharing the
// database never run the same batch. A batch locks its users FOR SHARE: a SCIM write of one of them waits for
// the batch (or the batch for it) and then derives its links from the committed mapping.

export type LinkRebuildReason = 'mapping_changed' | 'client_moved';

export interface LinkRebuild {
  id: string;
  providerId: string;
  /** Set when the rebuild covers only one client's users (the client moved to this provider). */
  clientId: string | null;
  reason: LinkRebuildReason;
  status: 'running' | 'done';
  processed: number;
  total: number;
  createdAt: Date;
  finishedAt: Date | null;
}

interface LinkRebuildRow {
  id: string;
  provider_id: string;
  client_id: string | null;
  reason: LinkRebuildReason;
  after_seq: number | string;
  processed: number;
  total: number;
  created_at: Date;
  finished_at: Date | null;
}

function toRebuild(row: LinkRebuildRow): LinkRebuild {
  return {
    id: row.id,
    providerId: row.provider_id,
    clientId: row.client_id,
    reason: row.reason,
    status: row.finished_at ? 'done' : 'running',
    processed: row.processed,
    total: row.total,
    createdAt: new Date(row.created_at),
    finishedAt: row.finished_at ? new Date(row.finished_at) : null,
  };
}

/** The users a rebuild covers, over the alias `u`: SQL and its bindings. */
function scopeOf(row: Pick<LinkRebuildRow, 'provider_id' | 'client_id'>): { sql: string; bindings: string[] } {
  if (row.client_id) return { sql: 'u.created_by_client_id = ?', bindings: [row.client_id] };
  // The provider's clients' users, and users linked to it now (a link that must go).
  return {
    sql: '(u.created_by_client_id IN (SELECT c.id FROM scim_clients c WHERE c.auth_provider_id = ?) OR EXISTS (SELECT 1 FROM user_provider_links l WHERE l.user_id = u.id AND l.provider_id = ?))',
    bindings: [row.provider_id, row.provider_id],
  };
}

/**
 * One batch as one statement: the oldest pending rebuild no other process holds (`job`, FOR UPDATE SKIP
 * LOCKED), its next `?` users in `seq` order locked FOR SHARE (`batch`, with the columns the identity value is
 * derived from, so the users are read once), their links rewritten (directory/links.ts), and the cursor
 * advanced; the rebuild is done when the batch was short (the second `?`, the batch size again). The scope is
 * scopeOf's, read from the job's row. Cost per batch: one round trip, and no user id travels to the process and
 * back (2,000 uuids each way per batch before: docs/benchmarks.md, "Sign-in resolution (issue 19)").
 */
const RUN_BATCH_SQL =
  'WITH job AS (SELECT r.id, r.provider_id, r.client_id, r.after_seq FROM link_rebuilds r WHERE r.finished_at IS NULL ' +
  'ORDER BY r.created_at LIMIT 1 FOR UPDATE SKIP LOCKED), ' +
  // The job's fields as scalar subqueries (evaluated once), not a join: so the users come in seq order straight
  // from the index users__seq and the scan stops after the batch, instead of sorting every remaining user.
  'batch AS (SELECT u.id, u.seq, u.user_name, u.external_id, u.data, u.created_by_client_id FROM users u ' +
  'WHERE u.seq > (SELECT job.after_seq FROM job) AND CASE WHEN (SELECT job.client_id FROM job) IS NOT NULL THEN u.created_by_client_id = (SELECT job.client_id FROM job) ' +
  'ELSE (u.created_by_client_id IN (SELECT c.id FROM scim_clients c WHERE c.auth_provider_id = (SELECT job.provider_id FROM job)) ' +
  'OR EXISTS (SELECT 1 FROM user_provider_links l WHERE l.user_id = u.id AND l.provider_id = (SELECT job.provider_id FROM job))) END ' +
  'ORDER BY u.seq LIMIT ? FOR SHARE OF u), ' +
  `${linkWriteCtes('batch u', 'true')}, ` +
  'counted AS (SELECT count(*)::int AS users, max(seq) AS last_seq FROM batch), ' +
  'moved AS (UPDATE link_rebuilds r SET after_seq = coalesce(counted.last_seq, r.after_seq), processed = r.processed + counted.users, updated_at = now(), ' +
  // Users created during the rebuild are linked by their own write; total is the count when scheduled.
  'finished_at = CASE WHEN counted.users < ? THEN now() ELSE r.finished_at END FROM job, counted WHERE r.id = job.id RETURNING r.id) ' +
  'SELECT count(*)::int AS taken FROM moved';

/** Schedules a rebuild in the caller's transaction; a pending rebuild of the same scope starts over instead. */
export async function scheduleLinkRebuild(db: Db, input: { providerId: string; clientId?: string | null; reason: LinkRebuildReason }): Promise<void> {
  const clientId = input.clientId ?? null;
  const scope = scopeOf({ provider_id: input.providerId, client_id: clientId });
  const [count] = (await db('users as u').whereRaw(scope.sql, scope.bindings).count<Array<{ total: number | string }>>('* as total')) as Array<{ total: number | string }>;
  const total = Number(count?.total ?? 0);
  // A newer rebuild of the same scope covers everything an unfinished one would have done.
  await db('link_rebuilds')
    .where({ provider_id: input.providerId })
    .where((builder) => (clientId ? builder.where('client_id', clientId) : builder.whereNull('client_id')))
    .whereNull('finished_at')
    .update({ finished_at: db.fn.now(), updated_at: db.fn.now() });
  await db('link_rebuilds').insert({ provider_id: input.providerId, client_id: clientId, reason: input.reason, total, finished_at: total === 0 ? db.fn.now() : null });
}

export interface LinkRebuildWorkerOptions {
  /** Users per batch (one transaction each). Default 2,000. */
  batchSize?: number;
}

export function createLinkRebuildService(knex: Knex, options: LinkRebuildWorkerOptions = {}) {
  const batchSize = options.batchSize ?? 2000;

  /** Runs one batch of the oldest pending rebuild no other process holds; false when there was nothing to do. */
  async function runBatch(): Promise<boolean> {
    const result = (await knex.raw(RUN_BATCH_SQL, [batchSize, batchSize])) as { rows: Array<{ taken: number | string }> };
    return Number(result.rows[0]?.taken ?? 0) > 0;
  }

  return {
    runBatch,

    /** Runs batches until no rebuild is pending (or another process holds the rest). */
    async runUntilIdle(): Promise<number> {
      let batches = 0;
      while (await runBatch()) batches += 1;
      return batches;
    },

    /** The newest rebuild for this provider (its progress for the admin app), or null. */
    async latestForProvider(providerId: string, db: Db = knex): Promise<LinkRebuild | null> {
      const row = (await db('link_rebuilds').where('provider_id', providerId).orderBy('created_at', 'desc').first()) as LinkRebuildRow | undefined;
      return row ? toRebuild(row) : null;
    },

    async pending(): Promise<number> {
      const [row] = (await knex('link_rebuilds').whereNull('finished_at').count<Array<{ total: number | string }>>('* as total')) as Array<{ total: number | string }>;
      return Number(row?.total ?? 0);
    },
  };
}

export type LinkRebuildService = ReturnType<typeof createLinkRebuildService>;
