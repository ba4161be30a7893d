import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { ScimError } from './errors.js';

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
  if (jsonDepth(body) > MAX_JSON_DEPTH) throw ScimError.invalidSyntax(`the request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return body;
}

function payloadTooLarge(): ScimError {
  return new ScimError(413, undefined, `the request body exceeds ${MAX_PAYLOAD_BYTES} bytes`);
}

/** Depth of a parsed JSON value, iteratively (a deep value must not overflow the stack). */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) max = depth;
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1]);
  }
  return max;
}

export function sendScim(ctx: Context, status: number, body: unknown, headers: Record<string, string> = {}): void {
  ctx.status = status;
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
  if (body === undefined) {
    ctx.body = null;
    return;
  }
  const members = (body as { members?: unknown }).members;
  if (Array.isArray(members) && members.length > SLICE_MEMBERS_ABOVE) {
    sendScimSliced(ctx, body as Record<string, unknown>, members);
    return;
  }
  writeJson(ctx, JSON.stringify(body));
}

/** A resource with more members than this is written to the socket in slices (`sendScimSliced`). */
const SLICE_MEMBERS_ABOVE = 1000;
const MEMBERS_PER_SLICE = 1000;
// Stands for the members while the rest of the resource is serialized. It holds U+0000, which no stored value
// can (PostgreSQL's text and jsonb refuse it), so its JSON text occurs nowhere else in the resource.
const MEMBERS_PLACEHOLDER = '\u0000members\u0000';
const MEMBERS_PLACEHOLDER_JSON = JSON.stringify(MEMBERS_PLACEHOLDER);

/**
 * A group of 100,000 members is 17 MB of JSON. Serialized whole, it exists as one string, again as the buffer
 * written to the socket, and the serializer's own buffers on the way: about 70 MB that each such GET left for
 * the garbage collector (docs/benchmarks.md, finding 27). Written slice by slice, with the stream's
 * backpressure, at most one slice is held at a time. The same bytes as `JSON.stringify`, without
 * Content-Length (chunked transfer coding, RFC 9112 §7.1).
 */
function sendScimSliced(ctx: Context, body: Record<string, unknown>, members: unknown[]): void {
  const text = JSON.stringify({ ...body, members: MEMBERS_PLACEHOLDER });
  const at = text.indexOf(MEMBERS_PLACEHOLDER_JSON);
  const head = `${text.slice(0, at)}[`;
  const tail = `]${text.slice(at + MEMBERS_PLACEHOLDER_JSON.length)}`;
  function* slices(): Generator<string> {
    yield head;
    for (let start = 0; start < members.length; start += MEMBERS_PER_SLICE) {
      const slice = members.slice(start, start + MEMBERS_PER_SLICE).map((member) => JSON.stringify(member));
      yield (start === 0 ? '' : ',') + slice.join(',');
    }
    yield tail;
  }
  ctx.set('Content-Type', SCIM_CONTENT_TYPE);
  ctx.body = Readable.from(slices(), { objectMode: false });
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
