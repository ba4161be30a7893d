import type { Knex } from 'knex';
import { GROUP_COLUMNS, isUuid, toGroupRecord, type GroupRow } from './rows.js';
import { selectRows, statement, type Prepared } from '@roster/db';
import { listResources } from './users.js';
import type { AuditEventInput } from '../audit.js';
import { auditEventCte, auditEventParameter, CHANGE_RECORD_COLUMNS, notifyWhenAny } from '../changes/change-log.js';
import { MEMBERS_PER_CHANGE, type ChangeContext } from '../changes/types.js';
import type { GroupColumns, GroupRecord, JsonObject, ListQuery, ResourceRef, Visibility } from './types.js';
import { directoryChangesTable, groupMembersTable, groupsTable, usersTable } from '../models/index.js';

type Db = Knex | Knex.Transaction;

const U = usersTable.columns;
const G = groupsTable.columns;
const M = groupMembersTable.columns;
const C = directoryChangesTable.columns;

/** What a one-statement member PATCH records with its memberships: the request's context and audit event. */
export interface AtOnceRecord {
  context: ChangeContext;
  audit?: AuditEventInput | null;
}

function contextValues(record: AtOnceRecord): unknown[] {
  return [record.context.actor.type, record.context.actor.id, record.context.requestId ?? null];
}

// Member lists are written in slices so one statement never exceeds PostgreSQL's bind parameter limit.
const SLICE = 10_000;

const GROUP_COLUMNS_SQL = GROUP_COLUMNS.join(', ');
const BUMPED_VERSION = `${G.version} + 1`;
const GROUP_BY_ID = `SELECT ${GROUP_COLUMNS_SQL} FROM groups AS r WHERE r.id = ?`;

/*
 * A PATCH that only removes listed members, or only adds members, as ONE statement outside any transaction
 * (removeMembersAtOnce, addMembersAtOnce). The locks are taken in the order of the transaction it replaces
 * (see the group service's patchMembers): FOR KEY SHARE on the group row (`g`), the membership rows (deleted,
 * FOR UPDATE in id order; or inserted in id order), then the version bump. The order is the plan's, so each
 * step is made to need the one before as a scalar subquery (an InitPlan, run before the scan that uses it): the
 * memberships are found or written with `(SELECT id FROM g)`, and the bump's WHERE needs `counted`, that is the
 * whole `changed`, before it touches the group row. What changes is that the bump is held only until the
 * statement's own commit, not for a round trip to the gateway and back with COMMIT: PATCHes of one group take
 * turns on that row (docs/benchmarks.md, finding 34). One row comes back when the group is there: the group
 * after the bump, or as it was when nothing changed (a retry must not bump the version); none when it is not.
 */

/**
 * The start of both: the group (visible to the caller) locked FOR KEY SHARE, as `g`, then the request's change
 * context as `x`.
 */
function lockGroupSql(owned: boolean): string {
  return (
    `WITH g AS (SELECT ${GROUP_COLUMNS_SQL} FROM groups AS r WHERE r.id = ?${owned ? ` AND r.${G.createdByClientId} = ?` : ''} FOR KEY SHARE), ` +
    `x AS (SELECT ?::text AS ${C.actorType}, ?::uuid AS ${C.actorId}, ?::text AS ${C.requestId}), `
  );
}

/**
 * The end of both: the bump when the `changed` CTE changed any membership, the change records naming the
 * members changed (`kind`; MEMBERS_PER_CHANGE ids a record, in id order, as recordChanges splits them), the
 * request's audit event when `audited` holds (SQL over the CTEs), the NOTIFY for change-log readers, and the
 * answer: the group after the bump, or `g` as it was; `extra` is columns in front of the group's (each followed
 * by a comma). All of it commits with the memberships, in the one statement.
 */
function bumpAndAnswerSql(extra: string, kind: 'group.members.added' | 'group.members.removed', audited: string): string {
  return (
    'counted AS (SELECT count(*)::int AS n FROM changed), ' +
    `bumped AS (UPDATE groups AS r SET ${G.version} = r.${G.version} + 1, ${G.updatedAt} = now() ` +
    `WHERE r.id = (SELECT id FROM g) AND (SELECT n FROM counted) > 0 RETURNING ${GROUP_COLUMNS_SQL}), ` +
    `recorded AS (INSERT INTO ${directoryChangesTable.table} (${CHANGE_RECORD_COLUMNS}) ` +
    `SELECT '${kind}', 'Group', g.id, g.${G.externalId}, g.${G.createdByClientId}, x.${C.actorType}, x.${C.actorId}, x.${C.requestId}, jsonb_build_object('members', m.members) ` +
    `FROM g, x, (SELECT chunk, jsonb_agg(${M.userId} ORDER BY ${M.userId}) AS members FROM (SELECT ${M.userId}, (row_number() OVER (ORDER BY ${M.userId}) - 1) / ${MEMBERS_PER_CHANGE} AS chunk FROM changed) AS c GROUP BY chunk) AS m ` +
    'ORDER BY m.chunk RETURNING 1), ' +
    `${auditEventCte('audited', `(SELECT 1 FROM g WHERE ${audited}) AS audit_if`)} ` +
    `SELECT answer.* FROM (SELECT ${extra}b.* FROM bumped AS b UNION ALL SELECT ${extra}g.* FROM g WHERE NOT EXISTS (SELECT 1 FROM bumped)) AS answer, ` +
    notifyWhenAny('recorded')
  );
}

function removeAtOnceSql(owned: boolean): Prepared {
  return statement(
    lockGroupSql(owned) +
      `changed AS (DELETE FROM ${groupMembersTable.table} WHERE ${M.groupId} = (SELECT id FROM g) AND ${M.userId} IN (` +
      `SELECT ${M.userId} FROM ${groupMembersTable.table} WHERE ${M.groupId} = (SELECT id FROM g) AND ${M.userId} = ANY(?::uuid[]) ORDER BY ${M.userId} FOR UPDATE) RETURNING ${M.userId}), ` +
      bumpAndAnswerSql('', 'group.members.removed', 'TRUE'),
  );
}
const REMOVE_AT_ONCE = { any: removeAtOnceSql(false), owned: removeAtOnceSql(true) };

/**
 * For adds, the users are looked up with the caller's visibility (as userRepository.existingIds) and the
 * memberships inserted only if every one was found: `complete` false means nothing was written.
 */
function addAtOnceSql(owned: boolean): Prepared {
  return statement(
    lockGroupSql(owned) +
      `found AS (SELECT r.id FROM users AS r WHERE r.id = ANY(?::uuid[])${owned ? ` AND r.${U.createdByClientId} = ?` : ''}), ` +
      'complete AS (SELECT count(*) = ?::int AS ok FROM found), ' +
      `changed AS (INSERT INTO ${groupMembersTable.table} (${M.groupId}, ${M.userId}) SELECT (SELECT id FROM g), f.id FROM found AS f ` +
      `WHERE (SELECT id FROM g) IS NOT NULL AND (SELECT ok FROM complete) ORDER BY f.id ON CONFLICT DO NOTHING RETURNING ${M.userId}), ` +
      bumpAndAnswerSql('(SELECT ok FROM complete) AS complete, ', 'group.members.added', '(SELECT ok FROM complete)'),
  );
}
const ADD_AT_ONCE = { any: addAtOnceSql(false), owned: addAtOnceSql(true) };

// Names for the statements and knex builders below, spelled out once at load rather than on every request.
const OWNED_GROUP_BY_ID = `${GROUP_BY_ID} AND r.${G.createdByClientId} = ?`;
const R_OWNER = `r.${G.createdByClientId}`;
const DELETE_GROUP = `WITH memberships AS (DELETE FROM ${groupMembersTable.table} WHERE ${M.groupId} = ?) DELETE FROM groups WHERE id = ?`;
const MEMBERSHIPS_AS_GM = `${groupMembersTable.table} as gm`;
const GM_USER_ID = `gm.${M.userId}`;
const GM_GROUP_ID = `gm.${M.groupId}`;
const MEMBER_DISPLAY = `coalesce(u.${U.displayName}, u.${U.userName}) AS display`;
const U_DISPLAY_NAME = `u.${U.displayName}`;
const U_USER_NAME = `u.${U.userName}`;
const U_SEQ = `u.${U.seq}`;
const U_OWNER = `u.${U.createdByClientId}`;
const INSERT_MEMBERS = `INSERT INTO ${groupMembersTable.table} (${M.groupId}, ${M.userId}) SELECT ?::uuid, member FROM unnest(?::uuid[]) AS member ORDER BY member ON CONFLICT DO NOTHING RETURNING ${M.userId}`;
const OWN_SIDE = ` AND ${M.userId} IN (SELECT id FROM users WHERE ${U.createdByClientId} = ?)`;
const DELETE_LISTED_MEMBERS =
  `DELETE FROM ${groupMembersTable.table} WHERE ${M.groupId} = ? AND ${M.userId} IN (
   SELECT ${M.userId} FROM ${groupMembersTable.table} WHERE ${M.groupId} = ? AND ${M.userId} = ANY(?::uuid[]) ORDER BY ${M.userId} FOR UPDATE
 ) RETURNING ${M.userId}`;
const deleteOtherMembersSql = (ownSide: string): string =>
  `DELETE FROM ${groupMembersTable.table} WHERE ${M.groupId} = ? AND NOT (${M.userId} = ANY(?::uuid[]))${ownSide} RETURNING ${M.userId}`;
const DELETE_OTHER_MEMBERS = { any: deleteOtherMembersSql(''), owned: deleteOtherMembersSql(OWN_SIDE) };

/**
 * Groups and memberships. A group row never holds its members: changing one member touches one row.
 *
 * group_members.group_id has no foreign key (migration 20261128190000 says why); the rule that replaces it:
 * memberships are inserted only by a transaction that created the group, or that holds a lock on the group's
 * row which a DELETE waits for (FOR KEY SHARE or stronger, `findById(..., { lock })`), and `delete` removes a
 * group's memberships in the same statement as the group. So no membership outlives its group, and none is
 * written for a group deleted meanwhile. user_id keeps its foreign key (ON DELETE CASCADE).
 */
export const groupRepository = {
  /**
   * `lock` holds a row lock on the group until the transaction ends (PostgreSQL "Explicit Locking", Row-Level
   * Locks): 'update' (FOR UPDATE) keeps every other writer of the group out; 'keyShare' (FOR KEY SHARE) only
   * keeps the group from being deleted, and lets other transactions bump its version meanwhile.
   */
  async findById(db: Db, id: string, visibility: Visibility = {}, options: { lock?: 'update' | 'keyShare' } = {}): Promise<GroupRecord | undefined> {
    if (!isUuid(id)) return undefined;
    if (!options.lock) {
      const [row] = visibility.ownerClientId
        ? await selectRows<GroupRow>(db, OWNED_GROUP_BY_ID, [id, visibility.ownerClientId])
        : await selectRows<GroupRow>(db, GROUP_BY_ID, [id]);
      return row ? toGroupRecord(row) : undefined;
    }
    const query = db('groups as r').select(GROUP_COLUMNS).where('r.id', id);
    if (visibility.ownerClientId) query.where(R_OWNER, visibility.ownerClientId);
    if (options.lock === 'update') query.forUpdate();
    else query.forKeyShare();
    const row = (await query.first()) as GroupRow | undefined;
    return row ? toGroupRecord(row) : undefined;
  },

  async list(db: Db, query: ListQuery): Promise<{ items: GroupRecord[]; total: number }> {
    return listResources(db, 'groups', GROUP_COLUMNS_SQL, query, toGroupRecord as (row: unknown) => GroupRecord);
  },

  async insert(db: Db, input: { columns: GroupColumns; data: JsonObject; createdByClientId: string | null }): Promise<GroupRecord> {
    const [row] = (await db('groups')
      .insert({ ...input.columns, [G.data]: JSON.stringify(input.data), [G.createdByClientId]: input.createdByClientId })
      .returning(GROUP_COLUMNS.map((column) => column.slice(2)))) as GroupRow[];
    return toGroupRecord(row!);
  },

  /** Writes new attributes (or only bumps the version when members changed) and returns the new row. */
  async update(db: Db, id: string, input: { columns: GroupColumns; data: JsonObject } | null): Promise<GroupRecord> {
    const [row] = (await db('groups')
      .where('id', id)
      .update({
        ...(input ? { ...input.columns, [G.data]: JSON.stringify(input.data) } : {}),
        [G.version]: db.raw(BUMPED_VERSION),
        [G.updatedAt]: db.fn.now(),
      })
      .returning(GROUP_COLUMNS.map((column) => column.slice(2)))) as GroupRow[];
    return toGroupRecord(row!);
  },

  /** Deletes the group and its memberships in one statement (group_members.group_id has no foreign key). */
  async delete(db: Db, id: string): Promise<boolean> {
    const result = (await db.raw(DELETE_GROUP, [id, id])) as {
      rowCount?: number;
      affectedRows?: number;
    };
    return (result.rowCount ?? result.affectedRows ?? 0) > 0;
  },

  /**
   * The group's members; with data scope "own", only the client's own users: a client with scope "all" may
   * have put another client's user into this client's group, and the own-scope client must not learn that
   * user's id and name through it.
   */
  async members(db: Db, groupId: string, visibility: Visibility = {}): Promise<ResourceRef[]> {
    // The display name chosen in SQL: one string per member instead of two (a group can have 100,000 members).
    const query = db(MEMBERSHIPS_AS_GM)
      .join('users as u', 'u.id', GM_USER_ID)
      .select('u.id', db.raw(MEMBER_DISPLAY))
      .where(GM_GROUP_ID, groupId)
      .orderBy(U_SEQ);
    if (visibility.ownerClientId) query.where(U_OWNER, visibility.ownerClientId);
    const rows = (await query) as Array<{ id: string; display: string }>;
    return rows.map((row) => ({ value: row.id, display: row.display }));
  },

  /** Members of several groups at once (list responses), one query. */
  async membersOf(db: Db, groupIds: string[], visibility: Visibility = {}): Promise<Map<string, ResourceRef[]>> {
    const result = new Map<string, ResourceRef[]>(groupIds.map((id) => [id, []]));
    if (groupIds.length === 0) return result;
    const query = db(MEMBERSHIPS_AS_GM)
      .join('users as u', 'u.id', GM_USER_ID)
      .select(GM_GROUP_ID, 'u.id', U_DISPLAY_NAME, U_USER_NAME)
      .whereIn(GM_GROUP_ID, groupIds)
      .orderBy(U_SEQ);
    // Data scope "own": only the client's own users, as in `members`.
    if (visibility.ownerClientId) query.where(U_OWNER, visibility.ownerClientId);
    const rows = (await query) as Array<{ [M.groupId]: string; id: string; [U.displayName]: string | null; [U.userName]: string }>;
    for (const row of rows) result.get(row[M.groupId])?.push({ value: row.id, display: row[U.displayName] ?? row[U.userName] });
    return result;
  },

  /**
   * Adds members; those already in the group are left alone. Returns the ids added.
   * Rows are inserted in id order, slice after slice: an insert waits for an uncommitted insert or delete of the
   * same member, so two transactions adding overlapping members wait in the same order and cannot deadlock
   * (service/groups.ts runs PATCHes of one group's members concurrently).
   */
  async addMembers(db: Db, groupId: string, userIds: string[]): Promise<string[]> {
    const added: string[] = [];
    const ids = inIdOrder(userIds);
    for (let start = 0; start < ids.length; start += SLICE) {
      const slice = ids.slice(start, start + SLICE);
      const result = (await db.raw(
        INSERT_MEMBERS,
        [groupId, slice],
      )) as { rows: Array<{ [M.userId]: string }> };
      for (const row of result.rows) added.push(row[M.userId]);
    }
    return added;
  },

  /**
   * Removes these members; ids that are not members are ignored. Returns the ids removed.
   * The rows are locked in id order before they are deleted (ORDER BY is applied before FOR UPDATE, PostgreSQL
   * SELECT, "The Locking Clause"), for the same reason as in addMembers: a DELETE alone locks rows in the order
   * of its plan, which differs between an index scan and a bitmap heap scan.
   */
  async removeMembers(db: Db, groupId: string, userIds: string[]): Promise<string[]> {
    const removed: string[] = [];
    const ids = inIdOrder(userIds.filter(isUuid));
    for (let start = 0; start < ids.length; start += SLICE) {
      const result = (await db.raw(
        DELETE_LISTED_MEMBERS,
        [groupId, groupId, ids.slice(start, start + SLICE)],
      )) as { rows: Array<{ [M.userId]: string }> };
      for (const row of result.rows) removed.push(row[M.userId]);
    }
    return removed;
  },

  /**
   * Removes these members and bumps the version when any was removed, in one statement (REMOVE_AT_ONCE).
   * For at most SLICE ids; undefined when the group is not there or not visible.
   */
  async removeMembersAtOnce(db: Knex, groupId: string, userIds: string[], visibility: Visibility, record: AtOnceRecord): Promise<GroupRecord | undefined> {
    if (!isUuid(groupId)) return undefined;
    const ids = userIds.filter(isUuid);
    if (ids.length > SLICE) throw new Error(`removeMembersAtOnce takes at most ${SLICE} ids`);
    const context = contextValues(record);
    const audit = auditEventParameter(record.audit);
    const [row] = visibility.ownerClientId
      ? await selectRows<GroupRow>(db, REMOVE_AT_ONCE.owned, [groupId, visibility.ownerClientId, ...context, ids, audit])
      : await selectRows<GroupRow>(db, REMOVE_AT_ONCE.any, [groupId, ...context, ids, audit]);
    return row ? toGroupRecord(row) : undefined;
  },

  /**
   * Adds these users (distinct uuids, at most SLICE) as members and bumps the version when any was new, in one
   * statement (ADD_AT_ONCE). undefined when the group is not there or not visible; `complete: false`, with
   * nothing written, when a user is not there or not visible to the caller.
   */
  async addMembersAtOnce(
    db: Knex,
    groupId: string,
    userIds: string[],
    visibility: Visibility,
    record: AtOnceRecord,
  ): Promise<{ complete: false } | { complete: true; group: GroupRecord } | undefined> {
    if (!isUuid(groupId)) return undefined;
    if (userIds.length > SLICE || !userIds.every(isUuid)) throw new Error(`addMembersAtOnce takes at most ${SLICE} uuids`);
    type Row = GroupRow & { complete: boolean };
    const context = contextValues(record);
    const audit = auditEventParameter(record.audit);
    const [row] = visibility.ownerClientId
      ? await selectRows<Row>(db, ADD_AT_ONCE.owned, [groupId, visibility.ownerClientId, ...context, userIds, visibility.ownerClientId, userIds.length, audit])
      : await selectRows<Row>(db, ADD_AT_ONCE.any, [groupId, ...context, userIds, userIds.length, audit]);
    if (!row) return undefined;
    if (!row.complete) return { complete: false };
    return { complete: true, group: toGroupRecord(row) };
  },

  /** The most ids removeMembersAtOnce and addMembersAtOnce take. */
  atOnceLimit: SLICE,

  async removeAllMembers(db: Db, groupId: string): Promise<number> {
    return db(groupMembersTable.table).where(M.groupId, groupId).delete();
  },

  /**
   * Makes the member set equal to `wanted`, touching only the rows that differ. Returns the ids added and removed.
   * With data scope "own" only the caller's own users are replaced: members it cannot see (another client's
   * users, linked by a client with scope "all") are not its to remove, as they are not its to read (`members`).
   */
  async replaceMembers(db: Db, groupId: string, wanted: string[], visibility: Visibility = {}): Promise<{ added: string[]; removed: string[] }> {
    const owner = visibility.ownerClientId;
    const result = (await db.raw(
      owner ? DELETE_OTHER_MEMBERS.owned : DELETE_OTHER_MEMBERS.any,
      owner ? [groupId, wanted, owner] : [groupId, wanted],
    )) as { rows: Array<{ [M.userId]: string }> };
    const added = wanted.length ? await groupRepository.addMembers(db, groupId, wanted) : [];
    return { added, removed: result.rows.map((row) => row[M.userId]) };
  },
};

/** Lowercase uuids sorted as strings are in PostgreSQL's uuid order (byte order), so slices follow each other. */
function inIdOrder(ids: string[]): string[] {
  return ids.map((id) => id.toLowerCase()).sort();
}
