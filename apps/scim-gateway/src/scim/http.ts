import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { ScimError } from './errors.js';
import { nestsDeeperThan } from './resource/values.js';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** Largest request body accepted on /scim_v2 (advertised as bulk.maxPayloadSize); a 100,000-member group PUT fits. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** Deepest JSON nesting accepted: SCIM resources nest three levels; anything far deeper is an attack. */
export const MAX_JSON_DEPTH = 32;

// RFC 7644 §3.1 names application/scim+json; application/json is common, and Okta's own test sends a body
// without any Content-Type: all three are read as JSON. Anything else is refused with 415.
function acceptableContentType(header: string | undefined): boolean {
  if (!header) return true;
  const type = header.split(';')[0]!.trim().toLowerCase();
  return type === 'application/scim+json' || type === 'application/json' || type === 'text/plain' || type === '';
}

/** Reads and parses the JSON body of a SCIM request, with size and depth limits. */
export async function readJsonBody(ctx: Context): Promise<unknown> {
  if (!acceptableContentType(ctx.get('content-type'))) {
    throw new ScimError(415, undefined, `unsupported Content-Type "${ctx.get('content-type')}": send application/scim+json`);
  }
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > MAX_PAYLOAD_BYTES) throw payloadTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PAYLOAD_BYTES) throw payloadTooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw ScimError.invalidSyntax('the request body is empty: a JSON object is required');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw ScimError.invalidSyntax(`the request body is not valid JSON: ${(error as Error).message}`);
  }
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) throw ScimError.invalidSyntax(`the request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return body;
}

function payloadTooLarge(): ScimError {
  return new ScimError(413, undefined, `the request body exceeds ${MAX_PAYLOAD_BYTES} bytes`);
}

export function sendScim(ctx: Context, status: number, body: unknown, headers: Record<string, string> = {}): void {
  ctx.status = status;
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
  if (body === undefined) {
    ctx.body = null;
    return;
  }
  if (membersIn(body) > MEMBERS_PER_SLICE) {
    ctx.set('Content-Type', SCIM_CONTENT_TYPE);
    ctx.body = Readable.from(chunked(jsonSlices(body)), { objectMode: false });
    return;
  }
  writeJson(ctx, JSON.stringify(body));
}

/**
 * Members serialized at a time. A body with more members than one slice (one resource, or all of a list's
 * resources together) is written in slices; a resource with at most one slice of members is written whole.
 */
const MEMBERS_PER_SLICE = 1000;
/** Pieces are gathered into chunks of about this many characters before they go to the socket. */
const CHUNK_CHARS = 64 * 1024;
// Stands for the members (or a list's resources) while the rest of the body is serialized. It holds U+0000,
// which no stored value can (PostgreSQL's text and jsonb refuse it), so its JSON text occurs nowhere else.
const PLACEHOLDER = '\u0000sliced\u0000';
const PLACEHOLDER_JSON = JSON.stringify(PLACEHOLDER);

function membersOf(value: unknown): unknown[] | undefined {
  const members = value !== null && typeof value === 'object' ? (value as { members?: unknown }).members : undefined;
  return Array.isArray(members) ? members : undefined;
}

function resourcesOf(value: unknown): unknown[] | undefined {
  const resources = value !== null && typeof value === 'object' ? (value as { Resources?: unknown }).Resources : undefined;
  return Array.isArray(resources) ? resources : undefined;
}

/** The members a body carries: a resource's own, or the sum over a ListResponse's resources. */
function membersIn(body: unknown): number {
  const own = membersOf(body)?.length ?? 0;
  const resources = resourcesOf(body);
  if (!resources) return own;
  let total = own;
  for (const resource of resources) total += membersOf(resource)?.length ?? 0;
  return total;
}

/** `JSON.stringify` of `value` with `key` left out, split where the key's value goes: [before, after]. */
function around(value: object, key: string): [string, string] {
  const text = JSON.stringify({ ...value, [key]: PLACEHOLDER });
  const at = text.indexOf(PLACEHOLDER_JSON);
  return [text.slice(0, at), text.slice(at + PLACEHOLDER_JSON.length)];
}

/**
 * A group of 100,000 members is 17 MB of JSON. Serialized whole, it exists as one string, again as the buffer
 * written to the socket, and the serializer's own buffers on the way: about 70 MB that each such GET left for
 * the garbage collector (docs/benchmarks.md, finding 27). Written slice by slice, with the stream's
 * backpressure, at most one chunk is held at a time. The same bytes as `JSON.stringify`, without
 * Content-Length (chunked transfer coding, RFC 9112 §7.1). A ListResponse is written resource by resource,
 * each large group among them in slices: a page of groups holding the big one weighs the same.
 */
function* jsonSlices(body: unknown): Generator<string> {
  const resources = resourcesOf(body);
  if (resources && resources.length > 0) {
    const [head, tail] = around(body as object, 'Resources');
    yield `${head}[`;
    for (let index = 0; index < resources.length; index++) {
      if (index > 0) yield ',';
      yield* resourceSlices(resources[index]);
    }
    yield `]${tail}`;
    return;
  }
  yield* resourceSlices(body);
}

function* resourceSlices(resource: unknown): Generator<string> {
  const members = membersOf(resource);
  if (!members || members.length <= MEMBERS_PER_SLICE) {
    yield JSON.stringify(resource);
    return;
  }
  const [head, tail] = around(resource as object, 'members');
  yield `${head}[`;
  for (let start = 0; start < members.length; start += MEMBERS_PER_SLICE) {
    const slice = members.slice(start, start + MEMBERS_PER_SLICE).map((member) => JSON.stringify(member));
    yield (start === 0 ? '' : ',') + slice.join(',');
  }
  yield `]${tail}`;
}

/** Gathers small pieces (a list's separators and small resources) into chunks of about CHUNK_CHARS. */
function* chunked(pieces: Iterable<string>): Generator<string> {
  let pending = '';
  for (const piece of pieces) {
    pending += piece;
    if (pending.length >= CHUNK_CHARS) {
      yield pending;
      pending = '';
    }
  }
  if (pending) yield pending;
}

function writeJson(ctx: Context, json: string): void {
  // The header itself, not `ctx.type`: Koa's setter looks the full type up in its MIME table on every response.
  ctx.set('Content-Type', SCIM_CONTENT_TYPE);
  ctx.body = json;
}

/** A SCIM body already written as JSON text (200 unless told), with these headers. */
export function sendScimJson(ctx: Context, json: string, headers: Record<string, string> = {}, status = 200): void {
  ctx.status = status;
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
  writeJson(ctx, json);
}

/** RFC 7644 §3.14: If-None-Match on GET answers 304 when the client already holds this version. */
export function notModified(ctx: Context, currentEtag: string): boolean {
  const header = ctx.get('if-none-match');
  if (!header) return false;
  const weakless = (tag: string): string => tag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || weakless(tag.trim()) === weakless(currentEtag));
}
