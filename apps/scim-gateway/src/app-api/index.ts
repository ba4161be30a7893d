import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { AuthError } from '@roster/auth';
import { DomainError, type ApplicationScope, type JsonObject, type SignInResolution } from '@roster/domain';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import type { RequestState } from '../middleware/request-context.js';
import { bearerChallenge } from '../middleware/scim-auth.js';
import { ApiError } from '../admin-api/errors.js';
import { readJsonBody } from '../admin-api/http.js';

// /api/v1: the HTTP API for applications (docs/applications.md), authenticated by an application's bearer
// token (static, or from /oauth/token) holding the endpoint's scope. Errors answer `{code, message, details?}`
// with a precise 4xx; authentication errors also carry the RFC 6750 §3 challenge.

const BODY_LIMIT_BYTES = 64 * 1024;
const DOMAIN_STATUS: Record<string, number> = { not_found: 404, invalid_input: 400 };

interface AppApiState extends RequestState {
  applicationId?: string;
}

function appApiErrors(config: Config): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const state = ctx.state as RequestState;
      let status: number;
      let body: Record<string, unknown>;
      if (error instanceof AuthError) {
        status = error.status;
        body = { code: error.error ?? 'unauthorized', message: error.description };
        ctx.set('WWW-Authenticate', bearerChallenge(config.publicUrl, error, 'signin.resolve'));
      } else if (error instanceof ApiError) {
        status = error.status;
        body = { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
      } else if (error instanceof DomainError && DOMAIN_STATUS[error.code]) {
        status = DOMAIN_STATUS[error.code]!;
        body = { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
      } else {
        status = 500;
        body = { code: 'internal_error', message: 'Internal error', requestId: state.requestId };
        state.log.error({ err: error, method: ctx.method, path: ctx.path }, 'application api: unhandled error');
      }
      ctx.status = status;
      ctx.type = 'application/json';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = body;
    }
  };
}

async function requireApplication(ctx: Context, services: Services, scope: ApplicationScope): Promise<string> {
  const result = await services.applicationAuth.authenticate(ctx.get('authorization') || undefined, scope);
  if (result instanceof AuthError) {
    services.scimAudit.enqueue({
      at: new Date(),
      actorType: 'application',
      clientId: result.clientId,
      operation: result.error === 'insufficient_scope' ? 'auth.insufficient_scope' : 'auth.failure',
      status: result.status,
      requestId: (ctx.state as RequestState).requestId,
      detail: { reason: result.reason, method: ctx.method, path: ctx.path },
    });
    throw result;
  }
  (ctx.state as AppApiState).applicationId = result.id;
  return result.id;
}

/** The body of a resolution request, validated whole before anything is read (no partial answers). */
function parseResolveRequest(body: unknown): { providerId: string; claims?: JsonObject; idToken?: string; nonce?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('invalid_request', 400, 'the body must be a JSON object {providerId, claims} or {providerId, idToken, nonce?}');
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).find((key) => !['providerId', 'claims', 'idToken', 'nonce'].includes(key));
  if (unknown !== undefined) throw new ApiError('invalid_request', 400, `unknown field ${unknown.slice(0, 60)}`, { field: unknown.slice(0, 60) });
  if (typeof input.providerId !== 'string' || input.providerId === '') throw new ApiError('invalid_request', 400, 'providerId is required (the authentication provider the person signed in with)', { field: 'providerId' });
  if ((input.claims === undefined) === (input.idToken === undefined)) throw new ApiError('invalid_request', 400, 'send exactly one of claims and idToken', { field: 'claims' });
  if (input.claims !== undefined && (typeof input.claims !== 'object' || input.claims === null || Array.isArray(input.claims))) {
    throw new ApiError('invalid_request', 400, 'claims must be a JSON object (the verified ID token payload or the SAML attributes with NameID)', { field: 'claims' });
  }
  if (input.idToken !== undefined && typeof input.idToken !== 'string') throw new ApiError('invalid_request', 400, 'idToken must be a string (a JWT)', { field: 'idToken' });
  if (input.nonce !== undefined && (typeof input.nonce !== 'string' || input.idToken === undefined)) throw new ApiError('invalid_request', 400, 'nonce must be a string and goes with idToken', { field: 'nonce' });
  return {
    providerId: input.providerId,
    ...(input.claims !== undefined ? { claims: input.claims as JsonObject } : {}),
    ...(input.idToken !== undefined ? { idToken: input.idToken as string } : {}),
    ...(input.nonce !== undefined ? { nonce: input.nonce as string } : {}),
  };
}

export function mountApplicationApi(router: Router, deps: { config: Config; services: Services }): void {
  const { services, config } = deps;
  const errors = appApiErrors(config);

  /**
   * POST /api/v1/sign-in/resolve: who is signing in, and may they? `found` (with user and groups),
   * `inactive` (with the public reason), `unknown` or `ambiguous`; only `found` admits the person.
   */
  router.post('/api/v1/sign-in/resolve', errors, async (ctx) => {
    (ctx.state as RequestState).route = '/api/v1/sign-in/resolve';
    const applicationId = await requireApplication(ctx, services, 'signin.resolve');
    const request = parseResolveRequest(await readJsonBody(ctx, BODY_LIMIT_BYTES));
    let claims = request.claims;
    if (request.idToken !== undefined) {
      const provider = await services.signIn.resolver.provider(request.providerId);
      const verified = await services.signIn.idTokens.verify(provider, request.idToken, request.nonce);
      if (!verified.ok) {
        if (verified.reason === 'keys_unavailable') throw new ApiError('provider_unavailable', 503, verified.message, { reason: verified.reason }, { 'Retry-After': '5' });
        throw new ApiError('invalid_id_token', 400, verified.message, { reason: verified.reason });
      }
      claims = verified.claims as JsonObject;
    }
    const resolution: SignInResolution = await services.signIn.resolver.resolveByClaims(request.providerId, claims!);
    services.scimAudit.enqueue({
      at: new Date(),
      actorType: 'application',
      clientId: applicationId,
      operation: 'signin.resolve',
      resourceType: resolution.user ? 'User' : null,
      resourceId: resolution.user?.id ?? null,
      status: 200,
      requestId: (ctx.state as RequestState).requestId,
      detail: { providerId: request.providerId, status: resolution.status, ...(resolution.reason ? { reason: resolution.reason } : {}), via: request.idToken ? 'id_token' : 'claims' },
    });
    ctx.status = 200;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = resolution;
  });
}
