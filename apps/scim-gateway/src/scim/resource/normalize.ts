// POST and PUT bodies (RFC 7644 §3.3, §3.5.1) to the stored shape: canonical SCIM JSON with attribute names
// spelled as in scim/schemas, extension attributes in an object under the extension's URN, and nothing the
// server owns (id, meta, schemas), nothing it must not keep (password), nothing stored elsewhere (a user's
// groups, a group's members: these live in group_members and may be 100,000 long).

import { groupsTable, usersTable, type GroupColumns, type UserColumns } from '@roster/domain';
import { ScimError } from '../errors.js';
import { currentSchemas, schemasOf, type ResourceTypeName } from '../schemas/index.js';
import { resolveMemberName, type ResolvedName } from './paths.js';
import {
  INPUT_LIMITS,
  assertNestingDepth,
  describeJsonType,
  getMember,
  isJsonObject,
  jsonEqual,
  normalizeAttributeValue,
  normalizeSubAttributeValue,
  type JsonObject,
} from './values.js';

/** A member of a group as given by a client (RFC 7643 §4.2). Roster's members are users only. */
export interface MemberRef {
  /** The member's id. */
  value: string;
  type?: 'User';
  $ref?: string;
  /** readOnly (RFC 7643 §4.2): never taken from client input; filled by the server when it serves members. */
  display?: string;
}

export interface NormalizedUserInput {
  data: JsonObject;
}

export interface NormalizedGroupInput {
  data: JsonObject;
  /** The members the body lists; undefined when it has no `members` (or `members: null`). */
  members?: MemberRef[];
}

export function normalizeUserInput(body: unknown): NormalizedUserInput {
  return { data: normalizeResourceBody('User', body).data };
}

export function normalizeGroupInput(body: unknown): NormalizedGroupInput {
  const { data, members } = normalizeResourceBody('Group', body);
  return members === undefined || members === null ? { data } : { data, members: normalizeMembers(members) };
}

/**
 * Checks a stored-shape document again: required attributes present, every value of its declared type. The
 * PATCH engine runs its result through this, so a PATCH can produce nothing a PUT could not.
 */
export function normalizeResourceData(type: ResourceTypeName, data: unknown): JsonObject {
  return normalizeResourceBody(type, data).data;
}

/** The members of a group body or PATCH value: each needs a string `value`; duplicates are collapsed. */
export function normalizeMembers(value: unknown, label = 'members'): MemberRef[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const byId = new Map<string, MemberRef>();
  list.forEach((element, index) => {
    const at = `${label}[${index}]`;
    if (element === null) return;
    if (!isJsonObject(element)) throw ScimError.invalidValue(`${at} must be an object with a "value", got ${describeJsonType(element)}`);
    const id = getMember(element, 'value', at);
    if (id === undefined || id === null) throw ScimError.invalidValue(`${at}.value is required: the id of the member`);
    if (typeof id !== 'string') throw ScimError.invalidValue(`${at}.value must be a string, got ${describeJsonType(id)}`);
    if (id.trim() === '') throw ScimError.invalidValue(`${at}.value must not be empty`);
    if (id.length > INPUT_LIMITS.maxStringLength) throw ScimError.invalidValue(`${at}.value is too long`);
    const member: MemberRef = { value: id };
    const memberType = getMember(element, 'type', at);
    if (memberType !== undefined && memberType !== null) {
      if (typeof memberType !== 'string') throw ScimError.invalidValue(`${at}.type must be a string, got ${describeJsonType(memberType)}`);
      const lower = memberType.toLowerCase();
      if (lower === 'group') throw ScimError.invalidValue(`${at}: nested groups are not supported; a member must be a User`);
      if (lower !== 'user') throw ScimError.invalidValue(`${at}.type must be "User", got "${abbreviate(memberType)}"`);
      member.type = 'User';
    }
    const ref = getMember(element, '$ref', at);
    if (ref !== undefined && ref !== null) {
      if (typeof ref !== 'string') throw ScimError.invalidValue(`${at}.$ref must be a string, got ${describeJsonType(ref)}`);
      if (ref.length > INPUT_LIMITS.maxStringLength) throw ScimError.invalidValue(`${at}.$ref is too long`);
      member.$ref = ref;
    }
    // Identity providers resend members they already listed; the first mention wins.
    if (!byId.has(id)) byId.set(id, member);
  });
  return [...byId.values()];
}

const U = usersTable.columns;
const G = groupsTable.columns;

/** Columns of the users table that mirror attributes of `data` (for indexes, uniqueness and filters). */
export type { UserColumns };

export function userColumns(data: JsonObject): UserColumns {
  const name = isJsonObject(data['name']) ? data['name'] : {};
  const emails = Array.isArray(data['emails']) ? data['emails'] : [];
  const lowered = new Set<string>();
  for (const email of emails) {
    if (isJsonObject(email) && typeof email['value'] === 'string') lowered.add(email['value'].toLowerCase());
  }
  return {
    [U.userName]: stringOrNull(data['userName']) ?? '',
    [U.externalId]: stringOrNull(data['externalId']),
    [U.displayName]: stringOrNull(data['displayName']),
    [U.givenName]: stringOrNull(name['givenName']),
    [U.familyName]: stringOrNull(name['familyName']),
    // RFC 7643 §4.1.1 gives no default; an account an identity provider creates without `active` is usable.
    [U.active]: data['active'] !== false,
    [U.emailsLower]: [...lowered],
  };
}

/** Columns of the groups table that mirror attributes of `data`. */
export type { GroupColumns };

export function groupColumns(data: JsonObject): GroupColumns {
  return { [G.displayName]: stringOrNull(data['displayName']) ?? '', [G.externalId]: stringOrNull(data['externalId']) };
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function abbreviate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** The walk shared by both resource types. Returns the stored data and the raw `members` value of a group. */
function normalizeResourceBody(type: ResourceTypeName, body: unknown): { data: JsonObject; members: unknown } {
  if (!isJsonObject(body)) throw ScimError.invalidSyntax(`the request body must be a JSON object, got ${describeJsonType(body)}`);
  assertNestingDepth(body, 'the request body');
  const writer = new DataWriter(type);
  for (const key of Object.keys(body)) {
    const value = body[key];
    const resolved = resolveMemberName(type, key);
    switch (resolved.kind) {
      case 'schemas':
        assertSchemasList(type, value);
        break;
      case 'extension': {
        if (value === null || value === undefined) break;
        if (!isJsonObject(value)) throw ScimError.invalidValue(`${resolved.schema.id} must be an object, got ${describeJsonType(value)}`);
        for (const inner of Object.keys(value)) {
          // `department` inside the extension object means what `urn:...:User:department` means at the top
          // (RFC 7643 §3.3); resolved as that full name, whose resolution is remembered.
          const name = resolveMemberName(type, `${resolved.schema.id}:${inner}`);
          if (name.kind === 'unknown') writer.unrecognized(resolved.schema.id, inner, value[inner]);
          else writer.assign(name, value[inner], `"${inner}" in the ${resolved.schema.id} object`);
        }
        break;
      }
      case 'attribute':
        writer.assign(resolved, value, `"${key}"`);
        break;
      case 'unknown':
        // A key under a schema URN (`urn:...:acme:2.0:User` or `urn:...:acme:2.0:User:costCenter`) that no
        // extension owns, or an attribute a declared extension does not have: refused or kept, never dropped
        // (the unknownExtensions setting). Unknown keys without a URN are ignored, as RFC 7644 §3.3 lets a
        // service provider do with attributes it does not support.
        if (/^urn:/i.test(key)) writer.unrecognizedKey(type, key, value);
        break;
    }
  }
  const data = writer.data;
  assertRequired(type, data);
  return { data, members: writer.members };
}

/**
 * `schemas` is optional on input (the resource type is known from the endpoint) but must be well formed, and
 * under `unknownExtensions: "reject"` every URN in it must be the core schema or an extension of the type.
 * QUIRK (Entra ID): groups list `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`, a
 * schema that is no URN and carries no attributes: only `urn:` entries are checked. Fixture:
 * test/compat/fixtures/entra.json.
 */
function assertSchemasList(type: ResourceTypeName, value: unknown): void {
  if (value === null || value === undefined) return;
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) {
    throw ScimError.invalidSyntax(`schemas must be an array of schema URN strings, got ${describeJsonType(value)}`);
  }
  if (currentSchemas().unknownExtensions !== 'reject') return;
  const { core, extensions } = schemasOf(type);
  for (const urn of value as string[]) {
    if (!/^urn:/i.test(urn)) continue;
    const lower = urn.toLowerCase();
    if (core.id.toLowerCase() === lower || extensions.some((schema) => schema.id.toLowerCase() === lower)) continue;
    throw ScimError.invalidValue(`schemas lists ${urn}, which is neither the ${type} schema nor an extension schema declared for ${type}s (declare it under Schema extensions in the admin app)`);
  }
}

/** RFC 7643 §2.2 `required`: userName of a User, displayName of a Group. Blank counts as missing. */
function assertRequired(type: ResourceTypeName, data: JsonObject): void {
  for (const attribute of schemasOf(type).core.attributes) {
    if (!attribute.required) continue;
    const value = data[attribute.name];
    if (value === undefined) throw ScimError.invalidValue(`${attribute.name} is required`);
    if (typeof value === 'string' && value.trim() === '') throw ScimError.invalidValue(`${attribute.name} must not be empty`);
  }
  // Declared extensions: one marked required must be present (RFC 7643 §6), and a present extension must hold
  // its required attributes (RFC 7643 §2.2).
  const { extensions, requiredExtensions } = schemasOf(type);
  for (const extension of extensions) {
    const values = data[extension.id];
    if (values === undefined) {
      if (requiredExtensions.includes(extension.id)) throw ScimError.invalidValue(`${extension.id} is required on every ${type}: its extension schema is declared required`);
      continue;
    }
    for (const attribute of extension.attributes) {
      if (attribute.required && isJsonObject(values) && values[attribute.name] === undefined) throw ScimError.invalidValue(`${extension.id}:${attribute.name} is required`);
    }
  }
  const userName = data['userName'];
  if (type === 'User' && typeof userName === 'string' && userName.length > INPUT_LIMITS.maxUserNameLength) {
    throw ScimError.invalidValue(`userName is ${userName.length} characters long; at most ${INPUT_LIMITS.maxUserNameLength} are accepted`);
  }
}

/** Collects attribute values into the stored shape, refusing one attribute given twice under two spellings. */
class DataWriter {
  readonly data: JsonObject = {};
  members: unknown = undefined;
  /**
   * Whole attribute (with its extension URN) -> the labels given for it (the attribute itself or its
   * sub-attributes) and where the client wrote each, to name both places in the duplicate error.
   */
  private readonly given = new Map<string, Array<{ label: string; source: string }>>();

  constructor(private readonly type: ResourceTypeName) {}

  /** `source` describes where the client wrote the value, quoted: `"userName"`. */
  assign(name: ResolvedName, value: unknown, source: string): void {
    if (name.kind !== 'attribute') return;
    const { attribute, subAttribute, extension, label } = name;
    // readOnly attributes (id, meta, groups) are the server's (RFC 7643 §2.2: ignored on input); password is
    // writeOnly and accepted only to be dropped: Roster never stores passwords.
    if (attribute.mutability === 'readOnly' || attribute.mutability === 'writeOnly') return;
    if (subAttribute && (subAttribute.mutability === 'readOnly' || subAttribute.mutability === 'writeOnly')) return;
    this.claim(label, attribute.name, extension, source);
    if (this.type === 'Group' && attribute.name === 'members' && !extension) {
      if (subAttribute) throw ScimError.invalidValue(`${source}: members are given as a list of objects, not one sub-attribute at a time`);
      this.members = value;
      return;
    }
    const container = extension ? this.extensionObject(extension) : this.data;
    if (!subAttribute) {
      const normalized = normalizeAttributeValue(attribute, value, label);
      if (normalized !== undefined) container[attribute.name] = normalized;
    } else {
      if (attribute.multiValued) {
        throw ScimError.invalidValue(`${source}: ${attribute.name} is multi-valued; give its values as a list of objects`);
      }
      const normalized = normalizeSubAttributeValue(subAttribute, value, label);
      if (normalized !== undefined) {
        const current = container[attribute.name];
        const complex = isJsonObject(current) ? current : {};
        complex[subAttribute.name] = normalized;
        container[attribute.name] = complex;
      }
    }
    if (extension && Object.keys(this.extensionObject(extension)).length === 0) delete this.data[extension];
  }

  /**
   * A value under a URN no extension owns (`attribute` undefined: the whole object of the URN), or an attribute
   * a declared extension does not have. "reject": 400 invalidValue naming it. "keep": stored verbatim under its
   * URN, where the directory lists it as unrecognized and an admin can declare the extension with its values.
   */
  unrecognized(urn: string, attribute: string | undefined, value: unknown): void {
    const label = attribute === undefined ? urn : `${urn}:${attribute}`;
    if (currentSchemas().unknownExtensions === 'reject') {
      const declared = findDeclared(this.type, urn);
      throw ScimError.invalidValue(
        declared
          ? `${label} is not an attribute of the extension schema ${declared}`
          : `${urn} is not an extension schema declared for ${this.type}s: ${label} is refused (declare the extension under Schema extensions in the admin app, or set unknownExtensions to "keep")`,
      );
    }
    if (value === null || value === undefined) return;
    const holder = this.extensionObject(urn);
    if (attribute === undefined) {
      if (isJsonObject(value)) Object.assign(holder, value);
    } else {
      holder[attribute] = value;
    }
    if (Object.keys(holder).length === 0) delete this.data[urn];
  }

  /**
   * A body key under an unknown URN. An object value is read as the extension object (`"urn:...:User": {...}`),
   * anything else as one attribute after the last colon (`"urn:...:User:costCenter": "4711"`, RFC 7644 §3.10).
   */
  unrecognizedKey(type: ResourceTypeName, key: string, value: unknown): void {
    const split = splitUnknownKey(type, key, value);
    this.unrecognized(split.urn, split.attribute, value);
  }

  private extensionObject(urn: string): JsonObject {
    const current = this.data[urn];
    if (isJsonObject(current)) return current;
    const created: JsonObject = {};
    this.data[urn] = created;
    return created;
  }

  private claim(label: string, attributeName: string, extension: string | undefined, source: string): void {
    const whole = extension ? `${extension}:${attributeName}` : attributeName;
    const earlier = this.given.get(whole);
    if (!earlier) {
      this.given.set(whole, [{ label, source }]);
      return;
    }
    // The same label twice, or a whole attribute beside one of its sub-attributes (in either order).
    const clash = earlier.find((other) => other.label === label || other.label === whole || label === whole);
    if (clash) throw ScimError.invalidValue(`${label} is given more than once (as ${clash.source} and ${source})`);
    earlier.push({ label, source });
  }
}

/** The declared extension (exact spelling) whose URN this is, if any. */
function findDeclared(type: ResourceTypeName, urn: string): string | undefined {
  const lower = urn.toLowerCase();
  return schemasOf(type).extensions.find((schema) => schema.id.toLowerCase() === lower)?.id;
}

/** See DataWriter.unrecognizedKey; a known extension's URN prefix wins over the last-colon split. */
export function splitUnknownKey(type: ResourceTypeName, key: string, value: unknown): { urn: string; attribute: string | undefined } {
  const declared = schemasOf(type).extensions.find((schema) => key.toLowerCase().startsWith(`${schema.id.toLowerCase()}:`));
  if (declared) return { urn: declared.id, attribute: key.slice(declared.id.length + 1) };
  if (isJsonObject(value)) return { urn: key, attribute: undefined };
  const cut = key.lastIndexOf(':');
  return { urn: key.slice(0, cut), attribute: key.slice(cut + 1) };
}

/**
 * RFC 7643 §2.2 `immutable`: a declared extension attribute that holds a value may not be changed or removed by
 * PUT or PATCH (400 mutability); one without a value may be set once.
 */
export function assertImmutableUnchanged(type: ResourceTypeName, before: JsonObject, after: JsonObject): void {
  for (const extension of schemasOf(type).extensions) {
    for (const attribute of extension.attributes) {
      if (attribute.mutability !== 'immutable') continue;
      const old = isJsonObject(before[extension.id]) ? (before[extension.id] as JsonObject)[attribute.name] : undefined;
      if (old === undefined) continue;
      const now = isJsonObject(after[extension.id]) ? (after[extension.id] as JsonObject)[attribute.name] : undefined;
      if (!jsonEqual(old, now)) throw ScimError.mutability(`${extension.id}:${attribute.name} is immutable (RFC 7643 §2.2): it holds a value that cannot change`);
    }
  }
}
