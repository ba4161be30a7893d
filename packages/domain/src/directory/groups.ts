import type { Knex } from 'knex';
import { GROUP_COLUMNS, isUuid, toGroupRecord, type GroupRow } from './rows.js';
import { selectRows, statement, type Prepared } from '@roster/db';
import { listResources } from './users.js';
import type { GroupColumns, GroupRecord, JsonObject, ListQuery, ResourceRef, Visibility } from './types.js';

type Db = Knex | Knex.Transaction;

// Member lists are written in slices so one statement never exceeds PostgreSQL's bind parameter limit.
const SLICE = 10_000;

const GROUP_COLUMNS_SQL = GROUP_COLUMNS.join(', ');
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

/** The start of both: the group (visible to the caller) locked FOR KEY SHARE, as `g`. */
function lockGroupSql(owned: boolean): string {
  return `WITH g AS (SELECT ${GROUP_COLUMNS_SQL} FROM groups AS r WHERE r.id = ?${owned ? ' AND r.created_by_client_id = ?' : ''} FOR KEY SHARE), `;
}

/**
 * The end of both: the bump when the `changed` CTE changed any membership, and the answer: the group after the
 * bump, or `g` as it was; `extra` is columns in front of the group's (each followed by a comma).
 */
function bumpAndAnswerSql(extra: string): string {
  return (
    'counted AS (SELECT count(*)::int AS n FROM changed), ' +
    'bumped AS (UPDATE groups AS r SET version = r.version + 1, updated_at = now() ' +
    `WHERE r.id = (SELECT id FROM g) AND (SELECT n FROM counted) > 0 RETURNING ${GROUP_COLUMNS_SQL}) ` +
    `SELECT ${extra}b.* FROM bumped AS b UNION ALL SELECT ${extra}g.* FROM g WHERE NOT EXISTS (SELECT 1 FROM bumped)`
  );
}

function removeAtOnceSql(owned: boolean): Prepared {
  return statement(
    lockGroupSql(owned) +
      'changed AS (DELETE FROM group_members WHERE group_id = (SELECT id FROM g) AND user_id IN (' +
      'SELECT user_id FROM group_members WHERE group_id = (SELECT id FROM g) AND user_id = ANY(?::uuid[]) ORDER BY user_id FOR UPDATE) RETURNING 1), ' +
      bumpAndAnswerSql(''),
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
      `found AS (SELECT r.id FROM users AS r WHERE r.id = ANY(?::uuid[])${owned ? ' AND r.created_by_client_id = ?' : ''}), ` +
      'complete AS (SELECT count(*) = ?::int AS ok FROM found), ' +
      'changed AS (INSERT INTO group_members (group_id, user_id) SELECT (SELECT id FROM g), f.id FROM found AS f ' +
      'WHERE (SELECT id FROM g) IS NOT NULL AND (SELECT ok FROM complete) ORDER BY f.id ON CONFLICT DO NOTHING RETURNING 1), ' +
      bumpAndAnswerSql('(SELECT ok FROM complete) AS complete, '),
  );
}
const ADD_AT_ONCE = { any: addAtOnceSql(false), owned: addAtOnceSql(true) };

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
        ? await selectRows<GroupRow>(db, `${GROUP_BY_ID} AND r.created_by_client_id = ?`, [id, visibility.ownerClientId])
        : await selectRows<GroupRow>(db, GROUP_BY_ID, [id]);
      return row ? toGroupRecord(row) : undefined;
    }
    const query = db('groups as r').select(GROUP_COLUMNS).where('r.id', id);
    if (visibility.ownerClientId) query.where('r.created_by_client_id', visibility.ownerClientId);
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
      .insert({ ...input.columns, data: JSON.stringify(input.data), created_by_client_id: input.createdByClientId })
      .returning(GROUP_COLUMNS.map((column) => column.slice(2)))) as GroupRow[];
    return toGroupRecord(row!);
  },

  /** Writes new attributes (or only bumps the version when members changed) and returns the new row. */
  async update(db: Db, id: string, input: { columns: GroupColumns; data: JsonObject } | null): Promise<GroupRecord> {
    const [row] = (await db('groups')
      .where('id', id)
      .update({
        ...(input ? { ...input.columns, data: JSON.stringify(input.data) } : {}),
        version: db.raw('version + 1'),
        updated_at: db.fn.now(),
      })
      .returning(GROUP_COLUMNS.map((column) => column.slice(2)))) as GroupRow[];
    return toGroupRecord(row!);
  },

  /** Deletes the group and its memberships in one statement (group_members.group_id has no foreign key). */
  async delete(db: Db, id: string): Promise<boolean> {
    const result = (await db.raw('WITH memberships AS (DELETE FROM group_members WHERE group_id = ?) DELETE FROM groups WHERE id = ?', [id, id])) as {
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
    const query = db('group_members as gm')
      .join('users as u', 'u.id', 'gm.user_id')
      .select('u.id', db.raw('coalesce(u.display_name, u.user_name) AS display'))
      .where('gm.group_id', groupId)
      .orderBy('u.seq');
    if (visibility.ownerClientId) query.where('u.created_by_client_id', visibility.ownerClientId);
    const rows = (await query) as Array<{ id: string; display: string }>;
    return rows.map((row) => ({ value: row.id, display: row.display }));
  },

  /** Members of several groups at once (list responses), one query. */
  async membersOf(db: Db, groupIds: string[], visibility: Visibility = {}): Promise<Map<string, ResourceRef[]>> {
    const result = new Map<string, ResourceRef[]>(groupIds.map((id) => [id, []]));
    if (groupIds.length === 0) return result;
    const query = db('group_members as gm')
      .join('users as u', 'u.id', 'gm.user_id')
      .select('gm.group_id', 'u.id', 'u.display_name', 'u.user_name')
      .whereIn('gm.group_id', groupIds)
      .orderBy('u.seq');
    // Data scope "own": only the client's own users, as in `members`.
    if (visibility.ownerClientId) query.where('u.created_by_client_id', visibility.ownerClientId);
    const rows = (await query) as Array<{ group_id: string; id: string; display_name: string | null; user_name: string }>;
    for (const row of rows) result.get(row.group_id)?.push({ value: row.id, display: row.display_name ?? row.user_name });
    return result;
  },

  /**
   * Adds members; those already in the group are left alone. Returns how many rows were added.
   * Rows are inserted in id order, slice after slice: an insert waits for an uncommitted insert or delete of the
   * same member, so two transactions adding overlapping members wait in the same order and cannot deadlock
   * (service/groups.ts runs PATCHes of one group's members concurrently).
   */
  async addMembers(db: Db, groupId: string, userIds: string[]): Promise<number> {
    let added = 0;
    const ids = inIdOrder(userIds);
    for (let start = 0; start < ids.length; start += SLICE) {
      const slice = ids.slice(start, start + SLICE);
      const result = (await db.raw(
        'INSERT INTO group_members (group_id, user_id) SELECT ?::uuid, member FROM unnest(?::uuid[]) AS member ORDER BY member ON CONFLICT DO NOTHING',
        [groupId, slice],
      )) as { rowCount?: number; affectedRows?: number };
      added += result.rowCount ?? result.affectedRows ?? 0;
    }
    return added;
  },

  /**
   * Removes these members; ids that are not members are ignored. Returns how many rows were removed.
   * The rows are locked in id order before they are deleted (ORDER BY is applied before FOR UPDATE, PostgreSQL
   * SELECT, "The Locking Clause"), for the same reason as in addMembers: a DELETE alone locks rows in the order
   * of its plan, which differs between an index scan and a bitmap heap scan.
   */
  async removeMembers(db: Db, groupId: string, userIds: string[]): Promise<number> {
    let removed = 0;
    const ids = inIdOrder(userIds.filter(isUuid));
    for (let start = 0; start < ids.length; start += SLICE) {
      const result = (await db.raw(
        `DELETE FROM group_members WHERE group_id = ? AND user_id IN (
           SELECT user_id FROM group_members WHERE group_id = ? AND user_id = ANY(?::uuid[]) ORDER BY user_id FOR UPDATE
         )`,
        [groupId, groupId, ids.slice(start, start + SLICE)],
      )) as { rowCount?: number; affectedRows?: number };
      removed += result.rowCount ?? result.affectedRows ?? 0;
    }
    return removed;
  },

  /**
   * Removes these members and bumps the version when any was removed, in one statement (REMOVE_AT_ONCE).
   * For at most SLICE ids; undefined when the group is not there or not visible.
   */
  async removeMembersAtOnce(db: Knex, groupId: string, userIds: string[], visibility: Visibility = {}): Promise<GroupRecord | undefined> {
    if (!isUuid(groupId)) return undefined;
    const ids = userIds.filter(isUuid);
    if (ids.length > SLICE) throw new Error(`removeMembersAtOnce takes at most ${SLICE} ids`);
    const [row] = visibility.ownerClientId
      ? await selectRows<GroupRow>(db, REMOVE_AT_ONCE.owned, [groupId, visibility.ownerClientId, ids])
      : await selectRows<GroupRow>(db, REMOVE_AT_ONCE.any, [groupId, ids]);
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
    visibility: Visibility = {},
  ): Promise<{ complete: false } | { complete: true; group: GroupRecord } | undefined> {
    if (!isUuid(groupId)) return undefined;
    if (userIds.length > SLICE || !userIds.every(isUuid)) throw new Error(`addMembersAtOnce takes at most ${SLICE} uuids`);
    type Row = GroupRow & { complete: boolean };
    const [row] = visibility.ownerClientId
      ? await selectRows<Row>(db, ADD_AT_ONCE.owned, [groupId, visibility.ownerClientId, userIds, visibility.ownerClientId, userIds.length])
      : await selectRows<Row>(db, ADD_AT_ONCE.any, [groupId, userIds, userIds.length]);
    if (!row) return undefined;
    if (!row.complete) return { complete: false };
    return { complete: true, group: toGroupRecord(row) };
  },

  /** The most ids removeMembersAtOnce and addMembersAtOnce take. */
  atOnceLimit: SLICE,

  async removeAllMembers(db: Db, groupId: string): Promise<number> {
    return db('group_members').where('group_id', groupId).delete();
  },

  /**
   * Makes the member set equal to `wanted`, touching only the rows that differ. Returns rows changed.
   * With data scope "own" only the caller's own users are replaced: members it cannot see (another client's
   * users, linked by a client with scope "all") are not its to remove, as they are not its to read (`members`).
   */
  async replaceMembers(db: Db, groupId: string, wanted: string[], visibility: Visibility = {}): Promise<number> {
    const owner = visibility.ownerClientId;
    if (wanted.length === 0 && !owner) return groupRepository.removeAllMembers(db, groupId);
    const ownSide = owner ? ' AND user_id IN (SELECT id FROM users WHERE created_by_client_id = ?)' : '';
    const removed = (await (wanted.length === 0
      ? db.raw(`DELETE FROM group_members WHERE group_id = ?${ownSide}`, [groupId, owner!])
      : db.raw(`DELETE FROM group_members WHERE group_id = ? AND NOT (user_id = ANY(?::uuid[]))${ownSide}`, owner ? [groupId, wanted, owner] : [groupId, wanted]))) as {
      rowCount?: number;
      affectedRows?: number;
    };
    if (wanted.length === 0) return removed.rowCount ?? removed.affectedRows ?? 0;
    const added = await groupRepository.addMembers(db, groupId, wanted);
    return (removed.rowCount ?? removed.affectedRows ?? 0) + added;
  },
};

/** Lowercase uuids sorted as strings are in PostgreSQL's uuid order (byte order), so slices follow each other. */
function inIdOrder(ids: string[]): string[] {
  return ids.map((id) => id.toLowerCase()).sort();
}
