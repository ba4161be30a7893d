// Checks a parsed filter against the resource's schemas (RFC 7643) and rewrites it into a resolved form that the
// SQL compiler and the in-memory evaluator both consume, so the two agree by construction on everything but
// the leaf comparisons. The rewriting rules, which define Roster's filter semantics (RFC 7644 §3.4.2.2):
//
// - `ne v` is `not (eq v)`: true for a resource where the attribute is missing, and for a multi-valued
//   attribute "no value equals v".
// - `eq null` is `not (pr)`, `ne null` is `pr` (present: not null, not "", not an empty array or object).
// - A comparison on a sub-attribute of a multi-valued attribute (`emails.type eq "work"`) holds when one value
//   satisfies it: it becomes `any` over the values, like the value path `emails[type eq "work"]`.
// - A comparison on a multi-valued complex attribute without a sub-attribute (`emails eq "x"`) compares its
//   `value` sub-attribute.
// - A value path on a singular complex attribute (`name[givenName eq "x"]`) is the inner filter on its
//   sub-attributes.

import { ScimError } from '../errors.js';
import { findAttribute, resolveAttributePath, schemasOf, type AttributeDefinition, type AttributeType, type ResourceTypeName } from '../schemas/index.js';
import type { AttributePath, CompareOperator, Filter, FilterValue } from './ast.js';
import { FILTER_LIMITS } from './parser.js';

export type ResolvedOperator = Exclude<CompareOperator, 'ne'>;
export type ResolvedValue = string | number | boolean;

/** A singular attribute a comparison reads: top-level (`attribute[.sub]`) or, inside `any`, a sub-attribute. */
export interface ResolvedLeaf {
  /** The top-level attribute (for element leaves: the multi-valued attribute whose values are compared). */
  attribute: AttributeDefinition;
  /** True when the attribute is defined by an extension schema and stored under `schema`. */
  extension: boolean;
  schema: string;
  /** The sub-attribute read, if any. */
  subAttribute?: AttributeDefinition;
  /** True inside `any`: the leaf reads `subAttribute` of one value of the multi-valued `attribute`. */
  element: boolean;
  /** The definition of what is finally compared (sub-attribute or attribute). */
  definition: AttributeDefinition;
}

export type ResolvedFilter =
  | { kind: 'compare'; leaf: ResolvedLeaf; op: ResolvedOperator; value: ResolvedValue }
  | { kind: 'present'; leaf: ResolvedLeaf }
  | { kind: 'and'; filters: ResolvedFilter[] }
  | { kind: 'or'; filters: ResolvedFilter[] }
  | { kind: 'not'; filter: ResolvedFilter }
  /** One value of the multi-valued complex `leaf.attribute` satisfies `filter` (whose leaves are element leaves). */
  | { kind: 'any'; leaf: ResolvedLeaf; filter: ResolvedFilter };

const ORDERING: ReadonlySet<CompareOperator> = new Set(['gt', 'ge', 'lt', 'le']);
const SUBSTRING: ReadonlySet<CompareOperator> = new Set(['co', 'sw', 'ew']);
// xsd:dateTime (RFC 7643 §2.3.5); a value without an offset is read as UTC.
const MIN_DATE_TIME = new Date('0001-01-01T00:00:00.000Z').getTime();
const MAX_DATE_TIME = new Date('9999-12-31T23:59:59.999Z').getTime();
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;

/** Validates `filter` for resources of `type` and returns its resolved form. Throws ScimError 400 invalidFilter. */
export function validateFilter(type: ResourceTypeName, filter: Filter): ResolvedFilter {
  const resolved = resolve(type, filter, undefined);
  const cost = filterCost(resolved);
  if (cost > FILTER_LIMITS.maxCostlyClauses) {
    throw ScimError.invalidFilter(
      `the filter is too expensive: it has ${cost} costly clauses (co, ew, and clauses on multi-valued attributes such as groups[...] or emails.value); at most ${FILTER_LIMITS.maxCostlyClauses} are accepted`,
    );
  }
  return resolved;
}

/**
 * The costly clauses of a filter (FILTER_LIMITS.maxCostlyClauses): each clause on a multi-valued attribute (one
 * subquery per row) and each `co` or `ew` comparison (a scan: no index serves a substring), wherever they sit.
 */
export function filterCost(filter: ResolvedFilter): number {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return filter.filters.reduce((sum, inner) => sum + filterCost(inner), 0);
    case 'not':
      return filterCost(filter.filter);
    case 'any':
      return 1 + filterCost(filter.filter);
    case 'compare':
      return filter.op === 'co' || filter.op === 'ew' ? 1 : 0;
    case 'present':
      return 0;
  }
}

/**
 * Validates a value filter applied to the values of the multi-valued attribute `path` (the PATCH path
 * `emails[type eq "work"]`, RFC 7644 §3.5.2). Returns the resolved inner filter, whose leaves are element leaves.
 * Errors are invalidPath when `errorKind` says so.
 */
export function validateValueFilter(
  type: ResourceTypeName,
  path: AttributePath,
  filter: Filter,
  errorKind: 'invalidFilter' | 'invalidPath' = 'invalidFilter',
): { attribute: ResolvedLeaf; filter: ResolvedFilter } {
  try {
    const outer = resolveTop(type, path);
    if (outer.attribute.type !== 'complex' || outer.subAttribute) {
      throw ScimError.invalidFilter(`'${written(path)}' is not a complex attribute: a value filter needs one`);
    }
    const leaf = { ...outer, element: outer.attribute.multiValued };
    return { attribute: leaf, filter: resolve(type, filter, outer.attribute.multiValued ? leaf : undefined, outer.attribute.multiValued ? undefined : path) };
  } catch (error) {
    if (error instanceof ScimError && errorKind === 'invalidPath' && error.scimType === 'invalidFilter') throw ScimError.invalidPath(error.detail);
    throw error;
  }
}

/**
 * `element`: inside `any`, the enclosing multi-valued attribute. `singularParent`: inside a value path on a
 * singular complex attribute, whose sub-attributes the inner paths name.
 */
function resolve(type: ResourceTypeName, filter: Filter, element: ResolvedLeaf | undefined, singularParent?: AttributePath): ResolvedFilter {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return { kind: filter.kind, filters: filter.filters.map((inner) => resolve(type, inner, element, singularParent)) };
    case 'not':
      return { kind: 'not', filter: resolve(type, filter.filter, element, singularParent) };
    case 'valuePath': {
      if (element || singularParent) throw ScimError.invalidFilter(`a value filter cannot contain another value filter ('${written(filter.path)}[...]')`);
      const outer = resolveTop(type, filter.path);
      if (outer.attribute.type !== 'complex' || outer.subAttribute) {
        throw ScimError.invalidFilter(`'${written(filter.path)}' is not a complex attribute: '[...]' filters the values of a complex attribute`);
      }
      if (!outer.attribute.multiValued) return resolve(type, filter.filter, undefined, filter.path);
      const leaf: ResolvedLeaf = { ...outer, element: false };
      return { kind: 'any', leaf, filter: resolve(type, filter.filter, leaf) };
    }
    case 'present':
    case 'compare': {
      const leaf = resolveLeaf(type, filter.path, element, singularParent);
      if (filter.kind === 'present') return wrapMultiValued(leaf, { kind: 'present', leaf: asElementLeaf(leaf) }, true);
      return resolveCompare(leaf, filter.op, filter.value, filter.path);
    }
  }
}

function resolveCompare(leaf: ResolvedLeaf, op: CompareOperator, value: FilterValue, path: AttributePath): ResolvedFilter {
  const name = written(path);
  if (value === null) {
    if (op === 'eq') return { kind: 'not', filter: resolveCompareOrPresent(leaf) };
    if (op === 'ne') return resolveCompareOrPresent(leaf);
    throw ScimError.invalidFilter(`'${op}' cannot compare '${name}' with null: only 'eq null' and 'ne null' are defined`);
  }
  const target = effectiveLeaf(leaf, name);
  const definition = target.definition;
  if (definition.type === 'complex') {
    throw ScimError.invalidFilter(`'${name}' is a complex attribute: compare one of its sub-attributes (${(definition.subAttributes ?? []).map((sub) => `${name}.${sub.name}`).join(', ')}) or use 'pr'`);
  }
  if (ORDERING.has(op) && definition.type === 'boolean') {
    throw ScimError.invalidFilter(`'${op}' cannot order the boolean attribute '${name}': use 'eq' or 'ne'`);
  }
  if (ORDERING.has(op) && definition.type === 'binary') {
    throw ScimError.invalidFilter(`'${op}' cannot order the binary attribute '${name}'`);
  }
  if (SUBSTRING.has(op) && (definition.type === 'boolean' || definition.type === 'dateTime' || definition.type === 'decimal' || definition.type === 'integer')) {
    throw ScimError.invalidFilter(`'${op}' is a string match and '${name}' is a ${definition.type}: use eq, ne, gt, ge, lt or le`);
  }
  const coerced = coerceValue(definition.type, value, name, op);
  const compare: ResolvedFilter = { kind: 'compare', leaf: asElementLeaf(target), op: op === 'ne' ? 'eq' : op, value: coerced };
  const wrapped = wrapMultiValued(target, compare, false);
  return op === 'ne' ? { kind: 'not', filter: wrapped } : wrapped;
}

function resolveCompareOrPresent(leaf: ResolvedLeaf): ResolvedFilter {
  return wrapMultiValued(leaf, { kind: 'present', leaf: asElementLeaf(leaf) }, true);
}

/** `emails eq "x"` compares `emails.value` (RFC 7644 §3.4.2.2). */
function effectiveLeaf(leaf: ResolvedLeaf, name: string): ResolvedLeaf {
  if (leaf.subAttribute || leaf.element || !leaf.attribute.multiValued || leaf.attribute.type !== 'complex') return leaf;
  const value = findAttribute(leaf.attribute.subAttributes, 'value');
  if (!value) {
    throw ScimError.invalidFilter(`'${name}' has no 'value' sub-attribute: compare one of ${(leaf.attribute.subAttributes ?? []).map((sub) => `${name}.${sub.name}`).join(', ')}`);
  }
  return { ...leaf, subAttribute: value, definition: value };
}

/** A top-level leaf on a sub-attribute of a multi-valued attribute becomes `any` over its values. */
function wrapMultiValued(leaf: ResolvedLeaf, inner: ResolvedFilter, presence: boolean): ResolvedFilter {
  if (leaf.element || !leaf.attribute.multiValued) return inner;
  // `emails pr`: the attribute has at least one value; not `any`.
  if (presence && !leaf.subAttribute) return inner;
  return { kind: 'any', leaf: { ...leaf, subAttribute: undefined, definition: leaf.attribute, element: false }, filter: inner };
}

function asElementLeaf(leaf: ResolvedLeaf): ResolvedLeaf {
  if (leaf.element || !leaf.attribute.multiValued || !leaf.subAttribute) return leaf;
  return { ...leaf, element: true };
}

function resolveLeaf(type: ResourceTypeName, path: AttributePath, element: ResolvedLeaf | undefined, singularParent: AttributePath | undefined): ResolvedLeaf {
  if (element) {
    const name = `${element.attribute.name}[${written(path)}]`;
    if (path.uri || path.subAttribute) {
      throw ScimError.invalidFilter(`inside '${element.attribute.name}[...]' name a sub-attribute of '${element.attribute.name}' (one of ${subNames(element.attribute)}), not '${written(path)}'`);
    }
    const subAttribute = findAttribute(element.attribute.subAttributes, path.attribute);
    if (!subAttribute) throw ScimError.invalidFilter(`'${path.attribute}' is not a sub-attribute of '${element.attribute.name}' (${name}); expected one of ${subNames(element.attribute)}`);
    return { ...element, subAttribute, definition: subAttribute, element: true };
  }
  if (singularParent) {
    if (path.uri || path.subAttribute) {
      throw ScimError.invalidFilter(`inside '${written(singularParent)}[...]' name a sub-attribute, not '${written(path)}'`);
    }
    return resolveTop(type, { ...singularParent, subAttribute: path.attribute });
  }
  return resolveTop(type, path);
}

function resolveTop(type: ResourceTypeName, path: AttributePath): ResolvedLeaf {
  const resolved = resolveAttributePath(type, path);
  if (!resolved) throw ScimError.invalidFilter(describeUnknown(type, path));
  if (resolved.attribute.returned === 'never' || resolved.subAttribute?.returned === 'never') {
    // `password` (RFC 7643 §4.1.1) is write-only and never stored: nothing to filter on.
    throw ScimError.invalidFilter(`'${written(path)}' is write-only and cannot be filtered`);
  }
  const leaf: ResolvedLeaf = {
    attribute: resolved.attribute,
    extension: resolved.extension,
    schema: resolved.schema,
    element: false,
    definition: resolved.subAttribute ?? resolved.attribute,
  };
  if (resolved.subAttribute) leaf.subAttribute = resolved.subAttribute;
  return leaf;
}

function describeUnknown(type: ResourceTypeName, path: AttributePath): string {
  const name = written(path);
  const top = resolveAttributePath(type, { ...(path.uri ? { uri: path.uri } : {}), attribute: path.attribute });
  if (top && path.subAttribute !== undefined) {
    if (top.attribute.type !== 'complex') return `'${top.attribute.name}' has no sub-attributes, so '${name}' is not a ${type} attribute`;
    return `'${path.subAttribute}' is not a sub-attribute of '${top.attribute.name}' (expected one of ${subNames(top.attribute)})`;
  }
  if (path.uri) {
    const { core, extensions } = schemasOf(type);
    const known = [core, ...extensions].some((schema) => schema.id.toLowerCase() === path.uri!.toLowerCase());
    if (!known) return `'${path.uri}' is not a schema of ${type} resources`;
  }
  return `'${name}' is not a ${type} attribute`;
}

function subNames(attribute: AttributeDefinition): string {
  return (attribute.subAttributes ?? []).map((sub) => sub.name).join(', ');
}

function written(path: AttributePath): string {
  return `${path.uri ? `${path.uri}:` : ''}${path.attribute}${path.subAttribute !== undefined ? `.${path.subAttribute}` : ''}`;
}

/**
 * Reads the comparison value as the attribute's type (RFC 7643 §2.3). Strings for string-like attributes accept a
 * number or boolean written without quotes (read as its text: the bare-word leniency of the parser makes
 * `title eq true` ambiguous); boolean attributes accept "true"/"false" as strings in any case (Entra ID sends
 * them); dateTime values must be xsd:dateTime.
 */
function coerceValue(type: AttributeType, value: ResolvedValue, name: string, op: CompareOperator): ResolvedValue {
  switch (type) {
    case 'string':
    case 'reference':
    case 'binary':
      return checkText(typeof value === 'string' ? value : String(value), name);
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      throw ScimError.invalidFilter(`'${name}' is a boolean: compare it with true or false, not ${JSON.stringify(value)}`);
    }
    case 'decimal':
    case 'integer': {
      if (typeof value === 'number' && (type === 'decimal' || Number.isInteger(value))) return value;
      throw ScimError.invalidFilter(`'${name}' is ${type === 'integer' ? 'an integer' : 'a decimal'}: ${JSON.stringify(value)} cannot be compared with '${op}'`);
    }
    case 'dateTime': {
      const millis = typeof value === 'string' ? parseDateTime(value) : undefined;
      if (millis === undefined) {
        throw ScimError.invalidFilter(`'${name}' is a dateTime: ${JSON.stringify(value)} is not a date like "2026-01-31T12:00:00Z" (RFC 7643 §2.3.5)`);
      }
      return new Date(millis).toISOString();
    }
    case 'complex':
      throw ScimError.invalidFilter(`'${name}' is a complex attribute`);
  }
}

// U+0000 cannot be stored in PostgreSQL text or jsonb, and a lone surrogate cannot be encoded as UTF-8: such a
// value could match nothing, and sent to PostgreSQL it would raise an error instead of an empty result.
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what must be refused
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkText(value: string, name: string): string {
  if (UNSTORABLE.test(value)) {
    throw ScimError.invalidFilter(`the value compared with '${name}' contains U+0000 or an unpaired surrogate, which no attribute can hold`);
  }
  return value;
}

/**
 * Parses an xsd:dateTime to epoch milliseconds, truncating finer fractions (Roster serves milliseconds).
 * Returns undefined for anything that is not a real calendar date.
 */
export function parseDateTime(text: string): number | undefined {
  const match = DATE_TIME.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > daysInMonth) return undefined;
  const millis = fraction ? Number(fraction.slice(1, 4).padEnd(3, '0')) : 0;
  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi, s, millis);
  const result = utc.getTime() - offsetMinutes * 60_000;
  // An offset can push 0001-01-01 or 9999-12-31 out of the four-digit years PostgreSQL and toISOString share.
  return result < MIN_DATE_TIME || result > MAX_DATE_TIME ? undefined : result;
}


