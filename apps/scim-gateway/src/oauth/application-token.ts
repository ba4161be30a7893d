import type { Context } from 'koa';
import { OAuthError } from '@roster/auth';
import { APPLICATION_SECRET_PREFIX } from '@roster/domain';
import type { Services } from '../services.js';
import type { RequestState } from '../middleware/request-context.js';
import type { FailureThrottle } from './throttle.js';

interface Deps {
  services: Services;
  throttle: FailureThrottle;
  addressKey: string;
  sendJson(ctx: Context, status: number, body: Record<string, unknown>): void;
  sendError(ctx: Context, error: OAuthError, retryAfter?: number): void;
  clientAuthentication(ctx: Context, form: Record<string, string>): { kind: 'secret' | 'assertion'; clientId?: string; secret?: string } | OAuthError;
}

/**
 * The client credentials grant (RFC 6749 §4.4) for an application: its client id starts with `roster_aci_`.
 * The scopes are the application's (directory.read, signin.resolve, events.poll), not scim_v2: absent `scope`
 * grants all it holds, a scope it does not hold is refused with invalid_scope (RFC 6749 §5.2). Returns false
 * when the request is not an application's, and the SCIM client path answers it.
 */
export async function applicationTokenRequest(ctx: Context, form: Record<string, string>, deps: Deps): Promise<boolean> {
  const method = deps.clientAuthentication(ctx, form);
  if (method instanceof OAuthError || method.kind !== 'secret' || !method.clientId?.startsWith(APPLICATION_SECRET_PREFIX.clientId)) return false;
  const { applicationAuth, audit } = deps.services;
  const keys = [deps.addressKey, `client:${method.clientId}`];
  const wait = deps.throttle.retryAfter(keys);
  if (wait !== null) {
    deps.sendError(ctx, new OAuthError('temporarily_unavailable', `too many failed attempts; retry after ${wait} seconds`, 429, 'throttled'), wait);
    return true;
  }
  // Refusals are throttled like SCIM clients' ones and logged as the application's (actor type application).
  const refuse = async (error: OAuthError, throttled: readonly string[]): Promise<true> => {
    if (error.status === 401) deps.throttle.failed(throttled);
    deps.sendError(ctx, error);
    const state = ctx.state as RequestState;
    await audit
      .record({
        actorType: 'application',
        clientId: error.clientId,
        operation: error.status === 401 ? 'auth.failure' : 'oauth.token.refused',
        status: error.status,
        requestId: state.requestId ?? null,
        detail: { reason: error.reason, error: error.error, endpoint: '/oauth/token' },
      })
      .catch((auditError: unknown) => state.log?.warn({ err: auditError }, 'could not record a refused token request'));
    return true;
  };
  const application = await applicationAuth.authenticateClientSecret(method.clientId, method.secret ?? '');
  if (application instanceof OAuthError) return refuse(application, keys);
  const issued = await applicationAuth.issueAccessToken(application, form.scope);
  if (issued instanceof OAuthError) return refuse(issued, []);
  deps.sendJson(ctx, 200, { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.scope });
  const state = ctx.state as RequestState;
  await audit
    .record({
      actorType: 'application',
      clientId: application.id,
      operation: 'oauth.token',
      status: 200,
      requestId: state.requestId ?? null,
      detail: { method: 'client_secret', credentialId: application.credentialId, scope: issued.scope },
    })
    .catch((error: unknown) => state.log?.warn({ err: error }, 'could not record an issued token'));
  return true;
}
