import type { Knex } from 'knex';
import { minuteOf } from './client-activity.js';
import { isUuid } from './directory/rows.js';
import { groupMembersTable, groupsTable, userProviderLinksTable, usersTable } from './models/index.js';
import { extensionsOf, type ExtensionValues } from './directory/extensions.js';
import type { JsonObject } from './directory/types.js';
import { AUDIT_COLUMNS, applyAuditFilters, createAuditService, toAuditEvent, type AuditEvent, type AuditQuery, type AuditRow } from './audit.js';

// Read-only queries for the admin app's directory and activity screens. Plain knex with explicit columns;
// list pages are ordered by indexed expressions (lower(user_name), lower(display_name), audit id) and a
// group's member count is computed only for the groups on the page.

export interface DirectoryUserSummary {
  id: string;
  userName: string;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  externalId: string | null;
  active: boolean;
  lockReason: string | null;
  emails: Array<{ value: string; type?: string; primary?: boolean }>;
  createdByClientId: string | null;
  createdByClientName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DirectoryUserDetail extends DirectoryUserSummary {
  /** The user's SCIM attributes as provisioned (users.data). */
  attributes: Record<string, unknown>;
  /** The extension values among `attributes`, each marked declared or unrecognized (issue 22). */
  extensions: ExtensionValues[];
  groups: Array<{ id: string; displayName: string }>;
  /** How many groups the user is in; `groups` lists at most USER_DETAIL_GROUPS of them. */
  groupCount: number;
  providerLinks: Array<{ providerId: string; providerName: string; providerKind: string; externalId: string }>;
  recentActivity: AuditEvent[];
}

export interface DirectoryGroupSummary {
  id: string;
  displayName: string;
  externalId: string | null;
  memberCount: number;
  createdByClientId: string | null;
  createdByClientName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DirectoryGroupDetail extends DirectoryGroupSummary {
  attributes: Record<string, unknown>;
  extensions: ExtensionValues[];
}

export interface GroupMemberSummary {
  id: string;
  userName: string;
  displayName: string | null;
  active: boolean;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface PageQuery {
  q?: string | undefined;
  limit: number;
  offset: number;
}

export interface UserListQuery extends PageQuery {
  active?: boolean | undefined;
  clientId?: string | undefined;
}

export interface ActivityStatsQuery {
  bucket: 'minute' | 'hour' | 'day';
  from: Date;
  to: Date;
  clientId?: string | undefined;
}

export interface ActivityStatPoint {
  bucketStart: Date;
  clientId: string | null;
  clientName: string | null;
  requests: number;
  errors: number;
}

const U = usersTable.columns;
const G = groupsTable.columns;
const M = groupMembersTable.columns;
const L = userProviderLinksTable.columns;

export const USER_DETAIL_GROUPS = 500;
export const USER_DETAIL_ACTIVITY = 20;

interface UserRow {
  id: string;
  [U.userName]: string;
  [U.displayName]: string | null;
  [U.givenName]: string | null;
  [U.familyName]: string | null;
  [U.externalId]: string | null;
  active: boolean;
  [U.lockReason]: string | null;
  emails: unknown;
  [U.createdByClientId]: string | null;
  client_name: string | null;
  [U.createdAt]: Date;
  [U.updatedAt]: Date;
}

interface GroupRow {
  id: string;
  [G.displayName]: string;
  [G.externalId]: string | null;
  member_count: number | string;
  [G.createdByClientId]: string | null;
  client_name: string | null;
  [G.createdAt]: Date;
  [G.updatedAt]: Date;
}

const USER_COLUMNS = [
  'r.id', `r.${U.userName}`, `r.${U.displayName}`, `r.${U.givenName}`, `r.${U.familyName}`, `r.${U.externalId}`, `r.${U.active}`, `r.${U.lockReason}`,
  `r.${U.createdByClientId}`, 'c.name as client_name', `r.${U.createdAt}`, `r.${U.updatedAt}`,
];

function like(q: string): string {
  return `%${q.replace(/[\\%_]/g, '\\$&')}%`;
}

function toEmails(value: unknown): DirectoryUserSummary['emails'] {
  if (!Array.isArray(value)) return [];
  const emails: DirectoryUserSummary['emails'] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { value: address, type, primary } = entry as Record<string, unknown>;
    if (typeof address !== 'string') continue;
    emails.push({ value: address, ...(typeof type === 'string' ? { type } : {}), ...(primary === true ? { primary: true } : {}) });
  }
  return emails;
}

function toUser(row: UserRow): DirectoryUserSummary {
  return {
    id: row.id,
    userName: row[U.userName],
    displayName: row[U.displayName],
    givenName: row[U.givenName],
    familyName: row[U.familyName],
    externalId: row[U.externalId],
    active: row.active,
    lockReason: row[U.lockReason],
    emails: toEmails(typeof row.emails === 'string' ? JSON.parse(row.emails) : row.emails),
    createdByClientId: row[U.createdByClientId],
    createdByClientName: row.client_name,
    createdAt: new Date(row[U.createdAt]),
    updatedAt: new Date(row[U.updatedAt]),
  };
}

function toGroup(row: GroupRow): DirectoryGroupSummary {
  return {
    id: row.id,
    displayName: row[G.displayName],
    externalId: row[G.externalId],
    memberCount: Number(row.member_count),
    createdByClientId: row[G.createdByClientId],
    createdByClientName: row.client_name,
    createdAt: new Date(row[G.createdAt]),
    updatedAt: new Date(row[G.updatedAt]),
  };
}

function jsonObject(value: unknown): Record<string, unknown> {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

export function createDirectoryReadService(knex: Knex) {
  /** The extensions a resource holds, each marked declared (schema_extensions) or unrecognized. */
  async function extensionValues(resourceType: 'User' | 'Group', data: Record<string, unknown>): Promise<ExtensionValues[]> {
    const held = extensionsOf({ data: data as JsonObject });
    const urns = Object.keys(held);
    if (urns.length === 0) return [];
    const rows = (await knex('schema_extensions').select('urn').where('resource_type', resourceType).whereIn(knex.raw('lower(urn)') as never, urns.map((urn) => urn.toLowerCase()))) as Array<{ urn: string }>;
    const declared = new Set(rows.map((row) => row.urn.toLowerCase()));
    declared.add('urn:ietf:params:scim:schemas:extension:enterprise:2.0:user');
    return urns.map((urn) => ({ urn, declared: declared.has(urn.toLowerCase()), values: held[urn]! }));
  }

  const audit = createAuditService(knex);

  function userBase(query: UserListQuery): Knex.QueryBuilder {
    const builder = knex('users as r');
    if (query.active !== undefined) builder.where('r.active', query.active);
    if (query.clientId !== undefined) {
      // An id that is not a uuid names no client: answer an empty page rather than a cast error.
      if (!isUuid(query.clientId)) builder.whereRaw('false');
      else builder.where(`r.${U.createdByClientId}`, query.clientId);
    }
    if (query.q) {
      const pattern = like(query.q);
      const lower = like(query.q.toLowerCase());
      builder.where((inner) =>
        inner
          .whereILike(`r.${U.userName}`, pattern)
          .orWhereILike(`r.${U.displayName}`, pattern)
          .orWhereILike(`r.${U.givenName}`, pattern)
          .orWhereILike(`r.${U.familyName}`, pattern)
          .orWhereRaw(`concat_ws(' ', r.${U.givenName}, r.${U.familyName}) ILIKE ?`, [pattern])
          .orWhereRaw(`EXISTS (SELECT 1 FROM unnest(r.${U.emailsLower}) AS e(v) WHERE e.v LIKE ?)`, [lower]),
      );
    }
    return builder;
  }

  async function findUser(id: string): Promise<DirectoryUserSummary | undefined> {
    if (!isUuid(id)) return undefined;
    const row = (await knex('users as r')
      .leftJoin('scim_clients as c', 'c.id', `r.${U.createdByClientId}`)
      .select([...USER_COLUMNS, knex.raw(`r.data -> 'emails' as emails`)])
      .where('r.id', id)
      .first()) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  function groupSelect(): Knex.QueryBuilder {
    return knex('groups as r')
      .leftJoin('scim_clients as c', 'c.id', `r.${U.createdByClientId}`)
      .select([
        'r.id', `r.${G.displayName}`, `r.${G.externalId}`, `r.${G.createdByClientId}`, 'c.name as client_name', `r.${G.createdAt}`, `r.${G.updatedAt}`,
        knex.raw(`(SELECT count(*)::int FROM ${groupMembersTable.table} m WHERE m.${M.groupId} = r.id) as member_count`),
      ]);
  }

  return {
    async listUsers(query: UserListQuery): Promise<Page<DirectoryUserSummary>> {
      const [rows, [count]] = await Promise.all([
        userBase(query)
          .leftJoin('scim_clients as c', 'c.id', `r.${U.createdByClientId}`)
          .select([...USER_COLUMNS, knex.raw(`r.data -> 'emails' as emails`)])
          .orderByRaw(`lower(r.${U.userName}), r.id`)
          .limit(query.limit)
          .offset(query.offset),
        userBase(query).count<Array<{ total: number | string }>>('* as total'),
      ]);
      return { items: (rows as UserRow[]).map(toUser), total: Number(count?.total ?? 0) };
    },

    async getUser(id: string): Promise<DirectoryUserDetail | undefined> {
      const user = await findUser(id);
      if (!user) return undefined;
      const [dataRow, groups, [groupCount], links, activity] = await Promise.all([
        knex('users').select('data').where('id', id).first() as Promise<{ data: unknown }>,
        knex(`${groupMembersTable.table} as m`)
          .join('groups as g', 'g.id', `m.${M.groupId}`)
          .select('g.id', `g.${G.displayName}`)
          .where(`m.${M.userId}`, id)
          .orderByRaw(`lower(g.${G.displayName}), g.id`)
          .limit(USER_DETAIL_GROUPS) as Promise<Array<{ id: string; [G.displayName]: string }>>,
        knex(groupMembersTable.table).where(M.userId, id).count<Array<{ total: number | string }>>('* as total'),
        knex(`${userProviderLinksTable.table} as l`)
          .join('auth_providers as p', 'p.id', `l.${L.providerId}`)
          .select(`l.${L.providerId}`, 'p.name', 'p.kind', `l.${L.externalId}`)
          .where(`l.${L.userId}`, id)
          .orderByRaw('lower(p.name)') as Promise<Array<{ [L.providerId]: string; name: string; kind: string; [L.externalId]: string }>>,
        audit.list({ resourceId: id, limit: USER_DETAIL_ACTIVITY }),
      ]);
      const attributes = jsonObject(dataRow?.data);
      return {
        ...user,
        attributes,
        extensions: await extensionValues('User', attributes),
        groups: groups.map((group) => ({ id: group.id, displayName: group[G.displayName] })),
        groupCount: Number(groupCount?.total ?? 0),
        providerLinks: links.map((link) => ({ providerId: link[L.providerId], providerName: link.name, providerKind: link.kind, externalId: link[L.externalId] })),
        recentActivity: activity.items,
      };
    },

    async listGroups(query: PageQuery): Promise<Page<DirectoryGroupSummary>> {
      const filter = (builder: Knex.QueryBuilder): Knex.QueryBuilder => (query.q ? builder.whereILike(`r.${G.displayName}`, like(query.q)) : builder);
      const [rows, [count]] = await Promise.all([
        filter(groupSelect()).orderByRaw(`lower(r.${G.displayName}), r.id`).limit(query.limit).offset(query.offset),
        filter(knex('groups as r')).count<Array<{ total: number | string }>>('* as total'),
      ]);
      return { items: (rows as GroupRow[]).map(toGroup), total: Number(count?.total ?? 0) };
    },

    async getGroup(id: string): Promise<DirectoryGroupDetail | undefined> {
      if (!isUuid(id)) return undefined;
      const row = (await groupSelect().select('r.data').where('r.id', id).first()) as (GroupRow & { data: unknown }) | undefined;
      if (!row) return undefined;
      const attributes = jsonObject(row.data);
      return { ...toGroup(row), attributes, extensions: await extensionValues('Group', attributes) };
    },

    /** Members of a group, paged and searchable; undefined when the group does not exist. */
    async listGroupMembers(groupId: string, query: PageQuery): Promise<Page<GroupMemberSummary> | undefined> {
      if (!isUuid(groupId)) return undefined;
      const group = await knex('groups').select('id').where('id', groupId).first();
      if (!group) return undefined;
      const base = (): Knex.QueryBuilder => {
        const builder = knex(`${groupMembersTable.table} as m`).join('users as u', 'u.id', `m.${M.userId}`).where(`m.${M.groupId}`, groupId);
        if (query.q) {
          const pattern = like(query.q);
          builder.where((inner) => inner.whereILike(`u.${U.userName}`, pattern).orWhereILike(`u.${U.displayName}`, pattern));
        }
        return builder;
      };
      const [rows, [count]] = await Promise.all([
        base().select('u.id', `u.${U.userName}`, `u.${U.displayName}`, 'u.active').orderByRaw(`lower(u.${U.userName}), u.id`).limit(query.limit).offset(query.offset),
        base().count<Array<{ total: number | string }>>('* as total'),
      ]);
      const items = (rows as Array<{ id: string; [U.userName]: string; [U.displayName]: string | null; active: boolean }>).map((row) => ({
        id: row.id,
        userName: row[U.userName],
        displayName: row[U.displayName],
        active: row.active,
      }));
      return { items, total: Number(count?.total ?? 0) };
    },

    /** Names of SCIM clients and applications by id, for labelling activity rows (one query per page). */
    async clientNames(ids: Array<string | null>): Promise<Map<string, string>> {
      const wanted = [...new Set(ids.filter((id): id is string => isUuid(id)))];
      if (wanted.length === 0) return new Map();
      // Applications act in the log like SCIM clients (actor type `application`): their names label rows too.
      const rows = (await knex('scim_clients')
        .select('id', 'name')
        .whereIn('id', wanted)
        .unionAll((union) => union.select('id', 'name').from('applications').whereIn('id', wanted))) as Array<{ id: string; name: string }>;
      return new Map(rows.map((row) => [row.id, row.name]));
    },

    /**
     * Names of users (userName) and groups (displayName) by id, for labelling activity rows (two queries per
     * page at most); deleted resources are absent.
     */
    async resourceNames(refs: Array<{ resourceType: string | null; resourceId: string | null }>): Promise<Map<string, string>> {
      const ids = (type: string) => [...new Set(refs.filter((ref) => ref.resourceType === type && isUuid(ref.resourceId)).map((ref) => ref.resourceId as string))];
      const [users, groups] = [ids('User'), ids('Group')];
      const [userRows, groupRows] = await Promise.all([
        users.length ? (knex('users').select('id', `${U.userName} as name`).whereIn('id', users) as Promise<Array<{ id: string; name: string }>>) : [],
        groups.length ? (knex('groups').select('id', `${G.displayName} as name`).whereIn('id', groups) as Promise<Array<{ id: string; name: string }>>) : [],
      ]);
      return new Map([...userRows, ...groupRows].map((row) => [row.id, row.name]));
    },

    /** Emails of admins by id, for labelling activity rows (one query per page); removed admins are absent. */
    async adminEmails(ids: Array<string | null>): Promise<Map<string, string>> {
      const wanted = [...new Set(ids.filter((id): id is string => isUuid(id)))];
      if (wanted.length === 0) return new Map();
      const rows = (await knex('admins').select('id', 'email').whereIn('id', wanted)) as Array<{ id: string; email: string }>;
      return new Map(rows.map((row) => [row.id, row.email]));
    },

    /**
     * Activity newest first in batches by keyset (id below the last one seen), so exporting the 100,000th
     * row costs no more than the first; stops after `max` rows.
     */
    async *exportActivity(query: AuditQuery, max: number, batchSize = 1000): AsyncGenerator<AuditEvent[]> {
      let beforeId: number | undefined;
      let remaining = max;
      while (remaining > 0) {
        const builder = applyAuditFilters(knex('audit_events'), query).select(AUDIT_COLUMNS).orderBy('id', 'desc').limit(Math.min(batchSize, remaining));
        if (beforeId !== undefined) builder.where('id', '<', beforeId);
        const rows = (await builder) as AuditRow[];
        if (rows.length === 0) return;
        const events = rows.map(toAuditEvent);
        yield events;
        remaining -= events.length;
        beforeId = events[events.length - 1]!.id;
        if (rows.length < batchSize) return;
      }
    },

    /** SCIM requests and errors per client per hour or day (buckets in UTC). */
    async activityStats(query: ActivityStatsQuery): Promise<ActivityStatPoint[]> {
      // Logged requests (writes and failures, one row each) and counted reads (client_activity, one row per
      // client, kind and minute) together; reads are successes by definition.
      const logged = knex('audit_events as e')
        .select([knex.raw(`date_trunc(?, e.at, 'UTC') as bucket_start`, [query.bucket]), 'e.client_id', knex.raw('1 as requests'), knex.raw('(e.status >= 400)::int as errors')])
        .where('e.actor_type', 'scim_client')
        .where('e.at', '>=', query.from)
        .where('e.at', '<', query.to);
      const counted = knex('client_activity as r')
        .select([knex.raw(`date_trunc(?, r.minute, 'UTC') as bucket_start`, [query.bucket]), 'r.client_id', 'r.requests', knex.raw('0 as errors')])
        .where('r.minute', '>=', minuteOf(query.from))
        .where('r.minute', '<', query.to);
      if (query.clientId) {
        logged.where('e.client_id', query.clientId);
        counted.where('r.client_id', query.clientId);
      }
      const builder = knex
        .from(logged.unionAll(counted, true).as('x'))
        .leftJoin('scim_clients as c', 'c.id', 'x.client_id')
        .select(['x.bucket_start', 'x.client_id', knex.raw('min(c.name) as client_name'), knex.raw('sum(x.requests)::int as requests'), knex.raw('sum(x.errors)::int as errors')])
        .groupBy('x.bucket_start', 'x.client_id')
        .orderBy(['x.bucket_start', 'x.client_id']);
      const rows = (await builder) as Array<{ bucket_start: Date; client_id: string | null; client_name: string | null; requests: number; errors: number }>;
      return rows.map((row) => ({
        bucketStart: new Date(row.bucket_start),
        clientId: row.client_id,
        clientName: row.client_name,
        requests: Number(row.requests),
        errors: Number(row.errors),
      }));
    },
  };
}

export type DirectoryReadService = ReturnType<typeof createDirectoryReadService>;
