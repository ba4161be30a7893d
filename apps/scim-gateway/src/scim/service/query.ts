import type { ListQuery, SqlCondition } from '@roster/domain';
import { ScimError } from '../errors.js';
import { compileFilter } from '../filter/compile-sql.js';
import { parseFilter } from '../filter/parser.js';
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

/** Turns list parameters into one repository query: filter and sort compiled to SQL, paging by offset or keyset. */
export function planList(type: ResourceTypeName, params: ListParams, visibility: { ownerClientId?: string }, baseUrl: string): PlannedList {
  const query: ListQuery = { ...visibility, offset: params.startIndex - 1, limit: params.count, descending: params.descending };
  if (params.filter !== undefined) {
    // baseUrl lets filters on meta.location and $ref compare against the URLs Roster serves.
    const compiled = compileFilter(type, parseFilter(params.filter), { baseUrl });
    query.where = compiled as SqlCondition;
  }
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
