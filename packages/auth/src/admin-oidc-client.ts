import * as oidc from 'openid-client';
import { OutboundError, outboundFetchFor, outboundPolicy } from './outbound-fetch.js';
import type { AdminOidcClient, Clock, OidcClientSettings, OidcIdentity, OidcOutcome, OidcSignInFailure } from '@roster/domain';

// The protocol side of admin sign-in through an OIDC provider (see @roster/domain admin-oidc.ts for the
// flow and where its secrets live), with openid-client: authorization code + PKCE S256, the RFC 9207 `iss`
// check when the provider announces it, and the ID token checks of OpenID Connect Core 1.0 §3.1.3.7 (issuer,
// audience, azp, nonce, exp/iat). Signature checks against the provider's JWKS are switched on as well
// (enableNonRepudiationChecks): the token arrives over TLS from the token endpoint, where the spec allows
// skipping them, but http:// issuers are allowed in development and one JWKS fetch per key is cheap.

export interface AdminOidcClientOptions {
  /** http:// issuers only when ROSTER_ALLOW_INSECURE_ISSUERS=1 (openid-client refuses them otherwise). */
  allowInsecureIssuers: boolean;
  /** Per-request timeout in seconds. Default 10 (openid-client's own default is 30). */
  timeoutSeconds?: number;
  /** How long a provider's discovery document is used before it is fetched again. Default 1 hour. */
  ttlMs?: number;
  clock?: Clock;
}

/** The scopes asked for: who the person is and their email (OpenID Connect Core 1.0 §5.4). */
const SCOPE = 'openid email';

type Failure = Extract<OidcOutcome<never>, { ok: false }>;

function fail(code: OidcSignInFailure, message: string, providerError?: string): Failure {
  return { ok: false, code, message, ...(providerError ? { providerError } : {}) };
}

/**
 * An openid-client or network error as a sign-in failure code. The message is what the audit log keeps: the
 * library's messages name the check that failed, never a token or code.
 */
function classify(error: unknown): Failure {
  if (error instanceof oidc.AuthorizationResponseError) {
    // The provider redirected back with ?error= (OAuth 2.0 RFC 6749 §4.1.2.1).
    return fail(error.error === 'access_denied' ? 'access_denied' : 'provider_error', `the provider answered ${error.error}${error.error_description ? `: ${error.error_description}` : ''}`, error.error);
  }
  if (error instanceof oidc.ResponseBodyError) {
    return fail('provider_error', `the token endpoint answered ${error.error} (HTTP ${error.status})${error.error_description ? `: ${error.error_description}` : ''}`, error.error);
  }
  if (error instanceof oidc.WWWAuthenticateChallengeError) return fail('provider_error', `the provider refused the request: ${error.message}`);
  if (!(error instanceof Error)) return fail('provider_error', String(error));
  // Discovery refused or failed by outbound-fetch.ts (maybe wrapped by openid-client).
  const outbound = error instanceof OutboundError ? error : error.cause instanceof OutboundError ? error.cause : undefined;
  if (outbound) return fail('provider_unavailable', `discovery: ${outbound.publicReason} (${outbound.detail})`);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  if (typeof code === 'string') {
    if (code.startsWith('OAUTH_JWT_') || code === 'OAUTH_KEY_SELECTION_FAILED' || code.startsWith('ERR_JW')) {
      // openid-client rewraps oauth4webapi's error, whose message names the claim ('unexpected ID Token "nonce" claim value').
      return fail('invalid_id_token', `${error.cause instanceof Error ? error.cause.message : error.message} (${code})`);
    }
    if (code === 'OAUTH_HTTP_REQUEST_FORBIDDEN' || code === 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN') {
      return fail('provider_unavailable', 'the provider uses http://; only https:// is accepted (ROSTER_ALLOW_INSECURE_ISSUERS=1 allows http for development)');
    }
    return fail('provider_error', `${error.message} (${code})${cause}`);
  }
  // fetch failures (connection refused, DNS, TLS) and timeouts.
  if (error.name === 'TypeError' || error.name === 'TimeoutError' || error.name === 'AbortError') return fail('provider_unavailable', `${error.message}${cause}`);
  return fail('provider_error', `${error.message}${cause}`);
}

/** `email_verified` as the provider meant it. Quirk: some providers (older AWS Cognito pools) send the string "true"/"false". */
function emailVerified(value: unknown): boolean | undefined {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

export function createAdminOidcClient(options: AdminOidcClientOptions): AdminOidcClient {
  const timeout = options.timeoutSeconds ?? 10;
  const ttlMs = options.ttlMs ?? 3_600_000;
  const clock = options.clock ?? (() => new Date());
  const cache = new Map<string, { server: oidc.ServerMetadata; fetchedAt: number }>();
  const guardedFetch = outboundFetchFor(outboundPolicy(options.allowInsecureIssuers));

  async function serverMetadata(issuer: string): Promise<oidc.ServerMetadata> {
    const cached = cache.get(issuer);
    if (cached && clock().getTime() - cached.fetchedAt < ttlMs) return cached.server;
    try {
      // Discovery also checks that the document's issuer equals the configured one (Discovery 1.0 §4.3).
      // Through outbound-fetch.ts, like discovery when a provider is saved: https on every hop, redirects
      // checked by hand, no loopback or link-local targets unless insecure issuers are allowed.
      const discovered = await oidc.discovery(new URL(issuer), 'roster', undefined, undefined, {
        execute: options.allowInsecureIssuers ? [oidc.allowInsecureRequests] : [],
        timeout,
        [oidc.customFetch]: guardedFetch,
      });
      const server = discovered.serverMetadata();
      cache.set(issuer, { server, fetchedAt: clock().getTime() });
      return server;
    } catch (error) {
      // A provider that is briefly unreachable keeps working from the last good document.
      if (cached) return cached.server;
      throw error;
    }
  }

  async function configuration(provider: OidcClientSettings): Promise<oidc.Configuration> {
    const server = await serverMetadata(provider.issuer);
    // client_secret_basic when a secret is configured; otherwise a public client, where PKCE protects the code.
    const auth = provider.clientSecret ? oidc.ClientSecretBasic(provider.clientSecret) : oidc.None();
    const config = new oidc.Configuration(server, provider.clientId, undefined, auth);
    config.timeout = timeout;
    if (options.allowInsecureIssuers) oidc.allowInsecureRequests(config);
    oidc.enableNonRepudiationChecks(config);
    return config;
  }

  return {
    async authorizationUrl(provider, request) {
      let config: oidc.Configuration;
      try {
        config = await configuration(provider);
      } catch (error) {
        const failure = classify(error);
        return failure.code === 'provider_error' ? fail('provider_unavailable', failure.message) : failure;
      }
      if (!config.serverMetadata().authorization_endpoint) return fail('provider_error', 'the provider has no authorization_endpoint');
      try {
        const url = oidc.buildAuthorizationUrl(config, {
          redirect_uri: request.redirectUri,
          response_type: 'code',
          scope: SCOPE,
          state: request.state,
          nonce: request.nonce,
          code_challenge: await oidc.calculatePKCECodeChallenge(request.codeVerifier),
          code_challenge_method: 'S256',
        });
        return { ok: true, value: url };
      } catch (error) {
        return classify(error);
      }
    },

    async finish(provider, callbackUrl, checks): Promise<OidcOutcome<OidcIdentity>> {
      try {
        const config = await configuration(provider);
        // redirect_uri of the token request is callbackUrl without its query, i.e. the one sent at start.
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (!claims) return fail('invalid_id_token', 'the token response has no ID token');
        let email = typeof claims.email === 'string' && claims.email.trim() ? claims.email.trim() : undefined;
        let verified = emailVerified(claims.email_verified);
        // Providers that follow OpenID Connect Core §5.4 strictly put scope-requested claims only in userinfo
        // when an access token is issued (node-oidc-provider does); Keycloak, Entra ID and Okta put email in
        // the ID token as well.
        if (!email && config.serverMetadata().userinfo_endpoint) {
          const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
          email = typeof info.email === 'string' && info.email.trim() ? info.email.trim() : undefined;
          verified = emailVerified(info.email_verified);
        }
        return { ok: true, value: { subject: claims.sub, email, emailVerified: verified } };
      } catch (error) {
        return classify(error);
      }
    },
  };
}
