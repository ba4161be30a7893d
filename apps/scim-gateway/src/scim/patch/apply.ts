// Applies PATCH operations (RFC 7644 §3.5.2.1-3) in memory to a resource's stored data. Every operation goes
// through the one resolver of target.ts; every value through the type checks of resource/values.ts; after each
// operation the document is checked again as a PUT body would be, so a PATCH can produce nothing a PUT could not.

import { ScimError } from '../errors.js';
import { matchesValueFilter } from '../filter/evaluate.js';
import { currentSchemas, findAttribute, schemasOf, type AttributeDefinition, type ResourceTypeName, type SchemaDefinition } from '../schemas/index.js';
import { assertImmutableUnchanged, normalizeResourceData, splitUnknownKey } from '../resource/normalize.js';
import {
  describeJsonType,
  isJsonObject,
  jsonEqual,
  normalizeAttributeValue,
  normalizeSingleValue,
  normalizeSubAttributeValue,
  type JsonObject,
} from '../resource/values.js';
import { MemberChangeSet, applyMemberOperation, type MemberChanges } from './members.js';
import { inOperation, type PatchOpName, type PatchOperation } from './parse.js';
import { elementDescribedByFilter } from './quirks.js';
import { resolvePathTarget, resolveValueKeyTarget, type Target } from './target.js';

export interface UserPatchResult {
  data: JsonObject;
  /** False when the operations left the data as it was: the caller skips the write and keeps the version. */
  changed: boolean;
}

export interface GroupPatchResult {
  data: JsonObject;
  /** Whether `data` changed; member changes are reported in `members` only. */
  changed: boolean;
  members: MemberChanges;
}

export function applyUserPatch(data: JsonObject, operations: readonly PatchOperation[]): UserPatchResult {
  return applyPatch('User', data, operations, undefined);
}

export function applyGroupPatch(data: JsonObject, operations: readonly PatchOperation[]): GroupPatchResult {
  const members = new MemberChangeSet();
  const result = applyPatch('Group', data, operations, members);
  return { ...result, members: members.changes };
}

type AttributeTarget = Extract<Target, { kind: 'attribute' }>;

function applyPatch(type: ResourceTypeName, data: JsonObject, operations: readonly PatchOperation[], members: MemberChangeSet | undefined): UserPatchResult {
  // Every path is resolved before the first operation is applied: a bad path anywhere fails the whole request.
  const targets = operations.map((operation) =>
    inOperation(operation.index, () => (operation.path ? resolvePathTarget(type, operation.path, operation.pathText ?? '') : undefined)),
  );
  let document: JsonObject = structuredClone(data);
  operations.forEach((operation, position) => {
    document = inOperation(operation.index, () => {
      new OperationApplier(type, document, members, operation.op).run(targets[position], operation.value);
      return normalizeResourceData(type, document);
    });
  });
  assertImmutableUnchanged(type, data, document);
  return { data: document, changed: !jsonEqual(data, document) };
}

/** One operation on a mutable copy of the document. */
class OperationApplier {
  /** Values this operation wrote: when it marks one primary, the others give way (RFC 7644 §3.5.2). */
  private readonly written = new Set<unknown>();

  constructor(
    private readonly type: ResourceTypeName,
    private readonly document: JsonObject,
    private readonly members: MemberChangeSet | undefined,
    private readonly op: PatchOpName,
  ) {}

  run(target: Target | undefined, value: unknown): void {
    // Without a path the value holds the attributes to add or replace (RFC 7644 §3.5.2.1, §3.5.2.3).
    if (!target) this.applyObject(value, undefined);
    else this.applyTarget(target, value, true);
  }

  private applyObject(value: unknown, extension: SchemaDefinition | undefined): void {
    if (!isJsonObject(value)) {
      throw ScimError.invalidValue(`${extension ? extension.id : 'the value'} must be an object, got ${describeJsonType(value)}`);
    }
    for (const key of Object.keys(value)) this.applyTarget(resolveValueKeyTarget(this.type, key, extension), value[key]);
  }

  /** `fromPath`: the target is the operation's own `path`, not a key of its value. */
  private applyTarget(target: Target, value: unknown, fromPath = false): void {
    switch (target.kind) {
      case 'ignored':
        return;
      case 'unrecognized':
        this.applyUnrecognized(target, value, fromPath);
        return;
      case 'extension':
        if (this.op === 'remove' || (this.op === 'replace' && value === null)) delete this.document[target.schema.id];
        else if (value !== null) this.applyObject(value, target.schema);
        return;
      case 'attribute':
        this.applyAttribute(target, value);
    }
  }

  /** See Target 'unrecognized': 400 under "reject"; under "keep" the value is written or removed verbatim. */
  private applyUnrecognized(target: Extract<Target, { kind: 'unrecognized' }>, value: unknown, fromPath: boolean): void {
    const split = target.urn === undefined ? splitUnknownKey(this.type, target.key, value) : { urn: target.urn, attribute: target.attribute };
    const label = split.attribute ? `${split.urn}:${split.attribute}` : split.urn;
    if (currentSchemas().unknownExtensions === 'reject') {
      const declared = schemasOf(this.type).extensions.some((schema) => schema.id.toLowerCase() === split.urn.toLowerCase());
      // An operation's path that names no attribute is invalidPath (RFC 7644 §3.5.2: "the path attribute ... does
      // not match any attribute"); a key of its value that no declared extension owns is invalidValue, as in a POST.
      throw (fromPath ? ScimError.invalidPath : ScimError.invalidValue)(
        declared
          ? `"${target.key}": ${label} is not an attribute of the extension schema ${split.urn}`
          : `"${target.key}": ${split.urn} is not an extension schema declared for ${this.type}s (declare it under Schema extensions in the admin app, or set unknownExtensions to "keep")`,
      );
    }
    if (split.attribute === '') throw ScimError.invalidPath(`"${target.key}": only whole attributes of an unrecognized extension can be changed`);
    const removing = this.op === 'remove' || (this.op === 'replace' && value === null);
    const current = this.document[split.urn];
    const holder: JsonObject = isJsonObject(current) ? current : {};
    if (split.attribute === undefined) {
      if (removing) delete this.document[split.urn];
      else if (isJsonObject(value)) this.document[split.urn] = this.op === 'replace' ? { ...value } : { ...holder, ...value };
      else throw ScimError.invalidValue(`"${target.key}": the value of an extension schema must be an object, got ${describeJsonType(value)}`);
      return;
    }
    if (removing) delete holder[split.attribute];
    else if (value !== null) holder[split.attribute] = value;
    if (Object.keys(holder).length === 0) delete this.document[split.urn];
    else this.document[split.urn] = holder;
  }

  private applyAttribute(target: AttributeTarget, value: unknown): void {
    const { attribute, extension, subAttribute, valueFilter } = target;
    if (this.type === 'Group' && !extension && attribute.name === 'members' && this.members) {
      applyMemberOperation(this.members, this.op, target, value);
      return;
    }
    const removing = this.op === 'remove' || (this.op === 'replace' && value === null);
    if (removing && attribute.required && !subAttribute && !valueFilter) {
      // RFC 7644 §3.5.2: a required attribute that would become unassigned is a mutability error.
      throw ScimError.mutability(`${attribute.name} is required and cannot be removed`);
    }
    if (value === null && !removing) return; // adding "unassigned" adds nothing
    const container = extension ? this.extensionObject(extension) : this.document;
    if (removing) this.remove(target, container, this.op === 'remove' ? value : undefined);
    else this.write(target, container, value);
    if (extension && Object.keys(container).length === 0) delete this.document[extension];
  }

  private remove(target: AttributeTarget, container: JsonObject, value: unknown): void {
    const { attribute, subAttribute, valueFilter } = target;
    if (!valueFilter && !subAttribute) {
      if (attribute.multiValued && value !== undefined && value !== null) {
        // Remove exactly the values listed (Entra's habit for members, patch/quirks.ts, applied to every
        // multi-valued attribute so that all of them behave alike).
        const listed = (normalizeAttributeValue(attribute, value, target.label) ?? []) as unknown[];
        const kept = readElements(container, attribute).filter((element) => !listed.some((given) => covers(attribute, element, given)));
        writeElements(container, attribute, kept);
        return;
      }
      delete container[attribute.name];
      return;
    }
    const elements = readElements(container, attribute);
    const selected = new Set(valueFilter ? elements.filter((element) => this.matches(target, element)) : elements);
    let kept: unknown[];
    if (!subAttribute) {
      kept = elements.filter((element) => !selected.has(element));
    } else {
      for (const element of selected) if (isJsonObject(element)) delete element[subAttribute.name];
      kept = elements.filter((element) => !isJsonObject(element) || Object.keys(element).length > 0);
    }
    writeElements(container, attribute, kept);
  }

  private write(target: AttributeTarget, container: JsonObject, value: unknown): void {
    const { attribute, subAttribute, valueFilter, label } = target;
    if (!valueFilter && !subAttribute) {
      if (!attribute.multiValued) {
        const normalized = normalizeAttributeValue(attribute, value, label);
        if (normalized === undefined) return;
        // add and replace of a complex attribute both merge: "Sub-attributes that are not specified in the
        // value parameter are left unchanged" (RFC 7644 §3.5.2.3; §3.5.2.1 likewise).
        const current = container[attribute.name];
        container[attribute.name] = attribute.type === 'complex' && isJsonObject(current) && isJsonObject(normalized) ? { ...current, ...normalized } : normalized;
        return;
      }
      const values = (normalizeAttributeValue(attribute, value, label) ?? []) as unknown[];
      if (this.op === 'replace') {
        // RFC 7644 §3.5.2.3: replace without a filter replaces all values of a multi-valued attribute.
        values.forEach((element) => this.written.add(element));
        writeElements(container, attribute, values);
      } else {
        // RFC 7644 §3.5.2.1: add appends; a value already present is not added twice (identity providers retry).
        const elements = readElements(container, attribute);
        for (const element of values) {
          if (elements.some((existing) => covers(attribute, existing, element))) continue;
          elements.push(element);
          this.written.add(element);
        }
        writeElements(container, attribute, elements);
      }
      this.settlePrimary(attribute, container);
      return;
    }
    if (subAttribute && !valueFilter && !attribute.multiValued) {
      // `name.givenName`: set one sub-attribute of a singular complex attribute, creating it when absent.
      const normalized = normalizeSubAttributeValue(subAttribute, value, label);
      if (normalized === undefined) return;
      const current = container[attribute.name];
      container[attribute.name] = { ...(isJsonObject(current) ? current : {}), [subAttribute.name]: normalized };
      return;
    }
    const elements = readElements(container, attribute);
    const matched = valueFilter ? elements.filter((element) => this.matches(target, element)) : elements;
    if (matched.length === 0) {
      const created = valueFilter && subAttribute && attribute.multiValued ? this.createDescribedElement(target, value) : undefined;
      if (!created) {
        // RFC 7644 §3.5.2.3: a value filter that matches nothing is 400 noTarget.
        throw ScimError.noTarget(valueFilter ? `no value of ${attribute.name} matches the filter of the path` : `${attribute.name} has no values to set ${subAttribute?.name ?? ''} on`);
      }
      elements.push(created);
      this.written.add(created);
    } else if (subAttribute) {
      const normalized = normalizeSubAttributeValue(subAttribute, value, label);
      for (const element of matched) {
        if (!isJsonObject(element)) continue;
        if (normalized === undefined) delete element[subAttribute.name];
        else element[subAttribute.name] = normalized;
        this.written.add(element);
      }
    } else {
      // `emails[type eq "work"]` with an object: replace swaps each matching value for the given one
      // (RFC 7644 §3.5.2.3, "all matching record values SHALL be replaced"); add merges into them.
      const given = Array.isArray(value) && value.length === 1 ? value[0] : value;
      const normalized = normalizeSingleValue(attribute, given, label);
      if (!isJsonObject(normalized)) return;
      for (let position = 0; position < elements.length; position += 1) {
        const element = elements[position];
        if (!matched.includes(element)) continue;
        const next = this.op === 'replace' || !isJsonObject(element) ? { ...normalized } : { ...element, ...normalized };
        elements[position] = next;
        this.written.add(next);
      }
    }
    writeElements(container, attribute, elements);
    this.settlePrimary(attribute, container);
  }

  /** The Entra create-on-missing quirk (patch/quirks.ts): the element the filter describes, with the value set. */
  private createDescribedElement(target: AttributeTarget, value: unknown): JsonObject | undefined {
    const described = target.valueFilter ? elementDescribedByFilter(target.valueFilter) : undefined;
    if (!described || !target.subAttribute || value === null) return undefined;
    const subName = target.subAttribute.name.toLowerCase();
    const element: JsonObject = {};
    for (const [key, given] of Object.entries(described)) if (key.toLowerCase() !== subName) element[key] = given;
    element[target.subAttribute.name] = value;
    const normalized = normalizeSingleValue(target.attribute, element, target.label);
    return isJsonObject(normalized) ? normalized : undefined;
  }

  private matches(target: AttributeTarget, element: unknown): boolean {
    return target.valueFilter ? matchesValueFilter(this.type, target.attributePath, target.valueFilter, element) : true;
  }

  /**
   * RFC 7644 §3.5.2: setting "primary" to true on one value SHALL set it to false on the others. When this
   * operation wrote exactly one primary value, it wins; otherwise the re-check after the operation refuses
   * the result with the RFC 7643 §2.4 message.
   */
  private settlePrimary(attribute: AttributeDefinition, container: JsonObject): void {
    if (!attribute.multiValued || !findAttribute(attribute.subAttributes, 'primary')) return;
    const elements = readElements(container, attribute);
    const primaries = elements.filter((element): element is JsonObject => isJsonObject(element) && element['primary'] === true);
    if (primaries.length < 2) return;
    const fresh = primaries.filter((element) => this.written.has(element));
    if (fresh.length !== 1) return;
    for (const element of primaries) if (element !== fresh[0]) element['primary'] = false;
  }

  private extensionObject(urn: string): JsonObject {
    const current = this.document[urn];
    if (isJsonObject(current)) return current;
    const created: JsonObject = {};
    this.document[urn] = created;
    return created;
  }
}

/** The values of an attribute as a list: a singular complex attribute is a list of at most one. */
function readElements(container: JsonObject, attribute: AttributeDefinition): unknown[] {
  const current = container[attribute.name];
  if (attribute.multiValued) return Array.isArray(current) ? [...current] : [];
  return current === undefined || current === null ? [] : [current];
}

function writeElements(container: JsonObject, attribute: AttributeDefinition, elements: unknown[]): void {
  const value = attribute.multiValued ? elements : elements[0];
  if (value === undefined || (Array.isArray(value) && value.length === 0)) delete container[attribute.name];
  else container[attribute.name] = value;
}

/** True when `existing` already holds everything `given` says (sub-attribute values compared per caseExact). */
function covers(attribute: AttributeDefinition, existing: unknown, given: unknown): boolean {
  if (!isJsonObject(given) || !isJsonObject(existing)) return sameValue(attribute, existing, given);
  return Object.keys(given).every((key) => {
    const sub = findAttribute(attribute.subAttributes, key);
    return sub !== undefined && sameValue(sub, existing[sub.name], given[key]);
  });
}

function sameValue(definition: AttributeDefinition, left: unknown, right: unknown): boolean {
  if (typeof left === 'string' && typeof right === 'string' && !definition.caseExact) return left.toLowerCase() === right.toLowerCase();
  return jsonEqual(left, right);
}
