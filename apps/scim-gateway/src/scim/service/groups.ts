import { isUuid, type DirectoryTransaction, type GroupRecord, type JsonObject, type ResourceRef } from '@roster/domain';
import { ScimError } from '../errors.js';
import type { ListParams } from '../list.js';
import { addsOrRemovesListedMembers, applyGroupPatch, memberChangesOf, parsePatchRequest, type PatchOperation } from '../patch/index.js';
import { assertImmutableUnchanged, groupColumns, normalizeGroupInput } from '../resource/normalize.js';
import { serializeGroup } from '../serialize.js';
import { planList } from './query.js';
import { actorOf, asScim, visibilityOf, type ResourceServiceDeps, type ScimCaller } from './types.js';
import { assertIfMatch, type Preconditions } from './users.js';

export interface GroupReadOptions {
  /** False when the response will not show `members`: they are then never read (a group may have 100,000). */
  withMembers: boolean;
}

/** At most this many member references in one request (PUT/POST members or PATCH values). */
export const MAX_MEMBERS_PER_REQUEST = 100_000;

/**
 * SCIM operations on Groups: a mapping of SCIM onto the domain's directory commands (each one transaction with
 * its change records and audit event) and the serialisation of what they return. Members are rows of
 * group_members: a change costs the members changed.
 */
export function createGroupService(deps: ResourceServiceDeps) {
  const { directory, baseUrl } = deps;
  const groups = directory.groups;

  const serialized = (read: { group: GroupRecord; members?: ResourceRef[] }) => ({ group: read.group, resource: serializeGroup(read.group, baseUrl, read.members) });

  // The caller's visibility applies to the joined side too: an own-scope client never sees another client's users
  // among its group's members.
  async function serializeOne(caller: ScimCaller, group: GroupRecord, options: GroupReadOptions): Promise<JsonObject> {
    return serializeGroup(group, baseUrl, options.withMembers ? await groups.members(group.id, visibilityOf(caller)) : undefined);
  }

  /** The member ids of a body (the domain checks that they name users, at most MAX_MEMBERS_PER_REQUEST). */
  function memberIdsOf(members: Array<{ value: string }> | undefined): string[] {
    return members?.map((member) => member.value) ?? [];
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
   * transaction would apply (the domain nets them the same way). Otherwise undefined: the transaction does
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
    const limit = groups.atOnceLimit;
    if (changes.add.length === 0) return changes.remove.length <= limit ? { remove: changes.remove } : undefined;
    const ids = changes.add.map((member) => member.value);
    return changes.remove.length === 0 && ids.length <= limit && ids.every(isUuid) ? { add: ids } : undefined;
  }

  return {
    async create(caller: ScimCaller, body: unknown, options: GroupReadOptions, trx?: DirectoryTransaction) {
      const { data, members } = normalizeGroupInput(body);
      const memberIds = memberIdsOf(members);
      return serialized(await asScim('Group', undefined, () => groups.create(actorOf(caller), { columns: groupColumns(data), data }, memberIds, options, trx)));
    },

    async get(caller: ScimCaller, id: string, options: GroupReadOptions) {
      const group = await groups.findById(id, visibilityOf(caller));
      if (!group) throw ScimError.notFound(`Group ${id} not found`);
      return { group, resource: await serializeOne(caller, group, options) };
    },

    async list(caller: ScimCaller, params: ListParams, options: GroupReadOptions) {
      const plan = planList('Group', params, visibilityOf(caller), baseUrl);
      const { items, total } = await groups.list(plan.query);
      const page = plan.nextCursor ? items.slice(0, params.count) : items;
      const members = options.withMembers && page.length ? await groups.membersOf(page.map((group) => group.id), visibilityOf(caller)) : undefined;
      const resources = page.map((group) => serializeGroup(group, baseUrl, members?.get(group.id)));
      const nextCursor = plan.nextCursor && items.length > params.count ? plan.nextCursor(page[page.length - 1]!.seq, page.length) : undefined;
      return { resources, total, startIndex: plan.startIndex, nextCursor };
    },

    /** PUT replaces the group: a body without members empties it (RFC 7644 §3.5.1). */
    async replace(caller: ScimCaller, id: string, body: unknown, options: GroupReadOptions & Preconditions, trx?: DirectoryTransaction) {
      const { data, members } = normalizeGroupInput(body);
      const memberIds = memberIdsOf(members);
      const precondition = (version: number, current: JsonObject) => {
        assertIfMatch(options.ifMatch, version);
        assertImmutableUnchanged('Group', current, data);
      };
      return serialized(
        await asScim('Group', id, () => groups.replace(actorOf(caller), id, { columns: groupColumns(data), data }, memberIds, { precondition, withMembers: options.withMembers }, trx)),
      );
    },

    async patch(caller: ScimCaller, id: string, body: unknown, options: GroupReadOptions & Preconditions, trx?: DirectoryTransaction) {
      const operations = parsePatchRequest(body);
      const actor = actorOf(caller);
      // Decided before the group is read, because that read takes the lock: upgrading a lock later is how two
      // transactions deadlock. If-Match needs the version to stay as checked until the write, so the row lock.
      const membersOnly = options.ifMatch === undefined && operations.every(addsOrRemovesListedMembers);
      // The most frequent PATCHes of a sync (Entra ID adds and removes members one request at a time): one
      // statement each (docs/benchmarks.md, finding 34).
      const atOnce = membersOnly && !trx && !options.withMembers ? addsOnlyOrRemovalsOnly(operations) : undefined;
      if (atOnce?.remove) {
        const group = await groups.removeMembersAtOnce(actor, id, atOnce.remove);
        if (!group) throw ScimError.notFound(`Group ${id} not found`);
        return { group, resource: await serializeOne(caller, group, options) };
      }
      if (atOnce?.add) {
        const added = await groups.addMembersAtOnce(actor, id, atOnce.add);
        if (!added) throw ScimError.notFound(`Group ${id} not found`);
        // Otherwise a member is unknown, and nothing was written: the transaction below names them (400).
        if (added.complete) return { group: added.group, resource: await serializeOne(caller, added.group, options) };
      }
      const precondition = (version: number) => assertIfMatch(options.ifMatch, version);
      // The PATCH engine applies the operations to the group as the domain read it, under its lock, and hands
      // over the resolved attributes and member changes.
      const resolve = (current: GroupRecord) => {
        const result = applyGroupPatch(patchBase(current), operations);
        const members = result.members;
        return {
          attributes: result.changed ? { columns: groupColumns(result.data), data: result.data } : null,
          members: { add: members.add.map((member) => member.value), remove: members.remove, replaceAll: members.replaceAll === true },
        };
      };
      return serialized(await asScim('Group', id, () => groups.change(actor, id, resolve, { precondition, withMembers: options.withMembers, membersOnly }, trx)));
    },

    async delete(caller: ScimCaller, id: string, options: Preconditions, trx?: DirectoryTransaction): Promise<{ refusal?: ScimError }> {
      const precondition = (version: number) => assertIfMatch(options.ifMatch, version);
      await asScim('Group', id, () => groups.delete(actorOf(caller), id, { precondition }, trx));
      return {};
    },
  };
}

export type GroupService = ReturnType<typeof createGroupService>;
