// The in-memory reference evaluation of a filter on a SCIM resource as served (RFC 7644 §3.4.2.2). It runs the
// same resolved form as the SQL compiler (validate.ts) and defines the leaf comparisons the compiler must
// reproduce in SQL; the execution tests hold the two to exact agreement. Used by the PATCH engine for value
// filters (`emails[type eq "work"]`) and by tests as the oracle for the SQL.

import type { AttributeDefinition, ResourceTypeName } from '../schemas/index.js';
import type { AttributePath, Filter } from './ast.js';
import { parseDateTime, validateFilter, validateValueFilter, type ResolvedFilter, type ResolvedLeaf, type ResolvedOperator, type ResolvedValue } from './validate.js';

type Json = unknown;
type JsonObject = Record<string, unknown>;

/** True when `resource` (a full SCIM resource JSON, with id, meta and groups/members) matches `filter`. */
export function matchesFilter(type: ResourceTypeName, filter: Filter, resource: JsonObject): boolean {
  return evaluateResolved(validateFilter(type, filter), resource);
}

/**
 * True when one value `element` of the attribute `attributePath` matches the value filter `filter`
 * (the `[...]` of a PATCH path, RFC 7644 §3.5.2). Throws ScimError invalidPath for a filter that does not
 * fit the attribute.
 */
export function matchesValueFilter(type: ResourceTypeName, attributePath: AttributePath, filter: Filter, element: unknown): boolean {
  const { attribute, filter: resolved } = validateValueFilter(type, attributePath, filter, 'invalidPath');
  if (attribute.attribute.multiValued) return evaluate(resolved, {}, element);
  // A singular complex attribute: the inner leaves read `attribute.sub` of a resource holding only `element`.
  const holder: JsonObject = { [attribute.attribute.name]: element };
  return evaluate(resolved, attribute.extension ? { [attribute.schema]: holder } : holder, undefined);
}

/** Evaluates an already validated filter. */
export function evaluateResolved(filter: ResolvedFilter, resource: JsonObject): boolean {
  return evaluate(filter, resource, undefined);
}

function evaluate(filter: ResolvedFilter, resource: JsonObject, element: Json): boolean {
  switch (filter.kind) {
    case 'and':
      return filter.filters.every((inner) => evaluate(inner, resource, element));
    case 'or':
      return filter.filters.some((inner) => evaluate(inner, resource, element));
    case 'not':
      return !evaluate(filter.filter, resource, element);
    case 'any': {
      const values = readAttribute(resource, filter.leaf);
      return Array.isArray(values) && values.some((value) => evaluate(filter.filter, resource, value));
    }
    case 'present':
      return isPresent(filter.leaf, readLeaf(filter.leaf, resource, element));
    case 'compare':
      return compareLeaf(filter.leaf.definition, readLeaf(filter.leaf, resource, element), filter.op, filter.value);
  }
}

function readAttribute(resource: JsonObject, leaf: ResolvedLeaf): Json {
  const holder = leaf.extension ? resource[leaf.schema] : resource;
  return isObject(holder) ? holder[leaf.attribute.name] : undefined;
}

function readLeaf(leaf: ResolvedLeaf, resource: JsonObject, element: Json): Json {
  if (leaf.element) return isObject(element) && leaf.subAttribute ? element[leaf.subAttribute.name] : undefined;
  const value = readAttribute(resource, leaf);
  if (!leaf.subAttribute) return value;
  return isObject(value) ? value[leaf.subAttribute.name] : undefined;
}

/**
 * Presence (RFC 7644 §3.4.2.2 `pr`): a multi-valued attribute has at least one value; a complex one is an
 * object or value that is not null, "", [] or {}; a simple one has a value of its type that is not "".
 */
function isPresent(leaf: ResolvedLeaf, value: Json): boolean {
  const definition = leaf.definition;
  if (definition.multiValued && !leaf.subAttribute) return Array.isArray(value) && value.length > 0;
  if (definition.type === 'complex') return isPresentJson(value);
  return typedValue(definition, value) !== undefined && value !== '';
}

export function isPresentJson(value: Json): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.keys(value).length > 0;
  return true;
}

/** The value read as the attribute's type, or undefined when absent or of another JSON type. */
function typedValue(definition: AttributeDefinition, value: Json): string | number | boolean | undefined {
  switch (definition.type) {
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'decimal':
    case 'integer':
      return typeof value === 'number' ? value : undefined;
    case 'dateTime':
      return typeof value === 'string' ? parseDateTime(value) : undefined;
    case 'complex':
      return undefined;
    default:
      return typeof value === 'string' ? value : undefined;
  }
}

/** One comparison of a stored value with the filter's value; a missing value never matches. */
export function compareLeaf(definition: AttributeDefinition, stored: Json, op: ResolvedOperator, value: ResolvedValue): boolean {
  const actual = typedValue(definition, stored);
  if (actual === undefined) return false;
  switch (definition.type) {
    case 'boolean':
      return op === 'eq' && actual === value;
    case 'decimal':
    case 'integer':
      return typeof value === 'number' && typeof actual === 'number' && compareOrdered(actual - value, op);
    case 'dateTime': {
      const expected = typeof value === 'string' ? parseDateTime(value) : undefined;
      return expected !== undefined && typeof actual === 'number' && compareOrdered(actual - expected, op);
    }
    default:
      return typeof actual === 'string' && compareText(actual, op, String(value), definition.caseExact);
  }
}

function compareOrdered(difference: number, op: ResolvedOperator): boolean {
  switch (op) {
    case 'eq':
      return difference === 0;
    case 'gt':
      return difference > 0;
    case 'ge':
      return difference >= 0;
    case 'lt':
      return difference < 0;
    case 'le':
      return difference <= 0;
    default:
      return false;
  }
}

/**
 * String comparison (RFC 7644 §3.4.2.2): caseExact false compares lower-cased text; gt/ge/lt/le order by code
 * point, which is the byte order of UTF-8 and so PostgreSQL's COLLATE "C".
 */
export function compareText(actual: string, op: ResolvedOperator, expected: string, caseExact: boolean): boolean {
  const a = caseExact ? actual : actual.toLowerCase();
  const b = caseExact ? expected : expected.toLowerCase();
  switch (op) {
    case 'eq':
      return a === b;
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    default:
      return compareOrdered(compareCodePoints(a, b), op);
  }
}

export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return (a.length - i) - (b.length - j) === 0 ? 0 : i < a.length ? 1 : -1;
}

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
