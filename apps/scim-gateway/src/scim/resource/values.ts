// Type checks of attribute values against their definitions (RFC 7643 §2.3), shared by POST/PUT bodies
// (normalize.ts) and PATCH values (patch/apply.ts), so both accept and refuse exactly the same things.

import { ScimError } from '../errors.js';
import { findAttribute, type AttributeDefinition } from '../schemas/index.js';
import { readManagerGivenAsString, readStringBoolean } from './quirks.js';

export type JsonObject = { [key: string]: unknown };

/** Bounds on client input; anything beyond them is refused with 400 invalidValue before it reaches storage. */
export const INPUT_LIMITS = {
  /** Characters in one string value: far above any real attribute, far below what could hurt a row. */
  maxStringLength: 65_536,
  /** Characters in userName: it is a login name and a unique index key. */
  maxUserNameLength: 512,
  /**
   * Nesting of JSON objects and arrays in a body. The deepest legitimate shape is a PATCH message adding the
   * enterprise manager without a path (body > Operations > op > value > extension > manager: 6 levels).
   */
  maxDepth: 16,
} as const;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "a number", "an array": how error messages name the JSON type a client sent. */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** Refuses bodies nested deeper than INPUT_LIMITS.maxDepth. */
export function assertNestingDepth(value: unknown, what: string): void {
  if (nestsDeeperThan(value, INPUT_LIMITS.maxDepth)) {
    throw ScimError.invalidValue(`${what} nests objects and arrays deeper than ${INPUT_LIMITS.maxDepth} levels`);
  }
}

/**
 * Whether a parsed JSON value nests objects and arrays more than `limit` levels deep (the value itself is
 * level 1). The walk is recursive but stops one level past the limit, so a body nested 100,000 deep costs
 * `limit` frames, never the stack; it allocates nothing, which matters for a /Bulk body of 1,000 users.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  return typeof value === 'object' && value !== null && deeperThan(value as JsonObject, limit - 1);
}

function deeperThan(value: JsonObject | unknown[], levelsLeft: number): boolean {
  if (levelsLeft < 0) return true;
  if (Array.isArray(value)) {
    for (const child of value) {
      if (typeof child === 'object' && child !== null && deeperThan(child as JsonObject, levelsLeft - 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const child = value[key];
    if (typeof child === 'object' && child !== null && deeperThan(child as JsonObject, levelsLeft - 1)) return true;
  }
  return false;
}

/**
 * The value of an object member whose name matches case-insensitively (RFC 7643 §2.1).
 * Two members that differ only in case are refused: which one the client meant is unknowable.
 */
export function getMember(object: JsonObject, name: string, label: string): unknown {
  const lower = name.toLowerCase();
  let found: string | undefined;
  for (const key of Object.keys(object)) {
    if (key.toLowerCase() !== lower) continue;
    if (found !== undefined) throw ScimError.invalidValue(`${label} has both "${found}" and "${key}"`);
    found = key;
  }
  return found === undefined ? undefined : object[found];
}

/**
 * Checks and canonicalizes the value of one attribute (multi-valued or not). Returns undefined when the value
 * is absent: null, an empty array or an empty complex value (RFC 7643 §2.5: these are "unassigned").
 * `label` names the attribute in error messages ("emails", "urn:...:User:manager").
 */
export function normalizeAttributeValue(definition: AttributeDefinition, value: unknown, label: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (!definition.multiValued) return normalizeSingleValue(definition, value, label);
  // A single value where an array belongs is read as a list of one: several clients send `"emails": {...}`.
  const list = Array.isArray(value) ? value : [value];
  const values: unknown[] = [];
  list.forEach((element, index) => {
    if (Array.isArray(element)) throw ScimError.invalidValue(`${label}[${index}] must be ${expectedType(definition)}, got an array`);
    const normalized = normalizeSingleValue(definition, element, `${label}[${index}]`);
    if (normalized !== undefined) values.push(normalized);
  });
  assertOnePrimary(definition, values, label);
  return values.length === 0 ? undefined : values;
}

/** One value of an attribute: a complex value (an object of sub-attributes) or a simple value. */
export function normalizeSingleValue(definition: AttributeDefinition, value: unknown, label: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (definition.type !== 'complex') return normalizeSimpleValue(definition, value, label);
  const given = readManagerGivenAsString(definition.name, value);
  if (!isJsonObject(given)) throw ScimError.invalidValue(`${label} must be an object, got ${describeJsonType(value)}`);
  const result: JsonObject = {};
  const seen = new Set<string>();
  for (const key of Object.keys(given)) {
    const sub = findAttribute(definition.subAttributes, key);
    // Unknown sub-attributes are ignored like unknown attributes; readOnly ones (members.display,
    // manager.displayName) are the server's to set (RFC 7643 §2.2: "SHALL be ignored" on input).
    if (!sub || sub.mutability === 'readOnly') continue;
    if (seen.has(sub.name)) throw ScimError.invalidValue(`${label}.${sub.name} is given more than once`);
    seen.add(sub.name);
    const normalized = normalizeSubAttributeValue(sub, given[key], `${label}.${sub.name}`);
    if (normalized !== undefined) result[sub.name] = normalized;
  }
  return Object.keys(result).length === 0 ? undefined : result;
}

/** A sub-attribute holds simple values only (RFC 7643 §2.3.8: a complex attribute contains no complex one). */
export function normalizeSubAttributeValue(definition: AttributeDefinition, value: unknown, label: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (definition.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    const values = list.map((element, index) => normalizeSimpleValue(definition, element, `${label}[${index}]`)).filter((v) => v !== undefined);
    return values.length === 0 ? undefined : values;
  }
  return normalizeSimpleValue(definition, value, label);
}

// xsd:dateTime (RFC 7643 §2.3.5), e.g. 2008-01-23T04:56:22Z or 2008-01-23T04:56:22.123+02:00.
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;
// base64 (RFC 4648 §4) or its URL-safe alphabet (§5); line breaks of PEM bodies are allowed.
const BASE64 = /^[A-Za-z0-9+/_\-\s]*={0,2}\s*$/;

function expectedType(definition: AttributeDefinition): string {
  switch (definition.type) {
    case 'string':
    case 'reference':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    case 'decimal':
      return 'a number';
    case 'integer':
      return 'an integer';
    case 'dateTime':
      return 'a dateTime string';
    case 'binary':
      return 'a base64 string';
    case 'complex':
      return 'an object';
  }
}

export function normalizeSimpleValue(definition: AttributeDefinition, value: unknown, label: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (definition.type) {
    case 'string':
    case 'reference':
      if (typeof value !== 'string') throw wrongType(definition, value, label);
      return boundedString(value, label);
    case 'binary':
      if (typeof value !== 'string') throw wrongType(definition, value, label);
      if (!BASE64.test(value)) throw ScimError.invalidValue(`${label} must be base64 encoded (RFC 7643 §2.3.6)`);
      return boundedString(value, label);
    case 'dateTime':
      if (typeof value !== 'string') throw wrongType(definition, value, label);
      if (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
        throw ScimError.invalidValue(`${label} must be an xsd:dateTime such as 2008-01-23T04:56:22Z (RFC 7643 §2.3.5)`);
      }
      return value;
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const read = typeof value === 'string' ? readStringBoolean(value) : undefined;
      if (read === undefined) throw wrongType(definition, value, label);
      return read;
    }
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType(definition, value, label);
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw wrongType(definition, value, label);
      return value;
    case 'complex':
      // Only reached for a complex sub-attribute, which RFC 7643 §2.3.8 rules out; refuse rather than store blindly.
      throw ScimError.invalidValue(`${label} cannot hold a complex value`);
  }
}

function wrongType(definition: AttributeDefinition, value: unknown, label: string): ScimError {
  return ScimError.invalidValue(`${label} must be ${expectedType(definition)}, got ${describeJsonType(value)}`);
}

function boundedString(value: string, label: string): string {
  if (value.length > INPUT_LIMITS.maxStringLength) {
    throw ScimError.invalidValue(`${label} is ${value.length} characters long; at most ${INPUT_LIMITS.maxStringLength} are accepted`);
  }
  return value;
}

/**
 * RFC 7643 §2.4: "The primary attribute value "true" MUST appear no more than once." A POST or PUT body that
 * marks two values primary is refused (400 invalidValue): picking one for the client would silently change
 * what it asked for. PATCH is different: RFC 7644 §3.5.2 makes the value an operation marks primary win, and
 * patch/apply.ts clears the others before this check runs on its result.
 */
export function assertOnePrimary(definition: AttributeDefinition, values: readonly unknown[], label: string): void {
  if (!findAttribute(definition.subAttributes, 'primary')) return;
  const primaries = values.filter((value) => isJsonObject(value) && value['primary'] === true).length;
  if (primaries > 1) {
    throw ScimError.invalidValue(`${label}: at most one value may have "primary": true (RFC 7643 §2.4), ${primaries} do`);
  }
}

/** Structural equality of JSON values; object member order does not matter, array order does. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((element, index) => jsonEqual(element, b[index]));
  }
  const left = a as JsonObject;
  const right = b as JsonObject;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && jsonEqual(left[key], right[key]));
}
