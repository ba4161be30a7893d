// `sortBy` (RFC 7644 §3.4.2.3) compiled to an ORDER BY expression over the resource row `r`. The caller appends
// the direction and the stable tie-break `r.seq`, so pages never skip or repeat a resource.
//
// RFC 7644 §3.4.2.3: case-insensitive string attributes sort case-insensitively (lower()), case-exact ones as
// written; both by code point (COLLATE "C"), so the order does not depend on the server's locale and PGlite and
// PostgreSQL agree. Sorting by a multi-valued attribute is refused (Roster sorts on singular attributes only).

import { groupsTable, usersTable } from '@roster/domain';
import { ScimError } from './errors.js';
import { parsePatchPath } from './filter/parser.js';
import { resolveAttributePath, type AttributeDefinition, type ResourceTypeName } from './schemas/index.js';

// Table and column names come from the models (packages/domain/src/models), the one declaration of the tables.
const U = usersTable.columns;
/** The columns of the resource row `r`: a user's or a group's (the names both share are spelled alike). */
const resourceColumns = (type: ResourceTypeName) => (type === 'User' ? U : groupsTable.columns);

export interface SortKey {
  /** An SQL expression for ORDER BY; identifiers come from the schema whitelist only. */
  sql: string;
  bindings: unknown[];
}

export function compileSortKey(type: ResourceTypeName, sortBy: string): SortKey {
  let parsed;
  try {
    parsed = parsePatchPath(sortBy.trim());
  } catch (error) {
    if (error instanceof ScimError) throw ScimError.invalidValue(`sortBy: ${error.detail}`);
    throw error;
  }
  if (parsed.valueFilter) throw ScimError.invalidValue(`sortBy names an attribute, not a value filter: '${sortBy}'`);
  const resolved = resolveAttributePath(type, parsed.path);
  if (!resolved) throw ScimError.invalidValue(`sortBy: '${sortBy}' is not a ${type} attribute`);
  const { attribute, subAttribute } = resolved;
  const definition = subAttribute ?? attribute;
  if (attribute.multiValued) return multiValuedKey(type, sortBy, resolved);
  if (definition.type === 'complex') throw ScimError.invalidValue(`sortBy: '${sortBy}' is complex; sort by one of its sub-attributes`);
  if (definition.returned === 'never') throw ScimError.invalidValue(`sortBy: '${sortBy}' is write-only and cannot be sorted on`);

  const path = subAttribute ? `${attribute.name}.${subAttribute.name}` : attribute.name;
  if (!resolved.extension) {
    const column = columnKey(type, path, definition);
    if (column) return { sql: column, bindings: [] };
  }
  const data = `r.${resourceColumns(type).data}`;
  const holder = resolved.extension ? `${data}->${literal(resolved.schema)}` : data;
  const json = subAttribute ? `${holder}->${literal(attribute.name)}->${literal(subAttribute.name)}` : `${holder}->${literal(attribute.name)}`;
  switch (definition.type) {
    case 'boolean':
      return { sql: `(CASE WHEN jsonb_typeof(${json}) = 'boolean' THEN (${json})::boolean END)`, bindings: [] };
    case 'decimal':
    case 'integer':
      return { sql: `(CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${json})::numeric END)`, bindings: [] };
    default:
      return { sql: text(`(CASE WHEN jsonb_typeof(${json}) = 'string' THEN ${json} #>> '{}' END)`, definition.caseExact), bindings: [] };
  }
}

/**
 * RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value, or else by its first value. `emails`
 * alone means `emails.value`. Memberships (`groups`, `members`) live in their own table and are not sortable.
 */
function multiValuedKey(type: ResourceTypeName, sortBy: string, resolved: NonNullable<ReturnType<typeof resolveAttributePath>>): SortKey {
  const { attribute } = resolved;
  if (!resolved.extension && ((type === 'User' && attribute.name === 'groups') || (type === 'Group' && attribute.name === 'members'))) {
    throw ScimError.invalidValue(`sortBy: '${sortBy}' cannot be sorted on; sort by a singular attribute`);
  }
  const sub = resolved.subAttribute ?? attribute.subAttributes?.find((candidate) => candidate.name === 'value');
  if (!sub || sub.type === 'complex') throw ScimError.invalidValue(`sortBy: '${sortBy}' has no value to sort on`);
  const data = `r.${resourceColumns(type).data}`;
  const holder = resolved.extension ? `${data}->${literal(resolved.schema)}` : data;
  const array = `${holder}->${literal(attribute.name)}`;
  const leaf = `e.v->${literal(sub.name)}`;
  const value =
    sub.type === 'boolean'
      ? `(CASE WHEN jsonb_typeof(${leaf}) = 'boolean' THEN (${leaf})::boolean END)`
      : sub.type === 'decimal' || sub.type === 'integer'
        ? `(CASE WHEN jsonb_typeof(${leaf}) = 'number' THEN (${leaf})::numeric END)`
        : text(`(CASE WHEN jsonb_typeof(${leaf}) = 'string' THEN ${leaf} #>> '{}' END)`, sub.caseExact);
  const elements = `jsonb_array_elements(CASE WHEN jsonb_typeof(${array}) = 'array' THEN ${array} ELSE '[]'::jsonb END) WITH ORDINALITY AS e(v, n)`;
  return { sql: `(SELECT ${value} FROM ${elements} ORDER BY (e.v->'primary' = 'true'::jsonb) DESC NULLS LAST, e.n LIMIT 1)`, bindings: [] };
}

function columnKey(type: ResourceTypeName, path: string, definition: AttributeDefinition): string | undefined {
  const R = resourceColumns(type);
  switch (path) {
    case 'id':
    case 'meta.location':
      return `r.${R.id}`;
    case 'externalId':
      return text(`r.${R.externalId}`, definition.caseExact);
    case 'displayName':
      return text(`r.${R.displayName}`, definition.caseExact);
    case 'meta.created':
      return `r.${R.createdAt}`;
    case 'meta.lastModified':
      return `r.${R.updatedAt}`;
    case 'meta.version':
      return `r.${R.version}`;
    case 'meta.resourceType':
      // One value for every row: the tie-break decides.
      return `r.${R.seq}`;
  }
  if (type !== 'User') return undefined;
  switch (path) {
    case 'userName':
      return text(`r.${U.userName}`, definition.caseExact);
    case 'name.givenName':
      return text(`r.${U.givenName}`, definition.caseExact);
    case 'name.familyName':
      return text(`r.${U.familyName}`, definition.caseExact);
    case 'active':
      return `r.${U.active}`;
  }
  return undefined;
}

function text(expression: string, caseExact: boolean): string {
  return caseExact ? `${expression} COLLATE "C"` : `lower(${expression}) COLLATE "C"`;
}

function literal(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}
