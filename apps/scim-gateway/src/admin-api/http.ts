import type { Context } from 'koa';
import { ApiError } from './errors.js';

/** Request bodies of the admin API are small JSON documents; SAML metadata XML is the largest expected. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export const SESSION_COOKIE = 'roster_session';

/**
 * The JSON body of a request, `{}` when there is none. Only application/json is accepted: a cross-site HTML
 * form cannot send it without a CORS preflight, which closes login CSRF on POST /session (the one mutating
 * call that has no CSRF token yet).
 */
export async function readJsonBody(ctx: Context, limit = BODY_LIMIT_BYTES): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw new ApiError('payload_too_large', 413, `Request body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError('payload_too_large', 413, `Request body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  if (!ctx.is('application/json')) {
    throw new ApiError('unsupported_media_type', 415, 'Send the request body as application/json');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError('invalid_json', 400, `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Strict (never sent on cross-site requests),
 * Path=/ , Secure when PUBLIC_URL is https, and gone after the absolute session lifetime. Written by hand
 * rather than through ctx.cookies, which refuses Secure cookies on a plain-http socket: behind a TLS
 * terminating proxy the socket is http while the browser sees https.
 */
export function sessionCookie(token: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  return [`${SESSION_COOKIE}=${token}`, 'Path=/', `Max-Age=${options.maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict', ...(options.secure ? ['Secure'] : [])].join('; ');
}

export function clearedSessionCookie(options: { secure: boolean }): string {
  return [`${SESSION_COOKIE}=`, 'Path=/', 'Max-Age=0', 'HttpOnly', 'SameSite=Strict', ...(options.secure ? ['Secure'] : [])].join('; ');
}

export function readSessionCookie(ctx: Context): string | undefined {
  const header = ctx.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === SESSION_COOKIE) return part.slice(index + 1).trim() || undefined;
  }
  return undefined;
}
