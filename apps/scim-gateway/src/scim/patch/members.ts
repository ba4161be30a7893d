// Member changes of a group PATCH, described without reading the group's members (a group may have 100,000;
// DESIGN.md: cost grows with the work asked). The caller applies them to group_members in the same transaction.

import { ScimError } from '../errors.js';
import type { Filter } from '../filter/ast.js';
import { normalizeMembers, type MemberRef } from '../resource/normalize.js';
import { GROUP_SCHEMA } from '../schemas/index.js';
import { removedMembersGivenAsValue } from './quirks.js';
import type { PatchOpName, PatchOperation } from './parse.js';

export interface MemberChanges {
  /** Drop every current member first (replace of `members`, or remove of `members` without a value). */
  replaceAll: boolean;
  /** Members to add; adding a member who already is one is a no-op for the caller. */
  add: MemberRef[];
  /** Ids of members to remove; removing one who is not a member is a no-op. Empty when replaceAll. */
  remove: string[];
}

/** Accumulates the member operations of one PATCH in order, so `add x` then `remove x` cancels out. */
export class MemberChangeSet {
  private replaceAll = false;
  private readonly adds = new Map<string, MemberRef>();
  private readonly removes = new Set<string>();

  add(members: readonly MemberRef[]): void {
    for (const member of members) {
      this.removes.delete(member.value);
      if (!this.adds.has(member.value)) this.adds.set(member.value, member);
    }
  }

  remove(ids: readonly string[]): void {
    for (const id of ids) {
      this.adds.delete(id);
      // After replaceAll the result is exactly `adds`: nothing else is left to remove.
      if (!this.replaceAll) this.removes.add(id);
    }
  }

  replace(members: readonly MemberRef[]): void {
    this.replaceAll = true;
    this.adds.clear();
    this.removes.clear();
    this.add(members);
  }

  get changes(): MemberChanges {
    return { replaceAll: this.replaceAll, add: [...this.adds.values()], remove: [...this.removes] };
  }
}

/** Applies one operation whose target is `members` (with or without a value filter) to the change set. */
export function applyMemberOperation(
  changes: MemberChangeSet,
  op: PatchOpName,
  target: { subAttribute: { name: string } | undefined; valueFilter: Filter | undefined },
  value: unknown,
): void {
  if (target.subAttribute) {
    // members.value, members.type and members.$ref are immutable, members.display readOnly (RFC 7643 §4.2).
    throw ScimError.mutability(`members.${target.subAttribute.name} cannot be changed; add or remove the member instead`);
  }
  if (target.valueFilter) {
    if (op !== 'remove') {
      throw ScimError.invalidPath('a filter on members can only select members to remove; add members as a list of {"value": id}');
    }
    changes.remove(memberIdsSelectedBy(target.valueFilter));
    return;
  }
  switch (op) {
    case 'add':
      changes.add(normalizeMembers(value));
      return;
    case 'replace':
      changes.replace(normalizeMembers(value));
      return;
    case 'remove': {
      const listed = removedMembersGivenAsValue(value);
      if (listed) changes.remove(listed.map((member) => member.value));
      else changes.replace([]);
      return;
    }
  }
}

/**
 * The member changes of operations that all pass `addsOrRemovesListedMembers`, worked out without the group:
 * such operations touch nothing else, so the group's attributes cannot change the outcome.
 */
export function memberChangesOf(operations: readonly PatchOperation[]): MemberChanges {
  const changes = new MemberChangeSet();
  for (const operation of operations) {
    if (!addsOrRemovesListedMembers(operation)) throw new Error('memberChangesOf takes only operations that add or remove listed members');
    applyMemberOperation(changes, operation.op, { subAttribute: undefined, valueFilter: operation.path!.valueFilter }, operation.value);
  }
  return changes.changes;
}

/**
 * Whether the operation, whatever the group holds, can only add members or remove named ones: its path is
 * `members` itself, and it is an add, or a remove that names the members to remove (a value filter, or Entra's
 * value list, patch/quirks.ts). A PATCH made only of such operations leaves every other attribute as it is and
 * never replaces the member list, which the caller knows before reading the group: service/groups.ts then
 * takes a lock on the group that other such PATCHes do not wait for.
 */
export function addsOrRemovesListedMembers(operation: PatchOperation): boolean {
  const target = operation.path;
  if (!target || target.path.attribute.toLowerCase() !== 'members' || target.path.subAttribute !== undefined || target.subAttribute !== undefined) return false;
  if (target.path.uri !== undefined && target.path.uri.toLowerCase() !== GROUP_SCHEMA.toLowerCase()) return false;
  if (operation.op === 'add') return target.valueFilter === undefined;
  return operation.op === 'remove' && (target.valueFilter !== undefined || (operation.value !== undefined && operation.value !== null));
}

/**
 * `members[value eq "id"]`, also `members[value eq "a" or value eq "b"]` (Okta, RFC 7644 §3.5.2.2 example).
 * Any other filter would need the members loaded to evaluate it, which Roster refuses to do.
 */
export function memberIdsSelectedBy(filter: Filter): string[] {
  if (filter.kind === 'or') return filter.filters.flatMap(memberIdsSelectedBy);
  if (
    filter.kind === 'compare' &&
    filter.op === 'eq' &&
    filter.path.attribute.toLowerCase() === 'value' &&
    filter.path.subAttribute === undefined &&
    typeof filter.value === 'string'
  ) {
    return [filter.value];
  }
  throw ScimError.invalidPath('members can only be selected by value, as members[value eq "id"] (several joined with or)');
}
