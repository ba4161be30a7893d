import type { Knex } from 'knex';
import { maintainLinks } from './directory/links.js';

type Db = Knex | Knex.Transaction;

// Rebuilding provider links after an identity mapping changed or a SCIM client moved to another provider.
// The work is a row in link_rebuilds (scheduled in the transaction of the change that causes it) and goes in
// batches of users in `seq` order, each batch one transaction that advances the row's cursor: a restart
// resumes at the last committed batch, and a worker takes a rebuild FOR UPDATE SKIP LOCKED, so several
// processes sharing the database never run the same batch. A batch locks its users FOR SHARE: a SCIM write of
// one of them waits for the batch (or the batch for it) and then derives its links from the committed mapping.

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
    return knex.transaction(async (trx) => {
      const row = (await trx('link_rebuilds').whereNull('finished_at').orderBy('created_at').forUpdate().skipLocked().first()) as LinkRebuildRow | undefined;
      if (!row) return false;
      const scope = scopeOf(row);
      const users = (await trx('users as u')
        .select('u.id', 'u.seq')
        .where('u.seq', '>', row.after_seq)
        .whereRaw(scope.sql, scope.bindings)
        .orderBy('u.seq')
        .limit(batchSize)
        .forShare()) as Array<{ id: string; seq: number | string }>;
      await maintainLinks(trx, users.map((user) => user.id));
      const last = users[users.length - 1];
      await trx('link_rebuilds')
        .where('id', row.id)
        .update({
          after_seq: last ? last.seq : row.after_seq,
          // Users created during the rebuild are linked by their own write; total is the count when scheduled.
          processed: row.processed + users.length,
          updated_at: trx.fn.now(),
          ...(users.length < batchSize ? { finished_at: trx.fn.now() } : {}),
        });
      return true;
    });
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
