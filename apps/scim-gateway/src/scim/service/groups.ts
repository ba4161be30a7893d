import type { Knex } from 'knex';
import {
  asReplace,
  groupChanges,
  groupCreated,
  groupDeleted,
  groupRepository,
  isUuid,
  memberChanges,
  recordChanges,
  userRepository,
  type ChangeInput,
  type GroupRecord,
  type JsonObject,
} from '@roster/domain';
import { ScimError } from '../errors.js';
import type { ListParams } from '../list.js';
import { addsOrRemovesListedMembers, applyGroupPatch, memberChangesOf, parsePatchRequest, type PatchOperation } from '../patch/index.js';
import { groupColumns, normalizeGroupInput } from '../resource/normalize.js';
import { serializeGroup } from '../serialize.js';
import { planList } from './query.js';
import { auditEventOf, changeContextOf, visibilityOf, type ResourceServiceDeps, type ScimCaller } from './types.js';
import { assertIfMatch, type Preconditions } from './users.js';

export interface GroupReadOptions {
  /** False when the response will not show `members`: they are then never read (a group may have 100,000). */
  withMembers: boolean;
}

/** What a one-statement member PATCH writes with its memberships (groupRepository.addMembersAtOnce). */
function atOnceRecord(caller: ScimCaller, id: string) {
  return { context: changeContextOf(caller), audit: auditEventOf(caller, 200, id) };
}

/** At most this many member references in one request (PUT/POST members or PATCH values). */
export const MAX_MEMBERS_PER_REQUEST = 100_000;

/** SCIM operations on Groups. Members are rows of group_members: a change costs the members changed. */
export function createGroupService(deps: ResourceServiceDeps) {
  const { knex, baseUrl } = deps;

  async function serializeOne(db: Knex | Knex.Transaction, group: GroupRecord, options: GroupReadOptions): Promise<JsonObject> {
    return serializeGroup(group, baseUrl, options.withMembers ? await groupRepository.members(db, group.id) : undefined);
  }

  /** Member ids must name existing users visible to the caller; unknown ids are refused, all named (400). */
  async function checkMembers(trx: Knex.Transaction, caller: ScimCaller, ids: string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    if (unique.length > MAX_MEMBERS_PER_REQUEST) throw ScimError.tooMany(`at most ${MAX_MEMBERS_PER_REQUEST} members per request`);
    const found = await userRepository.existingIds(trx, unique, visibilityOf(caller));
    const unknown = unique.filter((id) => !found.has(id));
    if (unknown.length) {
      const shown = unknown.slice(0, 20).map((id) => JSON.stringify(id)).join(', ');
      throw ScimError.invalidValue(`members must be existing users; unknown: ${shown}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ''}`);
    }
    return unique;
  }

  /** Writes a write's changes and the request's audit event, in the write's transaction. */
  async function record(trx: Knex.Transaction, caller: ScimCaller, changes: ChangeInput[], status: number, resourceId: string): Promise<void> {
    await recordChanges(trx, changeContextOf(caller), changes, auditEventOf(caller, status, resourceId));
  }

  async function notFound(id: string): Promise<never> {
    throw ScimError.notFound(`Group ${id} not found`);
  }

  /** The group as a PATCH sees it: its attributes, never its members (patch/members.ts). */
  function patchBase(group: GroupRecord): JsonObject {
    const base: JsonObject = { ...group.data, displayName: group.displayName };
    if (group.externalId !== null) base.externalId = group.externalId;
    return base;
  }

  /**
   * The members a PATCH of `addsOrRemovesListedMembers` operations adds, when it adds and removes none, or
   * removes, when it adds none, if they fit one statement (distinct uuids for adds). These are the changes the
   * transaction would apply (patchMembers nets them the same way). Otherwise undefined: the transaction does
   * it, and reports any error in its usual order.
   */
  function addsOnlyOrRemovalsOnly(operations: PatchOperation[]): { add?: string[]; remove?: string[] } | undefined {
    let changes;
    try {
      changes = memberChangesOf(operations);
    } catch (error) {
      // A value the transaction will refuse (400): it words the error, in its usual order.
      if (error instanceof ScimError) return undefined;
      throw error;
    }
    const limit = groupRepository.atOnceLimit;
    if (changes.add.length === 0) return changes.remove.length <= limit ? { remove: changes.remove } : undefined;
    const ids = changes.add.map((member) => member.value);
    return changes.remove.length === 0 && ids.length <= limit && ids.every(isUuid) ? { add: ids } : undefined;
  }

  /**
   * A PATCH that only adds members or removes listed ones, without If-Match: it runs alongside other such
   * PATCHes of the group instead of queueing behind them. Each member is its own row of group_members, so two
   * of them touching different members never wait for each other; the locks they take on the group row do not
   * conflict either (PostgreSQL "Explicit Locking", Row-Level Locks, table "Conflicting Row-Level Locks"):
   * - FOR KEY SHARE on reading the group, which is also what the foreign key check of each inserted member
   *   takes. It conflicts only with FOR UPDATE: a DELETE, a PUT or another PATCH of the group waits until this
   *   one commits, or this one waits for them before touching any member. So the group cannot be deleted
   *   halfway (a group deleted before is 404 here, never a foreign key violation), and no deadlock arises with
   *   them, as it would if a member were inserted before the group is locked.
   * - FOR NO KEY UPDATE, taken by the version bump (an UPDATE that changes no key column). It conflicts with
   *   another bump only, and is the last statement: PATCHes queue only from their bump to their commit.
   * Among themselves these PATCHes cannot deadlock on member rows either: an insert waits only for an
   * uncommitted insert or delete of the same member, a delete for an uncommitted delete of it, and every one
   * adds before it removes, each in id order (groupRepository.addMembers, removeMembers).
   */
  async function patchMembers(tx: Knex.Transaction, caller: ScimCaller, id: string, operations: PatchOperation[], options: GroupReadOptions) {
    const current = await groupRepository.findById(tx, id, visibilityOf(caller), { lock: 'keyShare' });
    if (!current) return notFound(id);
    const changes = applyGroupPatch(patchBase(current), operations).members;
    let added: string[] = [];
    let removed: string[] = [];
    if (changes.add.length) {
      const ids = await checkMembers(tx, caller, changes.add.map((member) => member.value));
      added = await groupRepository.addMembers(tx, id, ids);
    }
    if (changes.remove.length) removed = await groupRepository.removeMembers(tx, id, changes.remove.filter(isUuid));
    // As below: a retry that changes nothing keeps the version.
    if (added.length + removed.length === 0) {
      await record(tx, caller, [], 200, id);
      return { group: current, resource: await serializeOne(tx, current, options) };
    }
    const group = await groupRepository.update(tx, id, null);
    await record(tx, caller, memberChanges(group, added, removed), 200, id);
    return { group, resource: await serializeOne(tx, group, options) };
  }

  return {
    async create(caller: ScimCaller, body: unknown, options: GroupReadOptions, trx?: Knex.Transaction) {
      const { data, members } = normalizeGroupInput(body);
      const run = async (tx: Knex.Transaction) => {
        const memberIds = members?.length ? await checkMembers(tx, caller, members.map((member) => member.value)) : [];
        const group = await groupRepository.insert(tx, { columns: groupColumns(data), data, createdByClientId: caller.clientId });
        const added = memberIds.length ? await groupRepository.addMembers(tx, group.id, memberIds) : [];
        await record(tx, caller, [groupCreated(group), ...memberChanges(group, added, [])], 201, group.id);
        return { group, resource: await serializeOne(tx, group, options) };
      };
      return trx ? run(trx) : knex.transaction(run);
    },

    async get(caller: ScimCaller, id: string, options: GroupReadOptions) {
      const group = await groupRepository.findById(knex, id, visibilityOf(caller));
      if (!group) return notFound(id);
      return { group, resource: await serializeOne(knex, group, options) };
    },

    async list(caller: ScimCaller, params: ListParams, options: GroupReadOptions) {
      const plan = planList('Group', params, visibilityOf(caller), baseUrl);
      const { items, total } = await groupRepository.list(knex, plan.query);
      const page = plan.nextCursor ? items.slice(0, params.count) : items;
      const members = options.withMembers && page.length ? await groupRepository.membersOf(knex, page.map((group) => group.id)) : undefined;
      const resources = page.map((group) => serializeGroup(group, baseUrl, members?.get(group.id)));
      const nextCursor = plan.nextCursor && items.length > params.count ? plan.nextCursor(page[page.length - 1]!.seq, page.length) : undefined;
      return { resources, total, startIndex: plan.startIndex, nextCursor };
    },

    /** PUT replaces the group: a body without members empties it (RFC 7644 §3.5.1). */
    async replace(caller: ScimCaller, id: string, body: unknown, options: GroupReadOptions & Preconditions, trx?: Knex.Transaction) {
      const { data, members } = normalizeGroupInput(body);
      const run = async (tx: Knex.Transaction) => {
        const current = await groupRepository.findById(tx, id, visibilityOf(caller), { lock: 'update' });
        if (!current) return notFound(id);
        assertIfMatch(options.ifMatch, current.version);
        const wanted = members?.length ? await checkMembers(tx, caller, members.map((member) => member.value)) : [];
        const memberships = await groupRepository.replaceMembers(tx, id, wanted);
        const group = await groupRepository.update(tx, id, { columns: groupColumns(data), data });
        await record(tx, caller, [...asReplace(groupChanges(current, group)), ...memberChanges(group, memberships.added, memberships.removed)], 200, id);
        return { group, resource: await serializeOne(tx, group, options) };
      };
      return trx ? run(trx) : knex.transaction(run);
    },

    async patch(caller: ScimCaller, id: string, body: unknown, options: GroupReadOptions & Preconditions, trx?: Knex.Transaction) {
      const operations = parsePatchRequest(body);
      // Decided before the group is read, because that read takes the lock: upgrading a lock later is how two
      // transactions deadlock. If-Match needs the version to stay as checked until the write, so the row lock.
      const membersOnly = options.ifMatch === undefined && operations.every(addsOrRemovesListedMembers);
      // The most frequent PATCHes of a sync (Entra ID adds and removes members one request at a time): one
      // statement each (docs/benchmarks.md, finding 34).
      const atOnce = membersOnly && !trx && !options.withMembers ? addsOnlyOrRemovalsOnly(operations) : undefined;
      if (atOnce?.remove) {
        const group = await groupRepository.removeMembersAtOnce(knex, id, atOnce.remove, visibilityOf(caller), atOnceRecord(caller, id));
        if (!group) return notFound(id);
        return { group, resource: await serializeOne(knex, group, options) };
      }
      if (atOnce?.add) {
        const added = await groupRepository.addMembersAtOnce(knex, id, atOnce.add, visibilityOf(caller), atOnceRecord(caller, id));
        if (!added) return notFound(id);
        // Otherwise a member is unknown, and nothing was written: the transaction below names them (400).
        if (added.complete) return { group: added.group, resource: await serializeOne(knex, added.group, options) };
      }
      const run = async (tx: Knex.Transaction) => {
        if (membersOnly) return patchMembers(tx, caller, id, operations, options);
        // The row lock serialises this PATCH with every other write of the group, so no change is lost.
        const current = await groupRepository.findById(tx, id, visibilityOf(caller), { lock: 'update' });
        if (!current) return notFound(id);
        assertIfMatch(options.ifMatch, current.version);
        const result = applyGroupPatch(patchBase(current), operations);
        const changes = result.members;
        let added: string[] = [];
        let removed: string[] = [];
        if (changes.replaceAll) {
          const wanted = changes.add.length ? await checkMembers(tx, caller, changes.add.map((member) => member.value)) : [];
          ({ added, removed } = await groupRepository.replaceMembers(tx, id, wanted));
        } else {
          if (changes.remove.length) removed = await groupRepository.removeMembers(tx, id, changes.remove.filter(isUuid));
          if (changes.add.length) {
            const ids = await checkMembers(tx, caller, changes.add.map((member) => member.value));
            added = await groupRepository.addMembers(tx, id, ids);
          }
        }
        // Adding a member who already is one, or removing one who is not, changes nothing: identity
        // providers retry, and a retry must not bump the version.
        if (!result.changed && added.length + removed.length === 0) {
          await record(tx, caller, [], 200, id);
          return { group: current, resource: await serializeOne(tx, current, options) };
        }
        const group = await groupRepository.update(tx, id, result.changed ? { columns: groupColumns(result.data), data: result.data } : null);
        await record(tx, caller, [...groupChanges(current, group), ...memberChanges(group, added, removed)], 200, id);
        return { group, resource: await serializeOne(tx, group, options) };
      };
      return trx ? run(trx) : knex.transaction(run);
    },

    async delete(caller: ScimCaller, id: string, options: Preconditions, trx?: Knex.Transaction): Promise<{ refusal?: ScimError }> {
      const run = async (tx: Knex.Transaction) => {
        const current = await groupRepository.findById(tx, id, visibilityOf(caller), { lock: 'update' });
        if (!current) return notFound(id);
        assertIfMatch(options.ifMatch, current.version);
        await groupRepository.delete(tx, id);
        await record(tx, caller, [groupDeleted(current)], 204, id);
      };
      await (trx ? run(trx) : knex.transaction(run));
      return {};
    },
  };
}

export type GroupService = ReturnType<typeof createGroupService>;
