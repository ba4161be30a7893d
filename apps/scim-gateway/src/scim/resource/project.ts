// The `attributes` and `excludedAttributes` parameters (RFC 7644 §3.4.2.5, §3.9) and the `returned`
// characteristic (RFC 7643 §2.2), applied to a resource as served (id, schemas, meta included).

import { commonAttributes, findAttribute, schemasOf, type AttributeDefinition, type ResourceTypeName } from '../schemas/index.js';
import { matchesValueFilter } from '../filter/evaluate.js';
import { parsePatchPath } from '../filter/parser.js';
import { validateValueFilter } from '../filter/validate.js';
import { findExtension, resolveMemberName, resolveParsedPath } from './paths.js';
import { isJsonObject, type JsonObject } from './values.js';

export interface AttributeSelection {
  attributes?: string[] | undefined;
  excludedAttributes?: string[] | undefined;
}

/**
 * Reads `attributes=a,b` / `excludedAttributes=...`, also given repeated (`?attributes=a&attributes=b`).
 * Names are kept as written; resolution (case-insensitive, URN-qualified) happens per resource type.
 */
export function parseAttributeList(param: string | string[] | undefined): string[] {
  if (param === undefined) return [];
  const parts = (Array.isArray(param) ? param : [param]).flatMap((entry) => (typeof entry === 'string' ? entry.split(',') : []));
  return [...new Set(parts.map((part) => part.trim()).filter((part) => part !== ''))];
}

/** One resolved name: a whole extension, an attribute, or one sub-attribute of it. */
interface Selector {
  /** Extension URN, or undefined for core and common attributes. */
  extension: string | undefined;
  /** Canonical attribute name; undefined selects the whole extension. */
  attribute: string | undefined;
  subAttribute: string | undefined;
  /** Only from `attributes=emails[type eq "work"]` (see valueFilterSelector): which values of the attribute to keep. */
  keepsValue?: (element: unknown) => boolean;
}

// RFC 7643 §3.1 makes `id` returned "always"; Roster also always returns `meta` (and `schemas`), so a client
// that asks for `attributes=userName` still gets the version it needs for If-Match.
const ALWAYS_RETURNED = new Set(['id', 'meta']);

/**
 * QUIRK (Microsoft's SCIM reference tests, ../shared/conformance/entra-reference.postman_collection.json,
 * "ComplexAttribute tests"): `attributes=emails[type eq "work"]` and `attributes=emails[value eq "x"]`, a value
 * filter where RFC 7644 §3.10 allows only attribute names. Admins run that collection to check an endpoint
 * before connecting Entra, so such an entry is read as "this multi-valued attribute, only the values the filter
 * selects" instead of selecting nothing. Only in `attributes`; a filter that does not fit selects nothing, like
 * any unknown name. Returns undefined when `name` is not of that shape.
 */
function valueFilterSelector(type: ResourceTypeName, name: string): Selector | undefined {
  if (!name.includes('[')) return undefined;
  try {
    const parsed = parsePatchPath(name);
    if (!parsed.valueFilter || parsed.subAttribute !== undefined) return undefined;
    const resolved = resolveParsedPath(type, parsed.path);
    if (resolved.kind !== 'attribute' || resolved.subAttribute || !resolved.attribute.multiValued) return undefined;
    const filter = parsed.valueFilter;
    validateValueFilter(type, parsed.path, filter);
    return {
      extension: resolved.extension,
      attribute: resolved.attribute.name,
      subAttribute: undefined,
      keepsValue: (element) => matchesValueFilter(type, parsed.path, filter, element),
    };
  } catch {
    // Not a well-formed value filter on this resource type: it selects nothing (RFC 7644 §3.9 names no error).
    return undefined;
  }
}

function selectorsOf(type: ResourceTypeName, names: readonly string[] | undefined, options: { valueFilters?: boolean } = {}): Selector[] {
  const selectors: Selector[] = [];
  for (const name of names ?? []) {
    const filtered = options.valueFilters ? valueFilterSelector(type, name) : undefined;
    if (filtered) {
      selectors.push(filtered);
      continue;
    }
    const resolved = resolveMemberName(type, name);
    if (resolved.kind === 'extension') selectors.push({ extension: resolved.schema.id, attribute: undefined, subAttribute: undefined });
    if (resolved.kind === 'attribute') {
      selectors.push({ extension: resolved.extension, attribute: resolved.attribute.name, subAttribute: resolved.subAttribute?.name });
    }
    // Unknown names select nothing (RFC 7644 §3.9 does not make them an error; clients ask for their own).
  }
  return selectors;
}

/**
 * Whether a response will show `members` (Group) or `groups` (User), so the caller reads them only when
 * needed: a group may have 100,000 members. No parameters: yes. `attributes=displayName`: no.
 * `excludedAttributes=members`: no. `excludedAttributes=members.display`: yes (the values still show).
 */
export function wantsAttribute(type: ResourceTypeName, selection: AttributeSelection, attribute: 'members' | 'groups'): boolean {
  const names = (selector: Selector): boolean => selector.extension === undefined && selector.attribute === attribute;
  const included = selectorsOf(type, selection.attributes, { valueFilters: true });
  if (selection.attributes?.length) return included.some(names);
  return !selectorsOf(type, selection.excludedAttributes).some((selector) => names(selector) && selector.subAttribute === undefined);
}

/**
 * Applies the selection to a served resource. `id`, `meta` and `schemas` are always returned, `returned:
 * never` attributes never, `returned: request` attributes only when `attributes` names them. When both
 * parameters are given, `excludedAttributes` removes from what `attributes` selected.
 */
export function projectResource(type: ResourceTypeName, resource: JsonObject, selection: AttributeSelection): JsonObject {
  const included = selection.attributes?.length ? selectorsOf(type, selection.attributes, { valueFilters: true }) : undefined;
  const excluded = selectorsOf(type, selection.excludedAttributes);
  const { core } = schemasOf(type);
  const result: JsonObject = {};
  for (const key of Object.keys(resource)) {
    const value = resource[key];
    if (key === 'schemas') {
      result[key] = value;
      continue;
    }
    const extension = findExtension(type, key);
    if (extension) {
      if (!isJsonObject(value)) continue;
      const projected: JsonObject = {};
      for (const inner of Object.keys(value)) {
        const definition = findAttribute(extension.attributes, inner);
        if (!definition) continue;
        const kept = projectAttribute(definition, extension.id, value[inner], included, excluded);
        if (kept !== undefined) projected[definition.name] = kept;
      }
      if (Object.keys(projected).length > 0) result[extension.id] = projected;
      continue;
    }
    const definition = findAttribute(core.attributes, key) ?? findAttribute(commonAttributes, key);
    if (!definition) {
      // Not a schema attribute: kept only when the client did not narrow the response.
      if (!included) result[key] = value;
      continue;
    }
    const kept = projectAttribute(definition, undefined, value, included, excluded);
    if (kept !== undefined) result[definition.name] = kept;
  }
  // `schemas` lists the schemas the resource uses (RFC 7643 §3): drop an extension projected away entirely.
  if (Array.isArray(result['schemas'])) {
    result['schemas'] = result['schemas'].filter((urn) => typeof urn !== 'string' || !findExtension(type, urn) || Object.hasOwn(result, findExtension(type, urn)!.id));
  }
  return result;
}

function projectAttribute(
  definition: AttributeDefinition,
  extension: string | undefined,
  value: unknown,
  included: Selector[] | undefined,
  excluded: Selector[],
): unknown {
  if (definition.returned === 'never') return undefined;
  const always = definition.returned === 'always' || (extension === undefined && ALWAYS_RETURNED.has(definition.name));
  if (always) return value;
  const mine = (selector: Selector): boolean =>
    selector.extension === extension && (selector.attribute === undefined || selector.attribute === definition.name);
  let keepSub: (sub: AttributeDefinition) => boolean = (sub) => sub.returned !== 'never' && sub.returned !== 'request';
  let narrowed = false;
  if (included) {
    const selectors = included.filter(mine);
    if (selectors.length === 0) return undefined;
    const whole = selectors.some((selector) => selector.subAttribute === undefined);
    // Only value filters named the attribute (valueFilterSelector): keep the values one of them selects.
    const filters = selectors.flatMap((selector) => (selector.keepsValue ? [selector.keepsValue] : []));
    if (filters.length === selectors.length && Array.isArray(value)) {
      value = value.filter((element) => filters.some((keepsValue) => keepsValue(element)));
      if ((value as unknown[]).length === 0) return undefined;
    }
    if (!whole) {
      const names = new Set(selectors.map((selector) => selector.subAttribute));
      narrowed = true;
      keepSub = (sub) => sub.returned === 'always' || (sub.returned !== 'never' && names.has(sub.name));
    } else {
      keepSub = (sub) => sub.returned !== 'never';
    }
  } else if (definition.returned === 'request') {
    return undefined;
  }
  const exclusions = excluded.filter(mine);
  if (exclusions.some((selector) => selector.subAttribute === undefined)) return undefined;
  const excludedSubs = new Set(exclusions.map((selector) => selector.subAttribute));
  const previous = keepSub;
  const keep = (sub: AttributeDefinition): boolean => previous(sub) && (sub.returned === 'always' || !excludedSubs.has(sub.name));
  if (definition.type !== 'complex') return value;
  return projectComplex(definition, value, keep, narrowed);
}

/** Keeps the sub-attributes `keep` accepts; members no schema declares survive unless sub-attributes were named. */
function projectComplex(definition: AttributeDefinition, value: unknown, keep: (sub: AttributeDefinition) => boolean, narrowed: boolean): unknown {
  const projectOne = (element: unknown): unknown => {
    if (!isJsonObject(element)) return element;
    const result: JsonObject = {};
    for (const key of Object.keys(element)) {
      const sub = findAttribute(definition.subAttributes, key);
      if (sub ? keep(sub) : !narrowed) result[key] = element[key];
    }
    return Object.keys(result).length === 0 ? undefined : result;
  };
  if (Array.isArray(value)) {
    const elements = value.map(projectOne).filter((element) => element !== undefined);
    return elements.length === 0 ? undefined : elements;
  }
  return projectOne(value);
}
