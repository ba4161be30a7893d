import type { Context } from 'koa';
import { OIDC_SIGN_IN_TTL_MS, type OidcSignInFailure } from '@roster/domain';
import { publicRoute, type AdminRoute } from '../define.js';
import { sessionCookie } from '../http.js';
import { array, object, string, integer, type Schema } from '../schema.js';
import { uuid, type RouteDeps } from './common.js';

// Admin sign-in through an OIDC authentication provider (authorization code + PKCE S256). The browser goes
// start -> provider -> callback -> /admin/; the flow and where its secrets live are explained in
// @roster/domain admin-oidc.ts. These are browser navigations, not API calls: every outcome of start and
// callback is a 302, failures to `/admin/sign-in?error=<code>` (codes: OidcSignInFailure), so the sign-in
// page can say what happened. A malformed provider id is the exception (JSON 404, like every admin path id).

/** Holds the random browser binding of a started sign-in (never stored server-side, only its hash). */
export const OIDC_SIGN_IN_COOKIE = 'roster_oidc_sign_in';
const COOKIE_PATH = '/api/admin/oidc/';

/**
 * SameSite=Lax, not Strict like the session cookie: the callback is a top-level cross-site navigation from
 * the provider, on which the browser drops Strict cookies. Lax still keeps it off cross-site subrequests and
 * POSTs, it lives ten minutes, and it only proves "this browser started this sign-in": it opens nothing.
 */
function signInCookie(value: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  return [`${OIDC_SIGN_IN_COOKIE}=${value}`, `Path=${COOKIE_PATH}`, `Max-Age=${options.maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(options.secure ? ['Secure'] : [])].join('; ');
}

function readSignInCookie(ctx: Context): string | undefined {
  for (const part of (ctx.get('cookie') || '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === OIDC_SIGN_IN_COOKIE) return part.slice(index + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * The provider's redirect carries code, state and iss (RFC 9207) and may carry session_state or other
 * parameters; error and error_description on failure (RFC 6749 §4.1.2.1). Anything is accepted here and
 * judged by openid-client: a malformed callback must end in a redirect to the sign-in page, not a JSON 400.
 */
const callbackQuery: Schema<Record<string, unknown>> = {
  isOptional: true,
  parse: (value) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}),
  strip: (value) => value,
  jsonSchema: () => ({
    type: 'object',
    properties: {
      code: { type: 'string', description: 'The authorization code' },
      state: { type: 'string', description: 'The state sent at start' },
      iss: { type: 'string', description: 'The issuer (RFC 9207), checked when the provider announces it' },
      error: { type: 'string', description: 'The provider refused (e.g. access_denied)' },
      error_description: { type: 'string' },
    },
    additionalProperties: true,
  }),
};

const providerSchema = object({ id: uuid('Pass to GET /api/admin/oidc/{providerId}/start'), name: string() });

export function oidcSignInRoutes({ config, services }: RouteDeps): AdminRoute[] {
  const secure = config.publicUrl.startsWith('https:');
  const sessionMaxAgeSeconds = Math.floor(services.adminSessions.absoluteTimeoutMs / 1000);
  const signInMaxAgeSeconds = Math.floor(OIDC_SIGN_IN_TTL_MS / 1000);

  const redirectToSignIn = (ctx: Context, code: OidcSignInFailure): void => {
    ctx.redirect(`${config.publicUrl}/admin/sign-in?error=${encodeURIComponent(code)}`);
  };

  return [
    publicRoute({
      method: 'GET',
      path: '/api/admin/oidc/providers',
      tag: 'Session',
      summary: 'Authentication providers an admin can sign in with',
      description: 'OIDC providers that have a client id, for the "Sign in with …" buttons of the sign-in page. Start a sign-in by navigating to GET /api/admin/oidc/{providerId}/start. Nothing secret.',
      responses: { 200: { description: 'The providers, by name', schema: object({ items: array(providerSchema), total: integer({ min: 0 }) }) } },
      handle: async () => {
        const items = await services.adminOidc.listProviders();
        return { body: { items, total: items.length } };
      },
    }),

    publicRoute({
      method: 'GET',
      path: '/api/admin/oidc/:providerId/start',
      tag: 'Session',
      summary: 'Start signing in through an OIDC provider (browser navigation)',
      description:
        'Redirects to the provider\'s authorization endpoint (scope "openid email", state, nonce, PKCE S256, redirect_uri `PUBLIC_URL/api/admin/oidc/callback`) and sets the HttpOnly cookie `roster_oidc_sign_in` (10 minutes) that binds the sign-in to this browser. Register that redirect URI at the provider.',
      responses: {
        302: { description: 'To the provider; or to /admin/sign-in?error=provider_not_found|provider_unavailable|provider_error' },
      },
      handle: async ({ ctx, params, requestId }) => {
        const started = await services.adminOidc.start(params.providerId!, requestId);
        if (!started.ok) return redirectToSignIn(ctx, started.code);
        ctx.append('Set-Cookie', signInCookie(started.value.browserBinding, { secure, maxAgeSeconds: signInMaxAgeSeconds }));
        ctx.redirect(started.value.authorizationUrl);
      },
    }),

    publicRoute({
      method: 'GET',
      path: '/api/admin/oidc/callback',
      tag: 'Session',
      summary: 'Where the OIDC provider sends the browser back (redirect_uri)',
      description:
        'Exchanges the code, validates the ID token (issuer, audience, nonce, expiry, signature) and requires an `email` (with `email_verified` not false) that is an admin\'s, compared case-insensitively. Then sets the same `roster_session` cookie as POST /api/admin/session (the SPA reads the CSRF token from GET /api/admin/session) and redirects to /admin/. Every failure redirects to /admin/sign-in?error=<code> and is written to the audit log.',
      query: callbackQuery,
      responses: {
        302: {
          description:
            'To /admin/ when signed in; otherwise to /admin/sign-in?error= state_mismatch | sign_in_expired | access_denied | provider_error | provider_unavailable | provider_not_found | invalid_id_token | email_missing | email_unverified | not_an_admin',
        },
      },
      handle: async ({ ctx, session, requestId }) => {
        const callbackUrl = new URL(`${config.publicUrl}/api/admin/oidc/callback`);
        callbackUrl.search = ctx.querystring;
        const finished = await services.adminOidc.finish(callbackUrl, readSignInCookie(ctx), requestId);
        // The binding is single use whatever happened.
        ctx.append('Set-Cookie', signInCookie('', { secure, maxAgeSeconds: 0 }));
        if (!finished.ok) return redirectToSignIn(ctx, finished.code);
        if (session) await services.adminSessions.revoke(session.token);
        ctx.append('Set-Cookie', sessionCookie(finished.session.token, { secure, maxAgeSeconds: sessionMaxAgeSeconds }));
        ctx.redirect(`${config.publicUrl}/admin/`);
      },
    }),
  ];
}
