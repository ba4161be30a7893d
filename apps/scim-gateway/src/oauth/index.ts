import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import { ALLOWED_JWT_ALGORITHMS, OAuthError, SCIM_SCOPE, type OAuthClient } from '@roster/auth';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import type { RequestState } from '../middleware/request-context.js';
import { createFailureThrottle, failureKey, type FailureThrottle } from './throttle.js';
import { applicationTokenRequest } from './application-token.js';

// The OAuth 2.0 surface: POST /oauth/token (RFC 6749 §4.4 client credentials; RFC 7523 §2.2 client
// assertions) and the two metadata documents (RFC 8414 for us as authorization server, RFC 9728 for the
// SCIM API as protected resource). Errors are RFC 6749 §5.2 bodies, never SCIM envelopes.

export const TOKEN_PATH = '/oauth/token';
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FORM_LIMIT = '16kb';
const FORM_PARAMETERS = ['grant_type', 'scope', 'client_id', 'client_secret', 'client_assertion_type', 'client_assertion', 'resource'];

function sendJson(ctx: Context, status: number, body: Record<string, unknown>): void {
  ctx.status = status;
  ctx.body = body;
  // RFC 6749 §5.1: responses carrying tokens (and, by habit, their errors) must not be cached.
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

function sendError(ctx: Context, error: OAuthError, retryAfter?: number): void {
  sendJson(ctx, error.status, { error: error.error, error_description: error.description });
  // RFC 6749 §5.2: invalid_client answers 401 with a challenge for the scheme the client should use.
  if (error.status === 401) ctx.set('WWW-Authenticate', 'Basic realm="roster", charset="UTF-8"');
  if (retryAfter !== undefined) ctx.set('Retry-After', String(retryAfter));
}

interface ClientAuthentication {
  kind: 'secret' | 'assertion';
  clientId?: string;
  secret?: string;
  assertion?: string;
}

/** RFC 6749 §2.3.1: the Basic user and password are form-urlencoded before base64. */
function parseBasic(header: string): { clientId: string; secret: string } | OAuthError {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  const malformed = OAuthError.invalidClient('the Basic credentials are malformed (RFC 6749 §2.3.1)', 'malformed_basic');
  if (!match) return malformed;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return malformed;
  try {
    return { clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    return malformed;
  }
}

function readForm(ctx: Context): Record<string, string> | OAuthError {
  const body = (ctx.request as { body?: unknown }).body;
  const form: Record<string, string> = {};
  if (typeof body !== 'object' || body === null) return form;
  for (const [key, value] of Object.entries(body)) {
    if (!FORM_PARAMETERS.includes(key)) continue;
    // RFC 6749 §3.2: "parameters MUST NOT be included more than once".
    if (typeof value !== 'string') return OAuthError.invalidRequest(`the parameter ${key} must be sent exactly once`, 'repeated_parameter');
    form[key] = value;
  }
  return form;
}

function clientAuthentication(ctx: Context, form: Record<string, string>): ClientAuthentication | OAuthError {
  const header = ctx.get('authorization');
  const methods: ClientAuthentication[] = [];
  if (header) {
    if (!/^basic /i.test(header)) return OAuthError.invalidClient('the token endpoint accepts Basic client authentication, not this scheme', 'unsupported_scheme');
    const basic = parseBasic(header);
    if (basic instanceof OAuthError) return basic;
    methods.push({ kind: 'secret', clientId: basic.clientId, secret: basic.secret });
  }
  if (form.client_secret !== undefined) methods.push({ kind: 'secret', clientId: form.client_id ?? '', secret: form.client_secret });
  if (form.client_assertion_type !== undefined || form.client_assertion !== undefined) {
    if (form.client_assertion_type !== JWT_BEARER_ASSERTION) {
      return OAuthError.invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`, 'assertion_type');
    }
    if (!form.client_assertion) return OAuthError.invalidRequest('client_assertion is missing', 'assertion_missing');
    methods.push({ kind: 'assertion', assertion: form.client_assertion });
  }
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in each request.
  if (methods.length > 1) return OAuthError.invalidRequest('use exactly one client authentication method', 'several_methods');
  if (methods.length === 0) return OAuthError.invalidClient('client authentication is required (client_secret_basic, client_secret_post or a client assertion)', 'missing');
  const method = methods[0]!;
  if (method.kind === 'secret' && header && form.client_id !== undefined && form.client_id !== method.clientId) {
    return OAuthError.invalidRequest('client_id in the body differs from the Basic credentials', 'client_id_mismatch');
  }
  if (method.kind === 'secret' && !method.clientId) return OAuthError.invalidRequest('client_id is missing', 'client_id_missing');
  return method;
}

function tokenEndpoint(deps: { config: Config; services: Services; throttle: FailureThrottle }): Middleware {
  const { services, throttle } = deps;
  const { oauthClients, audit, authFailures } = services;

  /**
   * Answers a refused token request, a SCIM client's or an application's (application-token.ts): only a wrong
   * credential (401) is slowed, per (address, client id) in `keys`; past the limit it gets 429 instead of 401,
   * so guessing gets no answer until the window ends, and a right credential never reaches this function.
   * Counted into one audit row and one log line per (address, client, minute), not one per request.
   */
  function refuse(ctx: Context, error: OAuthError, keys: readonly string[], actorType: 'scim_client' | 'application' = 'scim_client'): void {
    const state = ctx.state as RequestState;
    let wait: number | null = null;
    if (error.status === 401) {
      (ctx.state as { authFailureReason?: string }).authFailureReason = `oauth_${error.reason}`; // metrics.ts counts it
      wait = throttle.retryAfter(keys);
      throttle.failed(keys);
    }
    if (wait !== null) sendError(ctx, new OAuthError('temporarily_unavailable', `too many failed attempts; retry after ${wait} seconds`, 429, 'throttled'), wait);
    else sendError(ctx, error);
    authFailures.record({
      surface: 'oauth',
      actorType,
      operation: error.status === 401 ? 'auth.failure' : 'oauth.token.refused',
      address: ctx.ip,
      clientId: error.clientId,
      reason: error.reason,
      status: wait !== null ? 429 : error.status,
      method: ctx.method,
      path: TOKEN_PATH,
      requestId: state.requestId ?? null,
      log: state.log,
    });
  }

  return async (ctx) => {
    if (!ctx.is('application/x-www-form-urlencoded')) {
      refuse(ctx, OAuthError.invalidRequest('the token request must be application/x-www-form-urlencoded (RFC 6749 §4.4.2)', 'content_type'), []);
      return;
    }
    const form = readForm(ctx);
    if (form instanceof OAuthError) return refuse(ctx, form, []);

    if (!form.grant_type) return refuse(ctx, OAuthError.invalidRequest('grant_type is missing', 'grant_type_missing'), []);
    if (form.grant_type !== 'client_credentials') {
      return refuse(ctx, new OAuthError('unsupported_grant_type', 'only grant_type=client_credentials is supported', 400, 'unsupported_grant_type'), []);
    }
    // An application's client id (roster_aci_...) gets application scopes instead of scim_v2 (application-token.ts).
    const application = await applicationTokenRequest(ctx, form, { services, sendJson, clientAuthentication, refuse: (error, keys) => refuse(ctx, error, keys, 'application') });
    if (application) return;
    // RFC 6749 §3.3: scope absent means the default (scim_v2); present, it must ask for scim_v2. Other
    // scopes beside it are dropped, and the response's `scope` says what was granted.
    if (form.scope !== undefined && !form.scope.split(' ').includes(SCIM_SCOPE)) {
      return refuse(ctx, new OAuthError('invalid_scope', `the only scope offered is ${SCIM_SCOPE}`, 400, 'invalid_scope'), []);
    }

    const method = clientAuthentication(ctx, form);
    if (method instanceof OAuthError) return refuse(ctx, method, [failureKey(ctx.ip, form.client_id)]);
    // Per (address, client id): failures from elsewhere never slow this pair, and failures for another
    // client id from here neither. An assertion names its client only once verified: its key is the address.
    const keys = [failureKey(ctx.ip, method.kind === 'assertion' ? undefined : method.clientId)];

    const client: OAuthClient | OAuthError =
      method.kind === 'assertion'
        ? await oauthClients.authenticateClientAssertion(method.assertion!)
        : await oauthClients.authenticateClientSecret(method.clientId!, method.secret!);
    if (client instanceof OAuthError) return refuse(ctx, client, keys);

    const issued = await oauthClients.issueAccessToken(client);
    sendJson(ctx, 200, { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.scope });
    const state = ctx.state as RequestState & { clientId?: string };
    state.clientId = client.id;
    await audit
      .record({
        actorType: 'scim_client',
        clientId: client.id,
        operation: 'oauth.token',
        status: 200,
        requestId: state.requestId ?? null,
        detail: { method: method.kind === 'assertion' ? 'client_assertion' : 'client_secret', credentialId: client.credentialId },
      })
      .catch((error: unknown) => state.log?.warn({ err: error }, 'could not record an issued token'));
  };
}

/** RFC 8414 §2: what a client needs to know about our token endpoint. */
export function authorizationServerMetadata(publicUrl: string): Record<string, unknown> {
  return {
    issuer: publicUrl,
    token_endpoint: `${publicUrl}${TOKEN_PATH}`,
    // private_key_jwt: RFC 7523 §2.2 assertions signed by the client's identity provider.
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ALLOWED_JWT_ALGORITHMS,
    grant_types_supported: ['client_credentials'],
    scopes_supported: [SCIM_SCOPE],
    // REQUIRED by RFC 8414; empty because there is no authorization endpoint.
    response_types_supported: [],
    protected_resources: [`${publicUrl}/scim_v2`],
    // RFC 8414 §2: the keys Roster signs with; the Security Event Tokens of event streams (docs/events.md).
    jwks_uri: `${publicUrl}/.well-known/jwks.json`,
  };
}

/** RFC 9728 §2: the SCIM API as a protected resource. */
export function protectedResourceMetadata(publicUrl: string): Record<string, unknown> {
  return {
    resource: `${publicUrl}/scim_v2`,
    authorization_servers: [publicUrl],
    scopes_supported: [SCIM_SCOPE],
    bearer_methods_supported: ['header'],
    resource_name: 'Roster SCIM API',
  };
}

export function mountOAuthRoutes(router: Router, deps: { config: Config; services: Services }): void {
  const { config, services } = deps;
  const throttle = createFailureThrottle({ now: services.now });
  const form = bodyParser({
    enableTypes: ['form'],
    formLimit: FORM_LIMIT,
    onError: (error, ctx) => {
      const status = (error as { status?: number }).status;
      ctx.throw(status === 413 ? 413 : 400, status === 413 ? 'the token request is too large' : 'the form body cannot be read');
    },
  });
  const parseErrors: Middleware = async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        sendError(ctx, OAuthError.invalidRequest((error as Error).message, 'unreadable_body'));
        if (status === 413) ctx.status = 413;
        return;
      }
      (ctx.state as RequestState).log?.error({ err: error }, 'token endpoint failed');
      sendJson(ctx, 500, { error: 'server_error', error_description: `internal error; quote request id ${(ctx.state as RequestState).requestId ?? ''}` });
    }
  };
  router.post(TOKEN_PATH, parseErrors, form, tokenEndpoint({ config, services, throttle }));
  router.all(TOKEN_PATH, (ctx) => {
    ctx.set('Allow', 'POST');
    sendError(ctx, OAuthError.invalidRequest('use POST for the token endpoint', 'method'));
    ctx.status = 405;
  });

  const asMetadata = authorizationServerMetadata(config.publicUrl);
  const resourceMetadata = protectedResourceMetadata(config.publicUrl);
  router.get('/.well-known/oauth-authorization-server', (ctx) => {
    ctx.body = asMetadata;
    ctx.set('Cache-Control', 'public, max-age=3600');
  });
  // RFC 9728 §3.1: the well-known URI may carry the resource's path as a suffix.
  router.get(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/scim_v2'], (ctx) => {
    ctx.body = resourceMetadata;
    ctx.set('Cache-Control', 'public, max-age=3600');
  });
}
