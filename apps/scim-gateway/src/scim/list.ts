import { ScimError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

export interface ListParams {
  filter?: string;
  startIndex: number;
  count: number;
  sortBy?: string;
  descending: boolean;
  attributes?: string[];
  excludedAttributes?: string[];
  /** RFC 9865 cursor paging: `''` asks for the first page. */
  cursor?: string;
}

type RawParams = Record<string, unknown>;

function single(raw: RawParams, name: string): unknown {
  // Query names are matched case-insensitively: clients send `startindex`, `Filter`, ...
  const key = Object.keys(raw).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  if (key === undefined) return undefined;
  const value = raw[key];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function integer(raw: RawParams, name: string): number | undefined {
  const value = single(raw, name);
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d{1,15}\s*$/.test(value)) return Number(value);
  throw ScimError.invalidValue(`${name} must be an integer, got ${JSON.stringify(value)}`);
}

function text(raw: RawParams, name: string): string | undefined {
  const value = single(raw, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw ScimError.invalidValue(`${name} must be a string`);
  return value;
}

function attributeList(raw: RawParams, name: string): string[] | undefined {
  const key = Object.keys(raw).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  if (key === undefined) return undefined;
  const value = raw[key];
  const parts = (Array.isArray(value) ? value : [value]).flatMap((item) => {
    if (typeof item !== 'string') throw ScimError.invalidValue(`${name} must be a comma-separated string or an array of strings`);
    return item.split(',');
  });
  const names = parts.map((part) => part.trim()).filter(Boolean);
  return names.length ? names : undefined;
}

/**
 * Reads list parameters from a query string (RFC 7644 §3.4.2) or a SearchRequest body (§3.4.3).
 * startIndex below 1 means 1 (§3.4.2.4); a negative count means 0; counts above the maximum are clamped.
 */
export function parseListParams(raw: RawParams): ListParams {
  const startIndex = Math.max(integer(raw, 'startIndex') ?? 1, 1);
  const requested = integer(raw, 'count');
  const count = Math.min(Math.max(requested ?? DEFAULT_PAGE_SIZE, 0), MAX_PAGE_SIZE);
  const sortOrder = text(raw, 'sortOrder');
  if (sortOrder !== undefined && !['ascending', 'descending'].includes(sortOrder.toLowerCase())) {
    throw ScimError.invalidValue(`sortOrder must be "ascending" or "descending", got "${sortOrder}"`);
  }
  const params: ListParams = { startIndex, count, descending: sortOrder?.toLowerCase() === 'descending' };
  const filter = text(raw, 'filter');
  if (filter !== undefined && filter.trim() !== '') params.filter = filter;
  const sortBy = text(raw, 'sortBy');
  if (sortBy !== undefined && sortBy.trim() !== '') params.sortBy = sortBy.trim();
  const attributes = attributeList(raw, 'attributes');
  if (attributes) params.attributes = attributes;
  const excludedAttributes = attributeList(raw, 'excludedAttributes');
  if (excludedAttributes) params.excludedAttributes = excludedAttributes;
  const cursor = single(raw, 'cursor');
  if (cursor !== undefined) {
    if (typeof cursor !== 'string') throw new ScimError(400, 'invalidValue', 'cursor must be a string');
    params.cursor = cursor;
  }
  return params;
}

/** What a cursor remembers: the last row's sequence number (default order) or an offset (sorted lists). */
export type CursorPosition = { seq: number } | { offset: number };

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

// RFC 9865 §3 defines scimType invalidCursor; it travels with 400.
export function decodeCursor(cursor: string): CursorPosition | undefined {
  if (cursor === '') return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (decoded && typeof decoded === 'object') {
    const { seq, offset } = decoded as { seq?: unknown; offset?: unknown };
    if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0) return { seq };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return { offset };
  }
  throw new ScimError(400, 'invalidCursor', 'the cursor is not one this server issued');
}
