import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { systemClock, type Clock, type SignInProvider } from '@roster/domain';

// Verification of an OpenID Connect ID token that an application hands to sign-in resolution, so the
// application need not verify it itself (OpenID Connect Core 1.0 §3.1.3.7): signature by the provider's keys
// (its jwks_uri from discovery, fetched and cached by jose), `iss` equal to the provider's issuer, `aud`
// containing our client id at the provider (and `azp` equal to it when there are several audiences), `exp`
// in the future, and `nonce` equal to the one the application sent when it sent one.

export type IdTokenOutcome = { ok: true; claims: JWTPayload } | { ok: false; reason: string; message: string };

/** Only asymmetric signatures: `none` and HMAC (keyed with the client secret) are refused. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Clock skew accepted on exp/iat/nbf, seconds. */
const CLOCK_TOLERANCE_S = 30;
const MAX_TOKEN_LENGTH = 16_384;

export interface IdTokenVerifierOptions {
  /** ROSTER_ALLOW_INSECURE_ISSUERS: accept an http:// jwks_uri (development and tests only). */
  allowInsecureIssuers: boolean;
  clock?: Clock;
  /** Keys are refetched at most this often when a token names an unknown kid (jose cooldown). Default 30 s. */
  jwksCooldownMs?: number;
  /** Keys are kept this long. Default 10 minutes. */
  jwksCacheMaxAgeMs?: number;
}

export function createIdTokenVerifier(options: IdTokenVerifierOptions) {
  const clock = options.clock ?? systemClock;
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  function keySet(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
    let found = keySets.get(jwksUri);
    if (!found) {
      found = createRemoteJWKSet(new URL(jwksUri), {
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
        timeoutDuration: 5_000,
      });
      // Bounded: one entry per provider; a provider whose jwks_uri changed leaves an old entry behind.
      if (keySets.size >= 1000) keySets.delete(keySets.keys().next().value!);
      keySets.set(jwksUri, found);
    }
    return found;
  }

  return {
    async verify(provider: SignInProvider, idToken: string, nonce?: string): Promise<IdTokenOutcome> {
      const refuse = (reason: string, message: string): IdTokenOutcome => ({ ok: false, reason, message });
      if (provider.kind !== 'oidc' || !provider.issuer || !provider.clientId || !provider.jwksUri) {
        return refuse('not_oidc', 'idToken applies only to an OpenID Connect provider with a client id; send claims instead');
      }
      if (idToken.length > MAX_TOKEN_LENGTH || idToken.split('.').length !== 3) return refuse('malformed', 'idToken is not a signed JWT (JWS compact serialization)');
      if (!options.allowInsecureIssuers && !provider.jwksUri.startsWith('https:')) return refuse('insecure_jwks', 'the provider publishes its keys over http, which only ROSTER_ALLOW_INSECURE_ISSUERS=1 permits');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(idToken, keySet(provider.jwksUri), {
          issuer: provider.issuer,
          audience: provider.clientId,
          algorithms: ALGORITHMS,
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: clock(),
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
        }));
      } catch (error) {
        return refuse(reasonOf(error), `the ID token was refused: ${messageOf(error)}`);
      }
      // OpenID Connect Core 1.0 §3.1.3.7 (4, 5): with several audiences, azp names the client it was issued to.
      if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== provider.clientId) {
        return refuse('azp', 'the ID token has several audiences and its azp is not our client id');
      }
      if (nonce !== undefined && payload.nonce !== nonce) return refuse('nonce', 'the ID token nonce does not match the nonce sent');
      return { ok: true, claims: payload };
    },
  };
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim_${error.claim}`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) return 'signature';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm';
  if (error instanceof joseErrors.JWKSTimeout) return 'keys_unavailable';
  if (error instanceof joseErrors.JOSEError) return 'invalid';
  // A network error fetching the keys: not the caller's fault (the endpoint answers 503), and not a sign-in.
  return 'keys_unavailable';
}

function messageOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the ${error.claim} claim is not acceptable (${error.reason})`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify with the provider\'s keys';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the provider matches its kid';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'its signing algorithm is not accepted';
  if (error instanceof joseErrors.JWKSTimeout) return "the provider's keys could not be fetched in time";
  if (error instanceof joseErrors.JOSEError) return 'it is not a valid JWT';
  return "the provider's keys could not be fetched";
}

export type IdTokenVerifier = ReturnType<typeof createIdTokenVerifier>;
