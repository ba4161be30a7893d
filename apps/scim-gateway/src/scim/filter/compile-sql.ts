// Compiles a filter (RFC 7644 §3.4.2.2) to a parameterized PostgreSQL 15 boolean expression over the resource
// row aliased `r` (`users r` or `groups r`), for knex's `whereRaw(sql, bindings)`.
//
// Safety: every value from the client is a `?` binding; identifiers and jsonb keys come only from the schema
// definitions (validate.ts resolves every name against them first), and no `?` ever appears in the SQL except as
// a placeholder (jsonb_exists-free: the compiler needs no `?` operator at all).
//
// Semantics: exactly those of evaluate.ts (the reference). SQL's third truth value (NULL for a missing
// attribute) is harmless under AND, OR, EXISTS and WHERE, which all treat it as false in the end; `not` is the
// one place it would leak, so `not` collapses it first with COALESCE(..., false).

import { groupMembersTable, groupsTable, isUuid, usersTable } from '@roster/domain';
import { ScimError } from '../errors.js';
import type { AttributeDefinition, ResourceTypeName } from '../schemas/index.js';
import type { Filter } from './ast.js';
import { compareText } from './evaluate.js';
import { validateFilter, type ResolvedFilter, type ResolvedLeaf, type ResolvedOperator, type ResolvedValue } from './validate.js';

export interface CompiledFilter {
  sql: string;
  bindings: unknown[];
}

export interface CompileOptions {
  /**
   * The SCIM base URL (`${PUBLIC_URL}/scim_v2`) from which `meta.location`, `groups.$ref` and `members.$ref` are
   * built. Without it, filters on those attributes are refused with 400.
   */
  baseUrl?: string;
  /**
   * The list is limited to one client's own resources (data scope "own"). The memberships a filter reads
   * (`groups[...]` of a user, `members[...]` of a group, `groups pr`, `members pr`) are then limited to that
   * client's resources on the joined side too, or a client could probe another client's groups and users through
   * a membership that a client with scope "all" created. The row `r` is the client's own in such a list, so the
   * joined row is compared with `r.created_by_client_id`: no extra binding, and the SQL text stays one shape.
   */
  ownerScoped?: boolean;
}

/** Validates and compiles `filter` for resources of `type`. Throws ScimError 400 invalidFilter. */
export function compileFilter(type: ResourceTypeName, filter: Filter, options: CompileOptions = {}): CompiledFilter {
  return compileResolved(type, validateFilter(type, filter), options);
}

export function compileResolved(type: ResourceTypeName, filter: ResolvedFilter, options: CompileOptions = {}): CompiledFilter {
  const fragment = new Compiler(type, options).node(filter, RESOURCE_SCOPE);
  return { sql: fragment.sql, bindings: fragment.bindings };
}

interface Sql {
  sql: string;
  bindings: unknown[];
}

const TRUE: Sql = { sql: 'TRUE', bindings: [] };
const FALSE: Sql = { sql: 'FALSE', bindings: [] };

function sql(text: string, ...bindings: unknown[]): Sql {
  return { sql: text, bindings };
}

function join(parts: Sql[], separator: string): Sql {
  return { sql: parts.map((part) => part.sql).join(separator), bindings: parts.flatMap((part) => part.bindings) };
}

/** What a leaf reads, as SQL: a typed expression, or a constant known without the database. */
type Operand =
  | { kind: 'text'; expr: Sql; caseExact: boolean; notNull?: boolean }
  /** A uuid column (never null): compared as uuid for `eq` so indexes work, as text otherwise. */
  | { kind: 'uuid'; expr: Sql; caseExact: boolean }
  | { kind: 'boolean'; expr: Sql; notNull?: boolean }
  | { kind: 'number'; expr: Sql }
  /** timestamptz served with millisecond precision; never null unless `nullable` (a dateTime in jsonb). */
  | { kind: 'timestamp'; expr: Sql; nullable?: boolean }
  | { kind: 'constant'; value: string; caseExact: boolean };

/** Where element leaves read from inside `any`. */
type Scope =
  | { kind: 'resource' }
  /** One element `e.v` of a jsonb array. */
  | { kind: 'json' }
  /** One membership `gm` of the user `r` in the group `g`. */
  | { kind: 'userGroups' }
  /** One membership `gm` of the user `u` in the group `r`. */
  | { kind: 'groupMembers' };

const RESOURCE_SCOPE: Scope = { kind: 'resource' };

// Table and column names come from the models (packages/domain/src/models), the one declaration of the tables.
const U = usersTable.columns;
const G = groupsTable.columns;
const GM = groupMembersTable.columns;
/** The columns of the resource row `r`: a user's or a group's (the names both share are spelled alike). */
const resourceColumns = (type: ResourceTypeName) => (type === 'User' ? U : G);


/** A jsonb key as an SQL literal. Keys come from schema definitions only; quoting is belt and braces. */
function key(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}

/** Text of a jsonb string (NULL for any other JSON type, like evaluate.ts's typed read). */
function jsonText(json: string): Sql {
  return sql(`(CASE WHEN jsonb_typeof(${json}) = 'string' THEN ${json} #>> '{}' END)`);
}

class Compiler {
  constructor(
    private readonly type: ResourceTypeName,
    private readonly options: CompileOptions,
  ) {}

  node(filter: ResolvedFilter, scope: Scope): Sql {
    switch (filter.kind) {
      case 'and':
      case 'or': {
        const parts = filter.filters.map((inner) => this.node(inner, scope));
        return parts.length === 1 ? parts[0]! : wrap(join(parts, filter.kind === 'and' ? ' AND ' : ' OR '));
      }
      case 'not': {
        const inner = this.node(filter.filter, scope);
        return { sql: `(NOT COALESCE(${inner.sql}, FALSE))`, bindings: inner.bindings };
      }
      case 'any':
        return this.any(filter.leaf, filter.filter);
      case 'present':
        return this.present(filter.leaf, scope);
      case 'compare':
        return this.compare(this.operand(filter.leaf, scope), filter.op, filter.value);
    }
  }

  /** One value of a multi-valued attribute satisfies `inner`: one EXISTS, so all inner conditions hold on the same value. */
  private any(leaf: ResolvedLeaf, inner: ResolvedFilter): Sql {
    const name = leaf.attribute.name;
    if (!leaf.extension && this.type === 'User' && name === 'groups') {
      const body = this.node(inner, { kind: 'userGroups' });
      const owned = this.options.ownerScoped ? ` AND g.${G.createdByClientId} = r.${U.createdByClientId}` : '';
      return wrap(sql(`EXISTS (SELECT 1 FROM ${groupMembersTable.table} gm JOIN ${groupsTable.table} g ON g.${G.id} = gm.${GM.groupId} WHERE gm.${GM.userId} = r.${U.id}${owned} AND ${body.sql})`, ...body.bindings));
    }
    if (!leaf.extension && this.type === 'Group' && name === 'members') {
      const body = this.node(inner, { kind: 'groupMembers' });
      const owned = this.options.ownerScoped ? ` AND u.${U.createdByClientId} = r.${G.createdByClientId}` : '';
      return wrap(sql(`EXISTS (SELECT 1 FROM ${groupMembersTable.table} gm JOIN ${usersTable.table} u ON u.${U.id} = gm.${GM.userId} WHERE gm.${GM.groupId} = r.${G.id}${owned} AND ${body.sql})`, ...body.bindings));
    }
    const emailIndex = this.type === 'User' && !leaf.extension && name === 'emails' ? emailValueEquality(inner) : undefined;
    // `emails.value eq "x"` and `emails[value eq "x"]` read the indexed array of lower-cased addresses
    // (users__emails_lower, GIN). Filled by the user repository with JavaScript's toLowerCase(), hence the
    // value is lower-cased here the same way.
    const indexed = emailIndex === undefined ? undefined : sql(`r.${U.emailsLower} @> ARRAY[?::text]`, emailIndex.toLowerCase());
    if (indexed && inner.kind === 'compare') return indexed;
    const array = this.attributeJson(leaf);
    const body = this.node(inner, { kind: 'json' });
    const exists = sql(
      `EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${array}) = 'array' THEN ${array} ELSE '[]'::jsonb END) AS e(v) WHERE ${body.sql})`,
      ...body.bindings,
    );
    // With other conditions on the same address, the index narrows the rows and EXISTS checks the element.
    return wrap(indexed ? join([indexed, exists], ' AND ') : exists);
  }

  private present(leaf: ResolvedLeaf, scope: Scope): Sql {
    const definition = leaf.definition;
    if (!leaf.element && !leaf.subAttribute) {
      if (definition.multiValued) {
        if (!leaf.extension && this.type === 'User' && definition.name === 'groups') {
          return this.options.ownerScoped
            ? sql(`EXISTS (SELECT 1 FROM ${groupMembersTable.table} gm JOIN ${groupsTable.table} g ON g.${G.id} = gm.${GM.groupId} WHERE gm.${GM.userId} = r.${U.id} AND g.${G.createdByClientId} = r.${U.createdByClientId})`)
            : sql(`EXISTS (SELECT 1 FROM ${groupMembersTable.table} gm WHERE gm.${GM.userId} = r.${U.id})`);
        }
        if (!leaf.extension && this.type === 'Group' && definition.name === 'members') {
          return this.options.ownerScoped
            ? sql(`EXISTS (SELECT 1 FROM ${groupMembersTable.table} gm JOIN ${usersTable.table} u ON u.${U.id} = gm.${GM.userId} WHERE gm.${GM.groupId} = r.${G.id} AND u.${U.createdByClientId} = r.${G.createdByClientId})`)
            : sql(`EXISTS (SELECT 1 FROM ${groupMembersTable.table} gm WHERE gm.${GM.groupId} = r.${G.id})`);
        }
        const array = this.attributeJson(leaf);
        return sql(`(CASE WHEN jsonb_typeof(${array}) = 'array' THEN jsonb_array_length(${array}) > 0 ELSE FALSE END)`);
      }
      if (definition.type === 'complex') {
        // `meta` is computed when served and always present.
        if (!leaf.extension && definition.name === 'meta') return TRUE;
        return presentJson(this.attributeJson(leaf));
      }
    }
    const operand = this.operand(leaf, scope);
    switch (operand.kind) {
      case 'text':
        // NULL (missing) <> '' is NULL, which counts as false (see the top of this file).
        return wrap(sql(`${operand.expr.sql} <> ''`, ...operand.expr.bindings));
      case 'timestamp':
        return operand.nullable ? wrap(sql(`${operand.expr.sql} IS NOT NULL`, ...operand.expr.bindings)) : TRUE;
      case 'uuid':
        return TRUE;
      case 'boolean':
        return operand.notNull ? TRUE : wrap(sql(`${operand.expr.sql} IS NOT NULL`, ...operand.expr.bindings));
      case 'number':
        return wrap(sql(`${operand.expr.sql} IS NOT NULL`, ...operand.expr.bindings));
      case 'constant':
        return operand.value === '' ? FALSE : TRUE;
    }
  }

  private compare(operand: Operand, op: ResolvedOperator, value: ResolvedValue): Sql {
    switch (operand.kind) {
      case 'constant':
        return compareText(operand.value, op, String(value), operand.caseExact) ? TRUE : FALSE;
      case 'uuid': {
        if (op === 'eq') {
          // A uuid compare keeps the primary key and membership indexes usable; a value that is not a UUID names
          // nothing (and must not reach PostgreSQL as a failing cast). Stored ids print in lower case, so a
          // caseExact compare with upper-case hex matches nothing either (evaluate.ts compares the text).
          const text = String(value);
          if (!isUuid(text) || (operand.caseExact && text !== text.toLowerCase())) return FALSE;
          return wrap(sql(`${operand.expr.sql} = ?::uuid`, ...operand.expr.bindings, text.toLowerCase()));
        }
        return this.compareString({ sql: `${operand.expr.sql}::text`, bindings: operand.expr.bindings }, op, String(value), operand.caseExact);
      }
      case 'text':
        return this.compareString(operand.expr, op, String(value), operand.caseExact);
      case 'boolean':
        return wrap(sql(`${operand.expr.sql} = ?::boolean`, ...operand.expr.bindings, value === true));
      case 'number':
        return wrap(sql(`${operand.expr.sql} ${ORDER_SQL[op]} ?::numeric`, ...operand.expr.bindings, value));
      case 'timestamp':
        return this.compareTimestamp(operand.expr, op, String(value));
    }
  }

  /** RFC 7644 §3.4.2.2 string matching; caseExact false compares lower(); ordering is by code point (C collation). */
  private compareString(expr: Sql, op: ResolvedOperator, value: string, caseExact: boolean): Sql {
    const left = caseExact ? expr.sql : `lower(${expr.sql})`;
    const right = caseExact ? '?::text' : 'lower(?::text)';
    switch (op) {
      case 'eq':
        return wrap(sql(`${left} = ${right}`, ...expr.bindings, value));
      case 'co':
      case 'sw':
      case 'ew': {
        // LIKE's wildcards and its escape character (backslash, the default) in the value are literal text.
        const escaped = value.replace(/[\\%_]/g, (char) => `\\${char}`);
        const pattern = op === 'co' ? `%${escaped}%` : op === 'sw' ? `${escaped}%` : `%${escaped}`;
        return wrap(sql(`${left} LIKE ${right}`, ...expr.bindings, pattern));
      }
      default:
        return wrap(sql(`${left} COLLATE "C" ${ORDER_SQL[op]} ${right}`, ...expr.bindings, value));
    }
  }

  /**
   * Served timestamps carry milliseconds (Date#toISOString) while PostgreSQL keeps microseconds: the compare is
   * on the stored value truncated to the millisecond, written as ranges so the column's index stays usable.
   */
  private compareTimestamp(expr: Sql, op: ResolvedOperator, iso: string): Sql {
    const next = "(?::timestamptz + interval '1 millisecond')";
    const b = expr.bindings;
    switch (op) {
      case 'eq':
        return wrap(sql(`${expr.sql} >= ?::timestamptz AND ${expr.sql} < ${next}`, ...b, iso, ...b, iso));
      case 'gt':
        return wrap(sql(`${expr.sql} >= ${next}`, ...b, iso));
      case 'ge':
        return wrap(sql(`${expr.sql} >= ?::timestamptz`, ...b, iso));
      case 'lt':
        return wrap(sql(`${expr.sql} < ?::timestamptz`, ...b, iso));
      case 'le':
        return wrap(sql(`${expr.sql} < ${next}`, ...b, iso));
      default:
        throw ScimError.invalidFilter(`'${op}' cannot compare dates`);
    }
  }

  /** The SQL a leaf reads: indexed columns for the core attributes, computed values, else jsonb in `r.data`. */
  private operand(leaf: ResolvedLeaf, scope: Scope): Operand {
    const definition = leaf.definition;
    if (leaf.element) return this.elementOperand(leaf, definition, scope);
    if (!leaf.extension) {
      const column = this.columnOperand(leaf);
      if (column) return column;
    }
    return jsonOperand(definition, this.leafJson(leaf));
  }

  private columnOperand(leaf: ResolvedLeaf): Operand | undefined {
    const path = leaf.subAttribute ? `${leaf.attribute.name}.${leaf.subAttribute.name}` : leaf.attribute.name;
    const caseExact = leaf.definition.caseExact;
    const R = resourceColumns(this.type);
    switch (path) {
      case 'id':
        return { kind: 'uuid', expr: sql(`r.${R.id}`), caseExact };
      case 'externalId':
        return { kind: 'text', expr: sql(`r.${R.externalId}`), caseExact };
      case 'displayName':
        return { kind: 'text', expr: sql(`r.${R.displayName}`), caseExact, notNull: this.type === 'Group' };
      case 'meta.created':
        return { kind: 'timestamp', expr: sql(`r.${R.createdAt}`) };
      case 'meta.lastModified':
        return { kind: 'timestamp', expr: sql(`r.${R.updatedAt}`) };
      case 'meta.version':
        // The ETag form of RFC 7644 §3.14, as serialize.ts serves it.
        return { kind: 'text', expr: sql(`('W/"' || r.${R.version}::text || '"')`), caseExact, notNull: true };
      case 'meta.resourceType':
        return { kind: 'constant', value: this.type, caseExact };
      case 'meta.location':
        return { kind: 'text', expr: sql(`(?::text || '/${this.type === 'User' ? 'Users' : 'Groups'}/' || r.${R.id}::text)`, this.baseUrl(path)), caseExact, notNull: true };
    }
    if (this.type !== 'User') return undefined;
    switch (path) {
      case 'userName':
        return { kind: 'text', expr: sql(`r.${U.userName}`), caseExact, notNull: true };
      case 'name.givenName':
        return { kind: 'text', expr: sql(`r.${U.givenName}`), caseExact };
      case 'name.familyName':
        return { kind: 'text', expr: sql(`r.${U.familyName}`), caseExact };
      case 'active':
        return { kind: 'boolean', expr: sql(`r.${U.active}`), notNull: true };
    }
    return undefined;
  }

  private elementOperand(leaf: ResolvedLeaf, definition: AttributeDefinition, scope: Scope): Operand {
    const caseExact = definition.caseExact;
    switch (scope.kind) {
      case 'userGroups':
        switch (definition.name) {
          case 'value':
            return { kind: 'uuid', expr: sql(`gm.${GM.groupId}`), caseExact };
          case 'display':
            return { kind: 'text', expr: sql(`g.${G.displayName}`), caseExact, notNull: true };
          case 'type':
            return { kind: 'constant', value: 'direct', caseExact };
          case '$ref':
            return { kind: 'text', expr: sql(`(?::text || '/Groups/' || gm.${GM.groupId}::text)`, this.baseUrl('groups.$ref')), caseExact, notNull: true };
        }
        // `primary` is never served on groups: no value.
        return jsonOperand(definition, "'null'::jsonb");
      case 'groupMembers':
        switch (definition.name) {
          case 'value':
            return { kind: 'uuid', expr: sql(`gm.${GM.userId}`), caseExact };
          case 'display':
            // As served (packages/domain directory/groups.ts): the user's displayName, else the userName.
            return { kind: 'text', expr: sql(`COALESCE(u.${U.displayName}, u.${U.userName})`), caseExact, notNull: true };
          case 'type':
            return { kind: 'constant', value: 'User', caseExact };
          case '$ref':
            return { kind: 'text', expr: sql(`(?::text || '/Users/' || gm.${GM.userId}::text)`, this.baseUrl('members.$ref')), caseExact, notNull: true };
        }
        return jsonOperand(definition, "'null'::jsonb");
      default:
        return jsonOperand(definition, `e.v->${key(definition.name)}`);
    }
  }

  private baseUrl(path: string): string {
    if (this.options.baseUrl === undefined) throw ScimError.invalidFilter(`'${path}' cannot be filtered here`);
    return this.options.baseUrl;
  }

  /** The jsonb of a top-level attribute: `r.data->'name'`, or under the extension's URN key. */
  private attributeJson(leaf: ResolvedLeaf): string {
    const data = `r.${resourceColumns(this.type).data}`;
    const holder = leaf.extension ? `${data}->${key(leaf.schema)}` : data;
    return `${holder}->${key(leaf.attribute.name)}`;
  }

  private leafJson(leaf: ResolvedLeaf): string {
    const attribute = this.attributeJson(leaf);
    return leaf.subAttribute ? `${attribute}->${key(leaf.subAttribute.name)}` : attribute;
  }
}

const ORDER_SQL: Record<ResolvedOperator, string> = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=', co: '=', sw: '=', ew: '=' };

function jsonOperand(definition: AttributeDefinition, json: string): Operand {
  switch (definition.type) {
    case 'boolean':
      return { kind: 'boolean', expr: sql(`(CASE WHEN jsonb_typeof(${json}) = 'boolean' THEN (${json})::boolean END)`) };
    case 'decimal':
    case 'integer':
      return { kind: 'number', expr: sql(`(CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${json})::numeric END)`) };
    case 'dateTime':
      // Declared extension attributes (the core schemas keep their dates in columns): values were checked as
      // xsd:dateTime on input (RFC 7643 §2.3.5), so the cast reads them; compared as instants, not as text.
      return { kind: 'timestamp', expr: sql(`(CASE WHEN jsonb_typeof(${json}) = 'string' THEN (${json} #>> '{}')::timestamptz END)`), nullable: true };
    case 'complex':
      // A complex value is compared through its sub-attributes; refuse rather than guess.
      throw ScimError.invalidFilter(`'${definition.name}' cannot be filtered`);
    default:
      return { kind: 'text', expr: jsonText(json), caseExact: definition.caseExact };
  }
}

/** RFC 7644 §3.4.2.2 `pr` on jsonb: a value that is not null, "", [] or {} (as evaluate.ts isPresentJson). */
function presentJson(json: string): Sql {
  return sql(`(${json} IS NOT NULL AND ${json} NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb))`);
}

/** Finds `value eq X` on `emails` (alone or in an `and`) so the indexed array can serve it. */
function emailValueEquality(inner: ResolvedFilter): string | undefined {
  const candidates = inner.kind === 'and' ? inner.filters : [inner];
  for (const candidate of candidates) {
    if (candidate.kind === 'compare' && candidate.op === 'eq' && candidate.leaf.subAttribute?.name === 'value' && typeof candidate.value === 'string') {
      return candidate.value;
    }
  }
  return undefined;
}

function wrap(fragment: Sql): Sql {
  return { sql: `(${fragment.sql})`, bindings: fragment.bindings };
}
