import type { ListQuery, SqlCondition } from '@roster/domain';
import { ScimError } from '../errors.js';
import { compileFilter, type CompiledFilter } from '../filter/compile-sql.js';
import { FILTER_LIMITS, parseFilter } from '../filter/parser.js';
import { decodeCursor, encodeCursor, type ListParams } from '../list.js';
import type { ResourceTypeName } from '../schemas/index.js';
import { compileSortKey } from '../sort.js';

export interface PlannedList {
  query: ListQuery;
  /**
   * Cursor paging (RFC 9865): the query asks for one row more than the page, so the last page is known
   * exactly and carries no nextCursor. Given the page's last seq and row count, builds nextCursor.
   */
  nextCursor?: (lastSeq: number, returned: number) => string;
  startIndex: number;
}

/**
 * What an identity provider asks on every step of a sync: Entra ID and Okta look a user up by
 * `userName eq "..."` (Entra also by `externalId eq`) and a group by `displayName eq "..."`, one request per
 * resource. Those filters skip the lexer, parser, validator and compiler: one regular expression recognises
 * them and the compiler's own output for the attribute is reused with the new value. The compiler's SQL for
 * these attributes does not depend on the value (a test holds the two paths equal over a corpus of values),
 * and any other spelling (`eq"x"`, a schema URN prefix, `and`) takes the full path.
 */
// eslint-disable-next-line no-control-regex -- a JSON string has no raw control characters (RFC 8259 §7), as in the lexer
const EQUALITY_FILTER = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s+eq\s+("(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")\s*$/i;
// eslint-disable-next-line no-control-regex -- U+0000 is one of the characters looked for
const MAY_BE_UNSTORABLE = /[\u0000\ud800-\udfff]/;
const EQUALITY_ATTRIBUTES: Record<ResourceTypeName, readonly string[]> = { User: ['userName', 'externalId'], Group: ['displayName', 'externalId'] };
const EQUALITY_SQL: Record<ResourceTypeName, Map<string, string>> = { User: new Map(), Group: new Map() };
for (const type of ['User', 'Group'] as const) {
  for (const attribute of EQUALITY_ATTRIBUTES[type]) {
    const probe = compileFilter(type, parseFilter(`${attribute} eq "probe"`));
    if (probe.bindings.length !== 1 || probe.bindings[0] !== 'probe') throw new Error(`${type}.${attribute} eq does not compile to one value`);
    EQUALITY_SQL[type].set(attribute.toLowerCase(), probe.sql);
  }
}

/** The filter compiled to SQL, by the common equality shortcut when it applies (see EQUALITY_FILTER). */
export function compileFilterText(type: ResourceTypeName, text: string, baseUrl: string, ownerScoped = false): CompiledFilter {
  if (text.length <= FILTER_LIMITS.maxLength) {
    const match = EQUALITY_FILTER.exec(text);
    const sql = match ? EQUALITY_SQL[type].get(match[1]!.toLowerCase()) : undefined;
    if (sql !== undefined) {
      const value = JSON.parse(match![2]!) as string;
      // U+0000 and surrogates go the full way: the validator refuses what no attribute can hold (a lone surrogate).
      if (!MAY_BE_UNSTORABLE.test(value)) return { sql, bindings: [value] };
    }
  }
  // baseUrl lets filters on meta.location and $ref compare against the URLs Roster serves.
  // ownerScoped: an own-scope client's filter reads only its own side of a membership (compile-sql.ts).
  return compileFilter(type, parseFilter(text), { baseUrl, ownerScoped });
}

/** Turns list parameters into one repository query: filter and sort compiled to SQL, paging by offset or keyset. */
export function planList(type: ResourceTypeName, params: ListParams, visibility: { ownerClientId?: string }, baseUrl: string): PlannedList {
  const query: ListQuery = { ...visibility, offset: params.startIndex - 1, limit: params.count, descending: params.descending };
  if (params.filter !== undefined) query.where = compileFilterText(type, params.filter, baseUrl, Boolean(visibility.ownerClientId)) as SqlCondition;
  if (params.sortBy !== undefined) {
    const key = compileSortKey(type, params.sortBy) as { sql: string; bindings?: unknown[] };
    query.orderBy = { sql: key.sql, bindings: (key.bindings ?? []) as SqlCondition['bindings'] };
  }
  if (params.cursor === undefined) return { query, startIndex: params.startIndex };

  // Cursor paging: in the default order a cursor is a keyset position (the last seq seen), so the millionth
  // row costs what the first does; a sorted list falls back to an offset inside the opaque cursor.
  if (params.startIndex !== 1) throw ScimError.invalidValue('startIndex and cursor cannot be combined (RFC 9865 §2)');
  const position = decodeCursor(params.cursor);
  const keyset = query.orderBy === undefined && !params.descending;
  if (position && 'seq' in position) {
    if (!keyset) throw new ScimError(400, 'invalidCursor', 'this cursor belongs to a list in the default order');
    query.afterSeq = position.seq;
  } else if (position && 'offset' in position) {
    if (keyset) throw new ScimError(400, 'invalidCursor', 'this cursor belongs to a sorted list');
    query.offset = position.offset;
  } else {
    query.offset = 0;
  }
  const offset = query.offset;
  query.limit = params.count + 1;
  return {
    query,
    startIndex: 1,
    nextCursor: (lastSeq, returned) => encodeCursor(keyset ? { seq: lastSeq } : { offset: offset + returned }),
  };
}
