import type { Knex } from 'knex';
import { isUuid } from './directory/rows.js';

/**
 * What a successful SCIM read counts as. Reads are not logged one by one (a directory sync lists thousands of
 * users a minute); they are counted per client, kind and minute in client_activity.
 */
export type ReadKind = 'users.list' | 'users.get' | 'groups.list' | 'groups.get' | 'discovery' | 'other';

export const READ_KINDS: readonly ReadKind[] = ['users.list', 'users.get', 'groups.list', 'groups.get', 'discovery', 'other'];

/** Counted reads of one client, of one kind, within one minute (what one call of recordReads adds). */
export interface ReadCount {
  clientId: string;
  kind: ReadKind;
  /** The start of the UTC minute. */
  minute: Date;
  requests: number;
  /** The time of the last of these requests. */
  lastAt: Date;
}

export interface ReadCountRow extends ReadCount {
  clientName: string | null;
}

export interface ReadCountQuery {
  clientId?: string;
  from?: Date;
  to?: Date;
  limit?: number;
  offset?: number;
}

/** The start of the UTC minute `at` falls in. */
export function minuteOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000);
}

/**
 * The endpoint kind of a successful read, from its path below the SCIM base (`/Users`, `/Users/ID`,
 * `/Groups/.search` ...). Discovery is RFC 7644 §4 (ServiceProviderConfig, ResourceTypes, Schemas): what Entra's
 * "Test connection" and most clients' first request read.
 */
export function readKindOf(method: string, scimPath: string): ReadKind {
  const parts = scimPath.split('/').filter(Boolean);
  const [resource, id] = parts;
  if (resource === 'ServiceProviderConfig' || resource === 'ResourceTypes' || resource === 'Schemas') return 'discovery';
  if (resource !== 'Users' && resource !== 'Groups') return 'other';
  const noun = resource === 'Users' ? 'users' : 'groups';
  // POST /Users/.search is a query (RFC 7644 §3.4.3), counted with the lists.
  if (id === undefined || (method === 'POST' && id === '.search')) return `${noun}.list`;
  return `${noun}.get`;
}

/** Successful reads per client, endpoint kind and minute (client_activity). */
export function createClientActivityService(knex: Knex) {
  function filtered(query: ReadCountQuery): Knex.QueryBuilder {
    const builder = knex('client_activity as a');
    if (query.clientId) {
      if (!isUuid(query.clientId)) builder.whereRaw('false');
      else builder.where('a.client_id', query.clientId);
    }
    if (query.from) builder.where('a.last_at', '>=', query.from);
    if (query.to) builder.where('a.minute', '<', query.to);
    return builder;
  }

  return {
    /**
     * Adds counts in one statement: a row per (client, kind, minute) is created or its count raised, so
     * several gateway processes add to the same row. Counts of a client deleted meanwhile are dropped
     * (the foreign key would refuse the whole statement).
     */
    async recordReads(counts: ReadCount[]): Promise<void> {
      if (counts.length === 0) return;
      const merged = new Map<string, ReadCount>();
      for (const count of counts) {
        const minute = minuteOf(count.minute);
        const key = `${count.clientId}|${count.kind}|${minute.getTime()}`;
        const prev = merged.get(key);
        merged.set(key, prev
          ? { ...prev, requests: prev.requests + count.requests, lastAt: prev.lastAt > count.lastAt ? prev.lastAt : count.lastAt }
          : { ...count, minute });
      }
      const rows = [...merged.values()];
      const values = rows.map(() => '(?::uuid, ?, ?::timestamptz, ?::int, ?::timestamptz)').join(', ');
      const bindings = rows.flatMap((row) => [row.clientId, row.kind, row.minute, row.requests, row.lastAt]);
      await knex.raw(
        `INSERT INTO client_activity (client_id, kind, minute, requests, last_at)
         SELECT v.client_id, v.kind, v.minute, v.requests, v.last_at
         FROM (VALUES ${values}) AS v (client_id, kind, minute, requests, last_at)
         JOIN scim_clients c ON c.id = v.client_id
         ON CONFLICT (client_id, kind, minute) DO UPDATE
         SET requests = client_activity.requests + excluded.requests, last_at = greatest(client_activity.last_at, excluded.last_at)`,
        bindings,
      );
    },

    /** Counted reads, newest minute first, labelled with the client's name. */
    async list(query: ReadCountQuery = {}): Promise<{ items: ReadCountRow[]; total: number }> {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 1000);
      const offset = Math.max(query.offset ?? 0, 0);
      const [rows, [count]] = await Promise.all([
        filtered(query)
          .leftJoin('scim_clients as c', 'c.id', 'a.client_id')
          .select('a.client_id', 'c.name as client_name', 'a.kind', 'a.minute', 'a.requests', 'a.last_at')
          .orderBy([{ column: 'a.minute', order: 'desc' }, { column: 'c.name' }, { column: 'a.kind' }])
          .limit(limit)
          .offset(offset),
        filtered(query).count<Array<{ total: number }>>('* as total'),
      ]);
      const items = (rows as Array<{ client_id: string; client_name: string | null; kind: ReadKind; minute: Date; requests: number; last_at: Date }>).map((row) => ({
        clientId: row.client_id,
        clientName: row.client_name,
        kind: row.kind,
        minute: new Date(row.minute),
        requests: Number(row.requests),
        lastAt: new Date(row.last_at),
      }));
      return { items, total: Number(count?.total ?? 0) };
    },
  };
}

export type ClientActivityService = ReturnType<typeof createClientActivityService>;
