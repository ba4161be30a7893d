import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Knex } from 'knex';
import type { Clock, OidcProviderMetadata } from '@roster/domain';
import type { OidcDiscovery } from './discovery.js';
import { AuthError } from './errors.js';

// JWTs issued by a client's OpenID Connect provider: as bearer tokens (the "JWT from identity provider" method)
// and as client assertions at our token endpoint (RFC 7523 §2.2, Entra "workload identity federation").
// The checks follow the issue exactly: asymmetric signature from the provider's JWKS, exact `iss`, sane
// `exp`/`nbf`/`iat` (60 s leeway), `aud` contains the configured client id, `sub` equals the client's subject.

/** RFC 7518 §3.1 asymmetric algorithms plus EdDSA (RFC 8037). Never `none`, never HS* (RFC 8725 §3.1-3.2). */
export const ALLOWED_JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Clock skew tolerated on exp, nbf and iat. */
export const JWT_LEEWAY_SECONDS = 60;
/**
 * The longest a client assertion may live, `exp` - `iat` (RFC 7523 §3 item 4 lets the server "reject JWTs
 * with an exp claim value that is unreasonably far in the future"). Its jti is remembered that long.
 */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;
const MAX_JTI_LENGTH = 256;

export interface JwtVerifierOptions {
  knex: Knex;
  discovery: OidcDiscovery;
  clock: Clock;
  allowInsecureIssuers: boolean;
  /** `${PUBLIC_URL}/oauth/token`: an accepted audience for client assertions (RFC 7523 §3 item 3). */
  tokenEndpointUrl: string;
  /** Our issuer identifier (PUBLIC_URL), the other accepted audience. Default: tokenEndpointUrl without `/oauth/token`. */
  issuerUrl?: string;
  /**
   * Minimum time between two JWKS fetches for one provider, in ms. An unknown `kid` triggers a refetch only
   * when this much time has passed since the last one (jose's cooldown), so a flood of tokens with made-up
   * key ids costs the provider at most one request per period. Default 30 s.
   */
  jwksCooldownMs?: number;
  /** How long fetched keys are trusted before a refetch. Default 10 minutes. */
  jwksCacheMaxAgeMs?: number;
  /** Timeout of a JWKS fetch. Default 5 s. */
  jwksTimeoutMs?: number;
}

/** The SCIM client a verified JWT belongs to. */
export interface JwtClientRow {
  id: string;
  name: string;
  auth_provider_id: string;
  data_scope: 'all' | 'own';
  auth_method: 'jwt';
}

export interface VerifiedJwt {
  client: JwtClientRow;
  payload: JWTPayload;
  expiresAt: Date;
}

interface ProviderRow {
  id: string;
  issuer: string;
  client_id: string | null;
  metadata: Partial<OidcProviderMetadata> | null;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

function utc(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** RFC 8693 §4.2 `scope` (space-separated) or the `scp` array/string some providers (Entra, Okta) use. */
export function scopesOf(payload: JWTPayload): string[] {
  const scopes: string[] = [];
  for (const value of [payload.scope, payload.scp]) {
    if (typeof value === 'string') scopes.push(...value.split(' ').filter(Boolean));
    else if (Array.isArray(value)) scopes.push(...value.filter((item): item is string => typeof item === 'string'));
  }
  return scopes;
}

export function createJwtVerifier(options: JwtVerifierOptions) {
  const { knex, discovery, clock } = options;
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  function keySet(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
    let set = keySets.get(jwksUri);
    if (!set) {
      set = createRemoteJWKSet(new URL(jwksUri), {
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
        timeoutDuration: options.jwksTimeoutMs ?? 5_000,
      });
      keySets.set(jwksUri, set);
    }
    return set;
  }

  function mapJoseError(error: unknown, clientId: string | null): AuthError {
    if (error instanceof joseErrors.JWTExpired) {
      const exp = typeof error.payload.exp === 'number' ? ` on ${utc(error.payload.exp)}` : '';
      return AuthError.invalidToken(`the JWT expired${exp}`, 'expired', clientId);
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      if (error.claim === 'nbf') {
        const nbf = typeof error.payload.nbf === 'number' ? ` before ${utc(error.payload.nbf)}` : '';
        return AuthError.invalidToken(`the JWT is not valid yet${nbf} (nbf)`, 'not_yet_valid', clientId);
      }
      if (error.claim === 'iss') return AuthError.invalidToken('the JWT issuer (iss) does not match the provider exactly', 'issuer', clientId);
      return AuthError.invalidToken(`the JWT claim ${error.claim} is invalid: ${error.reason}`, `claim_${error.claim}`, clientId);
    }
    if (error instanceof joseErrors.JWKSNoMatchingKey) {
      return AuthError.invalidToken("no key of the provider's JWKS matches the JWT's key id (kid)", 'unknown_kid', clientId);
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      return AuthError.invalidToken('the JWT signature does not verify', 'signature', clientId);
    }
    if (error instanceof joseErrors.JOSEAlgNotAllowed) {
      return AuthError.invalidToken('the JWT signing algorithm is not accepted', 'algorithm', clientId);
    }
    if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
      return AuthError.invalidToken("the provider's signing keys (jwks_uri) could not be fetched", 'jwks_unavailable', clientId);
    }
    if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) {
      return AuthError.invalidToken('the bearer token is not a well-formed JWT', 'malformed', clientId);
    }
    if (error instanceof TypeError) {
      // fetch() failed: the provider is unreachable.
      return AuthError.invalidToken("the provider's signing keys (jwks_uri) could not be fetched", 'jwks_unavailable', clientId);
    }
    return AuthError.invalidToken('the JWT could not be verified', 'unverifiable', clientId);
  }

  const issuerUrl = options.issuerUrl ?? options.tokenEndpointUrl.replace(/\/oauth\/token$/, '');

  /**
   * RFC 7523 §3 for a client assertion, beyond what jose checked (signature, iss, exp, nbf): `aud` names us
   * (our token endpoint or our issuer, item 3; a provider's client id would let any ID token or access token
   * the provider minted for that client serve as an assertion), `iat` and `jti` are present (items 6, 7) and
   * `exp` is at most MAX_ASSERTION_LIFETIME_SECONDS after `iat` (item 4), and a `scope`, when the provider
   * put one in, asks for scim_v2: an assertion minted for `openid profile` buys no SCIM token.
   */
  function assertionRefusal(payload: JWTPayload, audiences: string[]): AuthError | undefined {
    if (!audiences.includes(options.tokenEndpointUrl) && !audiences.includes(issuerUrl)) {
      return AuthError.invalidToken(`the client assertion audience (aud) must be our token endpoint ${options.tokenEndpointUrl} or our issuer ${issuerUrl}`, 'audience');
    }
    if (typeof payload.iat !== 'number') return AuthError.invalidToken('the client assertion has no issued-at time (iat)', 'claim_iat');
    if ((payload.exp as number) - payload.iat > MAX_ASSERTION_LIFETIME_SECONDS) {
      return AuthError.invalidToken(`the client assertion lives too long: exp must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds after iat`, 'lifetime');
    }
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > MAX_JTI_LENGTH) {
      return AuthError.invalidToken(`the client assertion needs a unique id (jti) of 1 to ${MAX_JTI_LENGTH} characters`, 'claim_jti');
    }
    const scopes = scopesOf(payload);
    if (scopes.length > 0 && !scopes.includes('scim_v2')) {
      return AuthError.invalidToken('the client assertion scope does not include scim_v2', 'insufficient_scope');
    }
    return undefined;
  }

  /**
   * Remembers the assertion's jti until it expires; false when it was already used (a replay), in this
   * process or any other sharing the database. Run only for assertions that passed every other check, so a
   * forger cannot use up someone else's jti.
   */
  async function firstUse(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    const inserted = (await knex('oauth_client_assertions').insert({ issuer, jti, expires_at: expiresAt }).onConflict(['issuer', 'jti']).ignore().returning('jti')) as unknown[];
    return inserted.length === 1;
  }

  /**
   * Verifies `token` and finds its SCIM client. `purpose` decides the audience rule: a bearer token's `aud`
   * must contain the provider's client id; a client assertion's must be us (assertionRefusal), and its jti is
   * then spent. Scope is checked by the caller for bearer tokens (scim_v2), here for assertions.
   */
  async function verify(token: string, purpose: 'bearer' | 'assertion'): Promise<VerifiedJwt | AuthError> {
    let alg: string | undefined;
    let unverified: JWTPayload;
    try {
      alg = decodeProtectedHeader(token).alg;
      unverified = decodeJwt(token);
    } catch {
      return AuthError.invalidToken('the bearer token is not a well-formed JWT', 'malformed');
    }
    // Refused before any key is looked at: `none` and HMAC algorithms would let a forger pick the key
    // (RFC 8725 §2.1, the "HS256 signed with the public key" confusion).
    if (!alg || !ALLOWED_JWT_ALGORITHMS.includes(alg)) {
      return AuthError.invalidToken(`JWTs signed with alg ${String(alg).slice(0, 20)} are not accepted (RS/PS/ES 256-512 or EdDSA)`, 'algorithm');
    }
    const iss = unverified.iss;
    if (typeof iss !== 'string' || iss === '') return AuthError.invalidToken('the JWT has no issuer (iss)', 'issuer');

    // Exact comparison (OpenID Connect Core §3.1.3.7 item 2): no trailing-slash or case folding.
    const providers = (await knex('auth_providers')
      .where({ kind: 'oidc', issuer: iss })
      .select('id', 'issuer', 'client_id', 'metadata')) as ProviderRow[];
    if (providers.length === 0) return AuthError.invalidToken('the JWT issuer (iss) is not a configured authentication provider', 'issuer');

    const metadata = await discovery.metadataFor(iss, providers[0]!.metadata);
    if (!metadata) return AuthError.invalidToken("the provider's discovery document could not be fetched", 'discovery_unavailable');
    if (!options.allowInsecureIssuers && !metadata.jwks_uri.startsWith('https://')) {
      return AuthError.invalidToken("the provider's jwks_uri is not https://", 'insecure_jwks_uri');
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet(metadata.jwks_uri), {
        issuer: iss,
        algorithms: ALLOWED_JWT_ALGORITHMS,
        clockTolerance: JWT_LEEWAY_SECONDS,
        currentDate: clock(),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      return mapJoseError(error, null);
    }
    const now = Math.floor(clock().getTime() / 1000);
    // jose checks `iat` only with maxTokenAge; a token minted in the future means a broken or forged clock.
    if (typeof payload.iat === 'number' && payload.iat > now + JWT_LEEWAY_SECONDS) {
      return AuthError.invalidToken(`the JWT was issued in the future (iat ${utc(payload.iat)})`, 'issued_in_future');
    }

    const audiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
    let eligible: ProviderRow[];
    if (purpose === 'assertion') {
      const refusal = assertionRefusal(payload, audiences);
      if (refusal) return refusal;
      eligible = providers;
    } else {
      eligible = providers.filter((provider) => provider.client_id !== null && audiences.includes(provider.client_id));
      if (eligible.length === 0) return AuthError.invalidToken('the JWT audience (aud) does not contain the client id configured for this provider', 'audience');
    }

    const client = (await knex('scim_clients')
      .whereIn('auth_provider_id', eligible.map((provider) => provider.id))
      .where({ auth_method: 'jwt', jwt_subject: payload.sub })
      .orderBy('created_at')
      .first('id', 'name', 'auth_provider_id', 'data_scope', 'auth_method')) as JwtClientRow | undefined;
    if (!client) return AuthError.invalidToken('the JWT subject (sub) is not the subject of any SCIM client of this provider', 'subject');
    const expiresAt = new Date((payload.exp as number) * 1000);
    if (purpose === 'assertion' && !(await firstUse(iss, payload.jti as string, new Date(expiresAt.getTime() + JWT_LEEWAY_SECONDS * 1000)))) {
      return AuthError.invalidToken('the client assertion was already used (jti, RFC 7523 section 3)', 'replayed', client.id);
    }
    return { client, payload, expiresAt };
  }

  return { verify };
}

export type JwtVerifier = ReturnType<typeof createJwtVerifier>;
