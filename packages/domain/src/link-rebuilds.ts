import type { Knex } from 'knex';
import { linkWriteCtes } from './directory/links.js';
import { linkRebuildsTable, userProviderLinksTable, usersTable } from './models/index.js';

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

const U = usersTable.columns;
const L = userProviderLinksTable.columns;
const R = linkRebuildsTable.columns;
// The users a rebuild covers, over the user row `u`: spelled out once at load.
const OWNED_BY_CLIENT = `u.${U.createdByClientId} = ?`;
const LINKED_TO_PROVIDER =
  `(u.${U.createdByClientId} IN (SELECT c.id FROM scim_clients c WHERE c.auth_provider_id = ?) OR EXISTS (SELECT 1 FROM ${userProviderLinksTable.table} l WHERE l.${L.userId} = u.id AND l.${L.providerId} = ?))`;

interface LinkRebuildRow {
  id: string;
  [R.providerId]: string;
  [R.clientId]: string | null;
  reason: LinkRebuildReason;
  [R.afterSeq]: number | string;
  processed: number;
  total: number;
  [R.createdAt]: Date;
  [R.finishedAt]: Date | null;
}

function toRebuild(row: LinkRebuildRow): LinkRebuild {
  const finishedAt = row[R.finishedAt];
  return {
    id: row.id,
    providerId: row[R.providerId],
    clientId: row[R.clientId],
    reason: row.reason,
    status: finishedAt ? 'done' : 'running',
    processed: row.processed,
    total: row.total,
    createdAt: new Date(row[R.createdAt]),
    finishedAt: finishedAt ? new Date(finishedAt) : null,
  };
}

/** The users a rebuild covers, over the alias `u`: SQL and its bindings. */
function scopeOf(row: Pick<LinkRebuildRow, typeof R.providerId | typeof R.clientId>): { sql: string; bindings: string[] } {
  const clientId = row[R.clientId];
  if (clientId) return { sql: OWNED_BY_CLIENT, bindings: [clientId] };
  // The provider's clients' users, and users linked to it now (a link that must go).
  return {
    sql: LINKED_TO_PROVIDER,
    bindings: [row[R.providerId], row[R.providerId]],
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
const RB = linkRebuildsTable.table;
const RUN_BATCH_SQL =
  `WITH job AS (SELECT r.id, r.${R.providerId}, r.${R.clientId}, r.${R.afterSeq} FROM ${RB} r WHERE r.${R.finishedAt} IS NULL ` +
  `ORDER BY r.${R.createdAt} LIMIT 1 FOR UPDATE SKIP LOCKED), ` +
  // The job's fields as scalar subqueries (evaluated once), not a join: so the users come in seq order straight
  // from the index users__seq and the scan stops after the batch, instead of sorting every remaining user.
  `batch AS (SELECT u.id, u.${U.seq}, u.${U.userName}, u.${U.externalId}, u.${U.data}, u.${U.createdByClientId} FROM ${usersTable.table} u ` +
  `WHERE u.${U.seq} > (SELECT job.${R.afterSeq} FROM job) AND CASE WHEN (SELECT job.${R.clientId} FROM job) IS NOT NULL THEN u.${U.createdByClientId} = (SELECT job.${R.clientId} FROM job) ` +
  `ELSE (u.${U.createdByClientId} IN (SELECT c.id FROM scim_clients c WHERE c.auth_provider_id = (SELECT job.${R.providerId} FROM job)) ` +
  `OR EXISTS (SELECT 1 FROM ${userProviderLinksTable.table} l WHERE l.${L.userId} = u.id AND l.${L.providerId} = (SELECT job.${R.providerId} FROM job))) END ` +
  `ORDER BY u.${U.seq} LIMIT ? FOR SHARE OF u), ` +
  `${linkWriteCtes('batch u', 'true')}, ` +
  `counted AS (SELECT count(*)::int AS users, max(${U.seq}) AS last_seq FROM batch), ` +
  `moved AS (UPDATE ${RB} r SET ${R.afterSeq} = coalesce(counted.last_seq, r.${R.afterSeq}), ${R.processed} = r.${R.processed} + counted.users, ${R.updatedAt} = now(), ` +
  // Users created during the rebuild are linked by their own write; total is the count when scheduled.
  `${R.finishedAt} = CASE WHEN counted.users < ? THEN now() ELSE r.${R.finishedAt} END FROM job, counted WHERE r.id = job.id RETURNING r.id) ` +
  'SELECT count(*)::int AS taken FROM moved';

/** Schedules a rebuild in the caller's transaction; a pending rebuild of the same scope starts over instead. */
export async function scheduleLinkRebuild(db: Db, input: { providerId: string; clientId?: string | null; reason: LinkRebuildReason }): Promise<void> {
  const clientId = input.clientId ?? null;
  const scope = scopeOf({ [R.providerId]: input.providerId, [R.clientId]: clientId });
  const [count] = (await db('users as u').whereRaw(scope.sql, scope.bindings).count<Array<{ total: number | string }>>('* as total')) as Array<{ total: number | string }>;
  const total = Number(count?.total ?? 0);
  // A newer rebuild of the same scope covers everything an unfinished one would have done.
  await db(linkRebuildsTable.table)
    .where({ [R.providerId]: input.providerId })
    .where((builder) => (clientId ? builder.where(R.clientId, clientId) : builder.whereNull(R.clientId)))
    .whereNull(R.finishedAt)
    .update({ [R.finishedAt]: db.fn.now(), [R.updatedAt]: db.fn.now() });
  await db(linkRebuildsTable.table).insert({ [R.providerId]: input.providerId, [R.clientId]: clientId, reason: input.reason, total, [R.finishedAt]: total === 0 ? db.fn.now() : null });
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
      const row = (await db(linkRebuildsTable.table).where(R.providerId, providerId).orderBy(R.createdAt, 'desc').first()) as LinkRebuildRow | undefined;
      return row ? toRebuild(row) : null;
    },

    async pending(): Promise<number> {
      const [row] = (await knex(linkRebuildsTable.table).whereNull(R.finishedAt).count<Array<{ total: number | string }>>('* as total')) as Array<{ total: number | string }>;
      return Number(row?.total ?? 0);
    },
  };
}

export type LinkRebuildService = ReturnType<typeof createLinkRebuildService>;
