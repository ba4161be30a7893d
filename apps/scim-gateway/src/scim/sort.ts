// `sortBy` (RFC 7644 §3.4.2.3) compiled to an ORDER BY expression over the resource row `r`. The caller appends
// the direction and the stable tie-break `r.seq`, so pages never skip or repeat a resource.
//
// RFC 7644 §3.4.2.3: case-insensitive string attributes sort case-insensitively (lower()), case-exact ones as
// written; both by code point (COLLATE "C"), so the order does not depend on the server's locale and PGlite and
// PostgreSQL agree. Sorting by a multi-valued attribute is refused (Roster sorts on singular attributes only).

import { ScimError } from './errors.js';
import { parsePatchPath } from './filter/parser.js';
import { resolveAttributePath, type AttributeDefinition, type ResourceTypeName } from './schemas/index.js';

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
  if (attribute.multiValued) throw ScimError.invalidValue(`sortBy: '${sortBy}' is multi-valued; sort by a singular attribute`);
  if (definition.type === 'complex') throw ScimError.invalidValue(`sortBy: '${sortBy}' is complex; sort by one of its sub-attributes`);
  if (definition.returned === 'never') throw ScimError.invalidValue(`sortBy: '${sortBy}' is write-only and cannot be sorted on`);

  const path = subAttribute ? `${attribute.name}.${subAttribute.name}` : attribute.name;
  if (!resolved.extension) {
    const column = columnKey(type, path, definition);
    if (column) return { sql: column, bindings: [] };
  }
  const holder = resolved.extension ? `r.data->${literal(resolved.schema)}` : 'r.data';
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

function columnKey(type: ResourceTypeName, path: string, definition: AttributeDefinition): string | undefined {
  switch (path) {
    case 'id':
    case 'meta.location':
      return 'r.id';
    case 'externalId':
      return text('r.external_id', definition.caseExact);
    case 'displayName':
      return text('r.display_name', definition.caseExact);
    case 'meta.created':
      return 'r.created_at';
    case 'meta.lastModified':
      return 'r.updated_at';
    case 'meta.version':
      return 'r.version';
    case 'meta.resourceType':
      // One value for every row: the tie-break decides.
      return 'r.seq';
  }
  if (type !== 'User') return undefined;
  switch (path) {
    case 'userName':
      return text('r.user_name', definition.caseExact);
    case 'name.givenName':
      return text('r.given_name', definition.caseExact);
    case 'name.familyName':
      return text('r.family_name', definition.caseExact);
    case 'active':
      return 'r.active';
  }
  return undefined;
}

function text(expression: string, caseExact: boolean): string {
  return caseExact ? `${expression} COLLATE "C"` : `lower(${expression}) COLLATE "C"`;
}

function literal(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}
