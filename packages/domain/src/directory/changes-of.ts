import type { ChangeInput } from '../changes/types.js';
import type { GroupRecord, JsonObject, UserRecord } from './types.js';

// What a state change of the directory records in the change log (docs/changes.md): derived here, from the
// rows before and after, so that every write path (SCIM, /Bulk, the admin app) names its changes the same way.

/** Why an account is inactive (users.lock_reason): SCIM `active: false`. */
export const LOCK_REASON_INACTIVE = 'scim_inactive';
/**
 * The identity provider's DELETE was refused ("User accounts deletable by admins" off) and the account locked
 * instead. Only an explicit `active: true` lifts it (see `keepsDeleteRefusedLock`).
 */
export const LOCK_REASON_DELETE_REFUSED = 'delete_refused';

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, index) => sameJson(item, other[index]));
  }
  const left = a as JsonObject;
  const right = b as JsonObject;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => key in right && sameJson(left[key], right[key]));
}

/**
 * The top-level SCIM attribute names whose value differs between two documents (extension attributes as
 * `urn:...:name`), in a stable order. `active` is left out: its changes have kinds of their own.
 */
export function changedAttributes(before: JsonObject, after: JsonObject, exclude: readonly string[] = []): string[] {
  const names = new Set<string>();
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (exclude.includes(key)) continue;
    const left = before[key];
    const right = after[key];
    if (sameJson(left, right)) continue;
    if (key.startsWith('urn:') && left && right && typeof left === 'object' && typeof right === 'object' && !Array.isArray(left) && !Array.isArray(right)) {
      for (const name of changedAttributes(left as JsonObject, right as JsonObject)) names.add(`${key}:${name}`);
    } else {
      names.add(key);
    }
  }
  return [...names].sort();
}

function userBase(user: UserRecord): Pick<ChangeInput, 'resourceType' | 'resourceId' | 'externalId' | 'ownerClientId'> {
  return { resourceType: 'User', resourceId: user.id, externalId: user.externalId, ownerClientId: user.createdByClientId };
}

function groupBase(group: GroupRecord): Pick<ChangeInput, 'resourceType' | 'resourceId' | 'externalId' | 'ownerClientId'> {
  return { resourceType: 'Group', resourceId: group.id, externalId: group.externalId, ownerClientId: group.createdByClientId };
}

/** The document a user's attributes are compared on: the stored data with its column-held attributes. */
function userDocument(user: UserRecord): JsonObject {
  const document: JsonObject = { ...user.data, userName: user.userName, active: user.active };
  if (user.externalId === null) delete document.externalId;
  else document.externalId = user.externalId;
  return document;
}

/**
 * The changes between a user before and after a replace or a PATCH: `user.updated` naming the attributes that
 * changed (if any besides `active`), then the change of `active`: `user.deactivated`, or back to active
 * `user.unlocked` (a lock by a refused DELETE was lifted) or `user.reactivated`.
 */
export function userChanges(before: UserRecord, after: UserRecord): ChangeInput[] {
  const changes: ChangeInput[] = [];
  const attributes = changedAttributes(userDocument(before), userDocument(after), ['active']);
  if (attributes.length) changes.push({ kind: 'user.updated', ...userBase(after), detail: { attributes } });
  if (before.active && !after.active) changes.push({ kind: 'user.deactivated', ...userBase(after), detail: { reason: after.lockReason ?? LOCK_REASON_INACTIVE } });
  if (!before.active && after.active) {
    changes.push(
      before.lockReason === LOCK_REASON_DELETE_REFUSED
        ? { kind: 'user.unlocked', ...userBase(after), detail: { reason: before.lockReason } }
        : { kind: 'user.reactivated', ...userBase(after) },
    );
  }
  return changes;
}

/** A created user names the attributes it was created with (RFC 9967 `prov:create:notice` lists them). */
export function userCreated(user: UserRecord): ChangeInput {
  return { kind: 'user.created', ...userBase(user), detail: { attributes: Object.keys(userDocument(user)).sort() } };
}

export function userLocked(user: UserRecord, reason: string): ChangeInput {
  return { kind: 'user.locked', ...userBase(user), detail: { reason } };
}

export function userDeleted(user: UserRecord): ChangeInput {
  return { kind: 'user.deleted', ...userBase(user) };
}

/** The user's identity at a provider changed (`externalId` null: the link was removed). */
export function linkChanged(user: UserRecord, providerId: string, externalId: string | null): ChangeInput {
  return { kind: 'link.changed', ...userBase(user), detail: { providerId, externalId } };
}

export function groupCreated(group: GroupRecord): ChangeInput {
  const attributes = new Set([...Object.keys(group.data), 'displayName']);
  if (group.externalId === null) attributes.delete('externalId');
  else attributes.add('externalId');
  return { kind: 'group.created', ...groupBase(group), detail: { attributes: [...attributes].sort() } };
}

export function groupDeleted(group: GroupRecord): ChangeInput {
  return { kind: 'group.deleted', ...groupBase(group) };
}

/** `group.updated` naming the attributes that changed, when any did (members have kinds of their own). */
export function groupChanges(before: GroupRecord, after: GroupRecord): ChangeInput[] {
  const document = (group: GroupRecord): JsonObject => {
    const value: JsonObject = { ...group.data, displayName: group.displayName };
    if (group.externalId === null) delete value.externalId;
    else value.externalId = group.externalId;
    return value;
  };
  const attributes = changedAttributes(document(before), document(after), ['members']);
  return attributes.length ? [{ kind: 'group.updated', ...groupBase(after), detail: { attributes } }] : [];
}

/** The members added and removed, each kind only when it names someone (recordChanges splits large ones). */
export function memberChanges(group: GroupRecord, added: readonly string[], removed: readonly string[]): ChangeInput[] {
  const changes: ChangeInput[] = [];
  if (removed.length) changes.push({ kind: 'group.members.removed', ...groupBase(group), detail: { members: [...removed] } });
  if (added.length) changes.push({ kind: 'group.members.added', ...groupBase(group), detail: { members: [...added] } });
  return changes;
}

/**
 * Marks the `*.updated` changes of a SCIM PUT (`detail.operation: "put"`), so that event streams can tell a
 * replace from a PATCH: RFC 9967 has an event for each (`prov:put`, `prov:patch`; docs/events.md).
 */
export function asReplace(changes: ChangeInput[]): ChangeInput[] {
  return changes.map((change) => (change.kind === 'user.updated' || change.kind === 'group.updated' ? { ...change, detail: { ...change.detail, operation: 'put' } } : change));
}
