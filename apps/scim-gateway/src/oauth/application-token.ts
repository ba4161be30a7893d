import type { Context } from 'koa';
import { OAuthError } from '@roster/auth';
import { APPLICATION_SECRET_PREFIX } from '@roster/domain';
import type { Services } from '../services.js';
import type { RequestState } from '../middleware/request-context.js';
import { failureKey } from './throttle.js';

interface Deps {
  services: Services;
  sendJson(ctx: Context, status: number, body: Record<string, unknown>): void;
  /** The token endpoint's one way to refuse (index.ts): throttles a wrong credential, counts the failure as the application's. */
  refuse(error: OAuthError, keys: readonly string[]): void;
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
  // The same rules as SCIM clients' token requests (index.ts): failures count per (address, client id), and only
  // a wrong credential is slowed (429 past the limit); a right one is always verified and answered.
  const keys = [failureKey(ctx.ip, method.clientId)];
  const refuse = (error: OAuthError, throttled: readonly string[]): true => {
    deps.refuse(error, throttled);
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
