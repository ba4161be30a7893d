import type { Context, Middleware } from 'koa';
import { AuthError, bearerTokenOf, isApplicationToken, type ScimClientPrincipal } from '@roster/auth';
import type { Services } from '../services.js';
import { SCIM_ERROR_SCHEMA } from '../scim/errors.js';
import type { RequestState } from './request-context.js';

export type { ScimClientPrincipal };

/** What this middleware adds to `ctx.state` for the SCIM routes. */
/**
 * Who a request authenticated as: a SCIM client, or an application reading the directory (directory.read),
 * which has no provider to link users to.
 */
export type ScimCallerPrincipal = ScimClientPrincipal | (Omit<ScimClientPrincipal, 'authProviderId'> & { authProviderId: null });

export interface ScimAuthState extends RequestState {
  client: ScimCallerPrincipal;
  clientId: string;
}

const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
const REALM = 'roster';

/**
 * RFC 6750 §3: error_description may only hold %x20-21 / %x23-5B / %x5D-7E (printable ASCII without `"` and
 * `\`). Descriptions are written that way; anything else (from a token's own claims) is replaced here.
 */
function quoted(value: string): string {
  return `"${value.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?')}"`;
}

/**
 * The Bearer challenge of RFC 6750 §3 with the RFC 9728 §5.1 `resource_metadata` parameter, so a client can
 * find out how to get a token. No error code when no credential was sent at all (RFC 6750 §3.1).
 */
export function bearerChallenge(publicUrl: string, error: AuthError, scope = 'scim_v2'): string {
  const parts = [`realm=${quoted(REALM)}`];
  if (error.error) {
    parts.push(`error=${quoted(error.error)}`, `error_description=${quoted(error.description)}`);
    if (error.error === 'insufficient_scope') parts.push(`scope=${quoted(scope)}`);
  }
  parts.push(`resource_metadata=${quoted(`${publicUrl}/.well-known/oauth-protected-resource`)}`);
  return `Bearer ${parts.join(', ')}`;
}

function refuse(ctx: Context, publicUrl: string, error: AuthError, scope?: string): void {
  ctx.status = error.status;
  ctx.set('WWW-Authenticate', bearerChallenge(publicUrl, error, scope));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = JSON.stringify({ schemas: [SCIM_ERROR_SCHEMA], status: String(error.status), detail: error.description });
  ctx.type = SCIM_CONTENT_TYPE;
}

/**
 * How many Authorization headers the request carried. Node keeps only the first in `headers`; the raw list
 * is scanned instead of building `headersDistinct`, which makes arrays of every header on every request.
 */
function authorizationHeaders(raw: string[]): number {
  let count = 0;
  for (let index = 0; index < raw.length; index += 2) if (raw[index]!.length === 13 && raw[index]!.toLowerCase() === 'authorization') count += 1;
  return count;
}

/**
 * Authenticates every SCIM request (packages/auth: static token, our OAuth access token, or a JWT from the
 * client's provider) and puts the client on `ctx.state.client`. Failures are answered here and counted into
 * aggregate `auth.failure` audit rows with their reasons (never the credential), one log line per aggregate.
 */
export function scimAuthentication(services: Pick<Services, 'authenticator' | 'authFailures' | 'config' | 'applicationAuth'>): Middleware {
  const { authenticator, authFailures, config, applicationAuth } = services;

  function fail(ctx: Context, error: AuthError, application = false): void {
    const state = ctx.state as RequestState;
    refuse(ctx, config.publicUrl, error, application ? 'directory.read' : undefined);
    (ctx.state as { errorDetail?: string }).errorDetail = error.description;
    (ctx.state as { authFailureReason?: string }).authFailureReason = error.reason; // metrics.ts counts it
    // One audit row and one log line per (address, client, minute), not per request (auth-failure-log.ts).
    authFailures.record({
      surface: 'scim',
      actorType: application ? 'application' : 'scim_client',
      operation: error.error === 'insufficient_scope' ? 'auth.insufficient_scope' : 'auth.failure',
      address: ctx.ip,
      clientId: error.clientId,
      reason: error.reason,
      status: error.status,
      method: ctx.method,
      path: ctx.path,
      requestId: state.requestId ?? null,
      log: state.log,
    });
  }

  /**
   * An application's token (directory.read): read-only SCIM. GET (and HEAD, OPTIONS) and POST .../.search
   * (RFC 7644 §3.4.3, a query in a body) pass; every write is refused with 403 insufficient_scope (RFC 6750
   * §3.1) before any handler runs, so nothing it sends can change the directory.
   */
  async function application(ctx: Context, authorization: string | undefined, next: () => Promise<unknown>): Promise<unknown> {
    const result = await applicationAuth.authenticate(authorization, 'directory.read');
    if (result instanceof AuthError) {
      fail(ctx, result, true);
      return;
    }
    const reading = ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS' || (ctx.method === 'POST' && ctx.path.endsWith('/.search'));
    if (!reading) {
      fail(ctx, AuthError.insufficientScope(`the directory.read scope allows reading only (GET and POST /.search); ${ctx.method} needs a SCIM client`, result.id), true);
      return;
    }
    const state = ctx.state as ScimAuthState & { actorType?: string };
    // An application is never a writer: no provider to link to, and it sees the whole directory.
    state.client = { id: result.id, name: result.name, authProviderId: null, dataScope: 'all', method: result.method, credentialId: result.credentialId };
    state.clientId = result.id;
    state.actorType = 'application';
    return next();
  }

  return async (ctx, next) => {
    // RFC 6750 §2.3 allows the token in the query string; we refuse it: URLs end up in proxy and access logs.
    const query = ctx.query as Record<string, unknown>;
    if (Object.keys(query).some((key) => key.toLowerCase() === 'access_token')) {
      fail(ctx, AuthError.invalidRequest('access tokens are accepted only in the Authorization header, never in the URL (RFC 6750 section 2.1)', 'token_in_query'));
      return;
    }
    if (authorizationHeaders(ctx.req.rawHeaders) > 1) {
      fail(ctx, AuthError.invalidRequest('send exactly one Authorization header', 'malformed_header'));
      return;
    }
    const authorization = ctx.get('authorization') || undefined;
    const bearer = bearerTokenOf(authorization);
    if (bearer !== undefined && isApplicationToken(bearer)) return application(ctx, authorization, next);
    // A credential verified moments ago (nearly every request of a sync) is answered without an await.
    const result = authenticator.authenticateFromCache(authorization) ?? (await authenticator.authenticate(authorization));
    if (result instanceof AuthError) {
      fail(ctx, result);
      return;
    }
    const state = ctx.state as ScimAuthState;
    state.client = result.client;
    state.clientId = result.client.id;
    return next();
  };
}
