import type { Knex } from 'knex';
import type { AuditEventInput } from '../audit.js';
import { createChangeNotifier, recordChanges } from '../changes/change-log.js';
import type { ChangeContext, ChangeInput } from '../changes/types.js';
import { DomainError } from '../errors.js';
import type { Settings } from '../settings.js';
import {
  asReplace,
  groupChanges,
  groupCreated,
  groupDeleted,
  linkChanged,
  LOCK_REASON_DELETE_REFUSED,
  LOCK_REASON_INACTIVE,
  memberChanges,
  userChanges,
  userDeleted,
  userLocked,
} from './changes-of.js';
import { groupRepository } from './groups.js';
import { maintainLinks } from './links.js';
import { canonicalId, isUuid } from './rows.js';
import { insertUsersSkippingTaken } from './users-bulk.js';
import { userRepository, type DocumentShape, type UserDocument } from './users.js';
import type { GroupColumns, GroupRecord, JsonObject, ListQuery, ResourceRef, UserColumns, UserRecord, Visibility } from './types.js';
import { usersTable } from '../models/index.js';

const U = usersTable.columns;

// The directory lifecycle: every state change of users, groups, memberships and provider links, each one
// transaction that writes the rows, their change-log records and the request's audit event together (DESIGN.md,
// "Data flows one way"). Protocol layers (the SCIM gateway, the admin API) parse and validate their input,
// call these commands, and serialise what they return; the rules (locks, deletion, membership, what a change
// records) are decided here. packages/domain/README.md follows a POST /Users through it.

/** A transaction of the directory: /Bulk hands it from one command to the next (`unitOfWork`). */
export type DirectoryTransaction = Knex.Transaction;

/** Who asks for a change, as the protocol layer established it. */
export interface DirectoryActor {
  /** Recorded with every change: the actor (SCIM client, admin) and the request's id. */
  context: ChangeContext;
  /** The SCIM client that will own what it creates (resources' created_by_client_id), or null. */
  clientId: string | null;
  /** The authentication provider at which the actor's externalIds are identities (user_provider_links). */
  authProviderId: string | null;
  /** What the actor may see and change (a client with data scope "own": its own resources). */
  visibility: Visibility;
  /**
   * The request's audit event for an outcome, written in the command's transaction so it commits with the
   * change; undefined or null: none (inside /Bulk, which writes one event for the request).
   */
  audit?: ((status: number, resourceId: string | null, error?: string) => AuditEventInput | null) | undefined;
}

/** Called with the current version inside the transaction, before anything is written (If-Match). */
/**
 * Checked inside the write's transaction, with the row locked: the current version (If-Match) and the current
 * attributes (a PUT may not change an immutable one, RFC 7643 §2.2).
 */
export type Precondition = (version: number, currentData: JsonObject) => void;

export interface UserInput {
  columns: UserColumns;
  data: JsonObject;
}

export interface GroupInput {
  columns: GroupColumns;
  data: JsonObject;
}

/** The members a group change adds and removes (`replaceAll`: `add` is the whole new member list). */
export interface MemberChangeSet {
  add: string[];
  remove: string[];
  replaceAll?: boolean;
}

/** A group change the protocol layer resolved against the current group (a SCIM PATCH, applied). */
export interface GroupChangeSet {
  /** The new attributes, or null when they did not change. */
  attributes: GroupInput | null;
  members: MemberChangeSet;
}

export interface DirectoryServiceDeps {
  /** Read by `deleteUser`: "User accounts deletable by admins", "lock users when deletion is refused". */
  settings: { get(): Promise<Pick<Settings, 'usersDeletableByAdmins' | 'lockOnRefusedDelete'>> };
  /** At most this many distinct member ids in one command (default 100,000). */
  maxMembersPerChange?: number;
}

/** The message of a refused user deletion; `locked`: the account was locked instead. */
export function userDeletionRefusal(locked: boolean): string {
  return 'deleting users is disabled by the setting "User accounts deletable by admins"' + (locked ? '; the user has been locked instead' : '');
}

/** DomainError details of a command naming too many members (`tooMany`) or users that are not there (`unknown`). */
export interface MemberErrorDetails {
  tooMany?: number;
  unknown?: string[];
}

export function createDirectoryService(knex: Knex, deps: DirectoryServiceDeps) {
  const maxMembers = deps.maxMembersPerChange ?? 100_000;
  // A create that commits on its own wakes change readers after its commit (see createChangeNotifier).
  const changeNotifier = createChangeNotifier(knex);

  function inTransaction<T>(trx: DirectoryTransaction | undefined, work: (trx: DirectoryTransaction) => Promise<T>): Promise<T> {
    return trx ? work(trx) : knex.transaction(work);
  }

  async function record(trx: DirectoryTransaction, actor: DirectoryActor, changes: ChangeInput[], status: number, resourceId: string, error?: string): Promise<void> {
    await recordChanges(trx, actor.context, changes, actor.audit?.(status, resourceId, error) ?? null);
  }

  function userNotFound(id: string): never {
    throw DomainError.notFound('User', id);
  }

  function groupNotFound(id: string): never {
    throw DomainError.notFound('Group', id);
  }

  /** Member ids must name existing users the actor can see; unknown ids are refused, all named. */
  async function checkMembers(trx: DirectoryTransaction, actor: DirectoryActor, ids: string[]): Promise<string[]> {
    // Compared in canonical case, like the one-statement PATCH (whose uuid cast ignores case), so every path
    // takes `ABC...` for `abc...`.
    const unique = [...new Set(ids.map(canonicalId))];
    if (unique.length > maxMembers) throw new DomainError('invalid_input', `at most ${maxMembers} members per request`, { tooMany: maxMembers });
    const found = await userRepository.existingIds(trx, unique, actor.visibility);
    const unknown = unique.filter((id) => !found.has(id));
    if (unknown.length) {
      const shown = unknown.slice(0, 20).map((id) => JSON.stringify(id)).join(', ');
      throw new DomainError('invalid_input', `members must be existing users; unknown: ${shown}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ''}`, {
        unknown,
      });
    }
    return unique;
  }

  /**
   * Keeps the user's provider links in step on every write (not only when externalId changes): the value the
   * owner client's provider maps (identity-mapping.ts: `sub` against externalId, email against the primary
   * email, ...). Answers a `link.changed` record per link that changed.
   */
  async function linkToProvider(trx: DirectoryTransaction, user: UserRecord): Promise<ChangeInput[]> {
    const changed = await maintainLinks(trx, [user.id]);
    return changed.map((link) => linkChanged(user, link.providerId, link.externalId));
  }


  // With data scope "own" the joined side is filtered too: an own-scope client sees neither another client's
  // groups in its users' `groups` nor another client's users in its groups' `members`.
  async function withGroups(db: Knex | DirectoryTransaction, user: UserRecord, wanted: boolean | undefined, visibility: Visibility): Promise<{ user: UserRecord; groups?: ResourceRef[] }> {
    return wanted ? { user, groups: (await userRepository.groupsOf(db, [user.id], visibility)).get(user.id) ?? [] } : { user };
  }

  async function withMembers(db: Knex | DirectoryTransaction, group: GroupRecord, wanted: boolean | undefined, visibility: Visibility): Promise<{ group: GroupRecord; members?: ResourceRef[] }> {
    return wanted ? { group, members: await groupRepository.members(db, group.id, visibility) } : { group };
  }

  /** The lock reason a write leaves, or undefined to keep it: set when an account turns inactive, cleared when active. */
  function lockReasonAfter(current: UserRecord, active: boolean): string | null | undefined {
    if (active === current.active) return undefined;
    return active ? null : LOCK_REASON_INACTIVE;
  }

  /**
   * A lock placed because the identity provider's DELETE was refused holds until an explicit `active: true`:
   * a replace that leaves `active` out keeps the account locked, with its reason (issue 17).
   */
  function keepsDeleteRefusedLock(current: UserRecord, input: UserInput): boolean {
    return current.lockReason === LOCK_REASON_DELETE_REFUSED && input.data.active !== true;
  }

  const users = {
    /**
     * Creates a user, its provider link (externalId at the actor's provider), their change records and the
     * audit event in ONE statement (userRepository.insert): a create is one round trip.
     */
    async create(actor: DirectoryActor, input: UserInput, trx?: DirectoryTransaction): Promise<UserRecord> {
      // In the caller's transaction the NOTIFY stays in the statement (sent at that transaction's commit).
      const quiet = !trx && changeNotifier !== undefined;
      const user = await userRepository.insert(
        trx ?? knex,
        { columns: input.columns, data: input.data, createdByClientId: actor.clientId, linkProviderId: actor.authProviderId },
        { context: actor.context, audit: actor.audit?.(201, null) ?? null },
        { quiet },
      );
      if (quiet) changeNotifier!.notify();
      return user;
    },

    /**
     * Creates many users in one statement (the /Bulk fast path), with their provider links and a change record
     * each. For each input in order: the new id and version, or null when its userName is taken.
     */
    async createMany(actor: DirectoryActor, inputs: UserInput[], trx: DirectoryTransaction): Promise<Array<{ id: string; version: number } | null>> {
      const inserted = await insertUsersSkippingTaken(trx, inputs.map((input) => ({ columns: input.columns, data: input.data, createdByClientId: actor.clientId })));
      // Links as every write keeps them (maintainLinks: the value the owner client's provider maps), one statement.
      const createdIds = inserted.flatMap((row) => (row ? [row.id] : []));
      const linkChanges = actor.authProviderId ? await maintainLinks(trx, createdIds) : [];
      const linksByUser = new Map<string, typeof linkChanges>();
      for (const link of linkChanges) linksByUser.set(link.userId, [...(linksByUser.get(link.userId) ?? []), link]);
      // Each created user is a change of its own (and its link another), in the order of the inputs.
      const changes: ChangeInput[] = [];
      inputs.forEach((input, position) => {
        const row = inserted[position];
        if (!row) return;
        const owned = { resourceType: 'User' as const, resourceId: row.id, externalId: input.columns[U.externalId], ownerClientId: actor.clientId };
        // The attribute names it was created with, as userCreated (changes-of.ts) lists them.
        const document: JsonObject = { ...input.data, userName: input.columns[U.userName], active: input.columns[U.active] };
        delete document.externalId;
        if (input.columns[U.externalId] !== null) document.externalId = input.columns[U.externalId];
        changes.push({ kind: 'user.created', ...owned, detail: { attributes: Object.keys(document).sort() } });
        for (const link of linksByUser.get(row.id) ?? []) {
          changes.push({ kind: 'link.changed', ...owned, detail: { providerId: link.providerId, externalId: link.externalId } });
        }
      });
      await recordChanges(trx, actor.context, changes);
      return inserted;
    },

    /** Replaces the user's attributes (PUT). A lock by a refused DELETE holds unless `active: true` is given. */
    async replace(
      actor: DirectoryActor,
      id: string,
      input: UserInput,
      options: { precondition?: Precondition; withGroups?: boolean } = {},
      trx?: DirectoryTransaction,
    ): Promise<{ user: UserRecord; groups?: ResourceRef[] }> {
      return inTransaction(trx, async (tx) => {
        const current = (await userRepository.findById(tx, id, actor.visibility, { forUpdate: true })) ?? userNotFound(id);
        options.precondition?.(current.version, current.data);
        const kept = keepsDeleteRefusedLock(current, input);
        const written = kept ? { columns: { ...input.columns, active: false }, data: { ...input.data, active: false } } : input;
        const user = await userRepository.update(tx, id, { ...written, lockReason: kept ? undefined : lockReasonAfter(current, written.columns.active) });
        const link = await linkToProvider(tx, user);
        // A PUT's changes say so (detail.operation "put"): event streams send them as prov:put (RFC 9967).
        await record(tx, actor, [...asReplace(userChanges(current, user)), ...link], 200, id);
        return withGroups(tx, user, options.withGroups, actor.visibility);
      });
    },

    /**
     * Applies a change the protocol layer resolved against the current user (a SCIM PATCH): `resolve` runs
     * inside the transaction with the row locked and answers the new attributes, or undefined when nothing
     * changed (a retry then neither bumps the version nor records a change). `active` cannot be removed: an
     * unassigned `active` reads as active at creation, so a removal could re-enable a locked account.
     */
    async change(
      actor: DirectoryActor,
      id: string,
      resolve: (current: UserRecord) => UserInput | undefined,
      options: { precondition?: Precondition; withGroups?: boolean } = {},
      trx?: DirectoryTransaction,
    ): Promise<{ user: UserRecord; groups?: ResourceRef[] }> {
      return inTransaction(trx, async (tx) => {
        const current = (await userRepository.findById(tx, id, actor.visibility, { forUpdate: true })) ?? userNotFound(id);
        options.precondition?.(current.version, current.data);
        const next = resolve(current);
        if (next && !('active' in next.data)) throw DomainError.invalidInput('active cannot be removed: replace it with true or false', 'active');
        if (!next) {
          await record(tx, actor, [], 200, id);
          return withGroups(tx, current, options.withGroups, actor.visibility);
        }
        const user = await userRepository.update(tx, id, { ...next, lockReason: lockReasonAfter(current, next.columns.active) });
        const link = await linkToProvider(tx, user);
        await record(tx, actor, [...userChanges(current, user), ...link], 200, id);
        return withGroups(tx, user, options.withGroups, actor.visibility);
      });
    },

    /**
     * Deletes the user, or, when the setting "User accounts deletable by admins" is off, refuses and (with
     * "lock users when deletion is refused" on) locks the account in the same transaction, so the identity
     * provider's intent to end access still holds. A refusal is answered, not thrown: the lock must commit.
     */
    async deleteOrLock(
      actor: DirectoryActor,
      id: string,
      options: { precondition?: Precondition } = {},
      trx?: DirectoryTransaction,
    ): Promise<{ deleted: true } | { deleted: false; locked: boolean; refusal: string }> {
      const settings = await deps.settings.get();
      return inTransaction(trx, async (tx) => {
        const current = (await userRepository.findById(tx, id, actor.visibility, { forUpdate: true })) ?? userNotFound(id);
        options.precondition?.(current.version, current.data);
        if (settings.usersDeletableByAdmins) {
          await userRepository.delete(tx, id);
          await record(tx, actor, [userDeleted(current)], 204, id);
          return { deleted: true as const };
        }
        const changes: ChangeInput[] = [];
        // A user already locked by a refused DELETE stays as it is; an inactive one gets this stronger lock.
        if (settings.lockOnRefusedDelete && current.lockReason !== LOCK_REASON_DELETE_REFUSED) {
          changes.push(userLocked(await userRepository.lock(tx, id, LOCK_REASON_DELETE_REFUSED), LOCK_REASON_DELETE_REFUSED));
        }
        const refusal = userDeletionRefusal(settings.lockOnRefusedDelete);
        await record(tx, actor, changes, 403, id, refusal);
        return { deleted: false as const, locked: settings.lockOnRefusedDelete, refusal };
      });
    },

    // Reads, for the protocol layers (no transaction, no lock).
    findById: (id: string, visibility: Visibility) => userRepository.findById(knex, id, visibility),
    findByIdWithGroups: (id: string, visibility: Visibility) => userRepository.findByIdWithGroups(knex, id, visibility),
    findDocumentByIdWithGroups: (id: string, shape: DocumentShape, visibility: Visibility): Promise<UserDocument | undefined> =>
      userRepository.findDocumentByIdWithGroups(knex, id, shape, visibility),
    list: (query: ListQuery) => userRepository.list(knex, query),
    listWithGroups: (query: ListQuery) => userRepository.listWithGroups(knex, query),
    listDocumentsWithGroups: (query: ListQuery, shape: DocumentShape) => userRepository.listDocumentsWithGroups(knex, query, shape),
  };

  /**
   * Applies a member change. Members-only changes (which run side by side on one group) add before they remove,
   * each in id order, so two of them cannot deadlock on member rows (groups.ts); a change under the group's row
   * lock removes first, as the PATCH operations name them.
   */
  async function applyMembers(
    tx: DirectoryTransaction,
    actor: DirectoryActor,
    id: string,
    members: MemberChangeSet,
    order: 'addFirst' | 'removeFirst',
  ): Promise<{ added: string[]; removed: string[] }> {
    if (members.replaceAll) {
      const wanted = members.add.length ? await checkMembers(tx, actor, members.add) : [];
      return groupRepository.replaceMembers(tx, id, wanted, actor.visibility);
    }
    let added: string[] = [];
    let removed: string[] = [];
    const add = async () => {
      if (members.add.length) added = await groupRepository.addMembers(tx, id, await checkMembers(tx, actor, members.add));
    };
    const remove = async () => {
      if (members.remove.length) removed = await groupRepository.removeMembers(tx, id, members.remove.filter(isUuid));
    };
    if (order === 'addFirst') {
      await add();
      await remove();
    } else {
      await remove();
      await add();
    }
    return { added, removed };
  }

  const groups = {
    async create(actor: DirectoryActor, input: GroupInput, memberIds: string[], options: { withMembers?: boolean } = {}, trx?: DirectoryTransaction) {
      return inTransaction(trx, async (tx) => {
        const members = memberIds.length ? await checkMembers(tx, actor, memberIds) : [];
        const group = await groupRepository.insert(tx, { columns: input.columns, data: input.data, createdByClientId: actor.clientId });
        const added = members.length ? await groupRepository.addMembers(tx, group.id, members) : [];
        await record(tx, actor, [groupCreated(group), ...memberChanges(group, added, [])], 201, group.id);
        return withMembers(tx, group, options.withMembers, actor.visibility);
      });
    },

    /** Replaces the group's attributes and members: `memberIds` is the whole new member list (RFC 7644 §3.5.1). */
    async replace(
      actor: DirectoryActor,
      id: string,
      input: GroupInput,
      memberIds: string[],
      options: { precondition?: Precondition; withMembers?: boolean } = {},
      trx?: DirectoryTransaction,
    ) {
      return inTransaction(trx, async (tx) => {
        const current = (await groupRepository.findById(tx, id, actor.visibility, { lock: 'update' })) ?? groupNotFound(id);
        options.precondition?.(current.version, current.data);
        const members = await applyMembers(tx, actor, id, { add: memberIds, remove: [], replaceAll: true }, 'removeFirst');
        const group = await groupRepository.update(tx, id, input);
        await record(tx, actor, [...asReplace(groupChanges(current, group)), ...memberChanges(group, members.added, members.removed)], 200, id);
        return withMembers(tx, group, options.withMembers, actor.visibility);
      });
    },

    /**
     * Applies a change resolved against the current group (a SCIM PATCH). `membersOnly`: the change touches
     * members only, and the group row is locked FOR KEY SHARE instead of FOR UPDATE, so such changes of one
     * group run side by side (groups.ts explains the locks); decided before the read, because upgrading a
     * lock later is how two transactions deadlock. Adding a member who already is one, or removing one who is
     * not, changes nothing: identity providers retry, and a retry must not bump the version.
     */
    async change(
      actor: DirectoryActor,
      id: string,
      resolve: (current: GroupRecord) => GroupChangeSet,
      options: { precondition?: Precondition; withMembers?: boolean; membersOnly?: boolean } = {},
      trx?: DirectoryTransaction,
    ) {
      return inTransaction(trx, async (tx) => {
        const current = (await groupRepository.findById(tx, id, actor.visibility, { lock: options.membersOnly ? 'keyShare' : 'update' })) ?? groupNotFound(id);
        options.precondition?.(current.version, current.data);
        const change = resolve(current);
        const attributes = options.membersOnly ? null : change.attributes;
        const members = await applyMembers(tx, actor, id, change.members, options.membersOnly ? 'addFirst' : 'removeFirst');
        if (!attributes && members.added.length + members.removed.length === 0) {
          await record(tx, actor, [], 200, id);
          return withMembers(tx, current, options.withMembers, actor.visibility);
        }
        const group = await groupRepository.update(tx, id, attributes);
        await record(tx, actor, [...groupChanges(current, group), ...memberChanges(group, members.added, members.removed)], 200, id);
        return withMembers(tx, group, options.withMembers, actor.visibility);
      });
    },

    /**
     * Adds members (distinct uuids, at most `atOnceLimit`) in ONE statement, outside any transaction block,
     * with the change records and the audit event (groupRepository.addMembersAtOnce). undefined: the group is
     * not there; `complete: false`: a user is not there, and nothing was written.
     */
    addMembersAtOnce(actor: DirectoryActor, id: string, userIds: string[]) {
      return groupRepository.addMembersAtOnce(knex, id, userIds, actor.visibility, { context: actor.context, audit: actor.audit?.(200, id) ?? null });
    },

    /** Removes listed members in ONE statement (groupRepository.removeMembersAtOnce); undefined: no such group. */
    removeMembersAtOnce(actor: DirectoryActor, id: string, userIds: string[]) {
      return groupRepository.removeMembersAtOnce(knex, id, userIds, actor.visibility, { context: actor.context, audit: actor.audit?.(200, id) ?? null });
    },

    /** The most ids addMembersAtOnce and removeMembersAtOnce take. */
    atOnceLimit: groupRepository.atOnceLimit,

    async delete(actor: DirectoryActor, id: string, options: { precondition?: Precondition } = {}, trx?: DirectoryTransaction): Promise<void> {
      await inTransaction(trx, async (tx) => {
        const current = (await groupRepository.findById(tx, id, actor.visibility, { lock: 'update' })) ?? groupNotFound(id);
        options.precondition?.(current.version, current.data);
        await groupRepository.delete(tx, id);
        await record(tx, actor, [groupDeleted(current)], 204, id);
      });
    },

    // Reads, for the protocol layers.
    findById: (id: string, visibility: Visibility) => groupRepository.findById(knex, id, visibility),
    list: (query: ListQuery) => groupRepository.list(knex, query),
    members: (id: string, visibility: Visibility = {}) => groupRepository.members(knex, id, visibility),
    membersOf: (ids: string[], visibility: Visibility = {}) => groupRepository.membersOf(knex, ids, visibility),
  };

  return {
    users,
    groups,

    /**
     * The /Bulk unit of work (RFC 7644 §3.7): one transaction for the whole request; `attempt` runs one
     * operation under its own savepoint, so a failed operation leaves no trace and the others stand; `finish`
     * records the request's audit event in the transaction. The commands above take `trx` to join it.
     */
    unitOfWork<T>(work: (unit: { trx: DirectoryTransaction; attempt<R>(step: (trx: DirectoryTransaction) => Promise<R>): Promise<R> }) => Promise<T>, finish?: { context: ChangeContext; audit: AuditEventInput | null }): Promise<T> {
      return knex.transaction(async (trx) => {
        const result = await work({ trx, attempt: (step) => trx.transaction((savepoint) => step(savepoint)) });
        if (finish) await recordChanges(trx, finish.context, [], finish.audit);
        return result;
      });
    },
  };
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;
