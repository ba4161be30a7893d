import type { Knex } from 'knex';
import { SECRET_PREFIX, hashSecret, hashesEqual, systemClock, type Clock, type CredentialRevocationListener, type DataScope } from '@roster/domain';
import type { OidcDiscovery } from './discovery.js';
import { createLastUsedRecorder } from './last-used.js';
import { AuthError } from './errors.js';
import { createJwtVerifier, looksLikeJwt, scopesOf, type JwtVerifier } from './jwt.js';

// Authentication of SCIM requests: one entry point, three methods, one result shape.
//   roster_st_...  static token       -> scim_credentials (kind static_token), by SHA-256 hash
//   roster_at_...  our access token   -> oauth_access_tokens, by SHA-256 hash
//   anything else  JWT from the client's OpenID Connect provider (see jwt.ts)
// A verified credential is cached for at most `credentialCacheMs` (default 5 s): that is the documented bound
// within which a revocation in one process reaches every other process sharing the database; the process that
// revokes drops its own entries at once (CredentialRevocationListener).

/** The SCIM scope every credential must carry (RFC 6749 §3.3). */
export const SCIM_SCOPE = 'scim_v2';

export type AuthenticationMethod = 'static_token' | 'oauth_client_credentials' | 'jwt';

/** Who is calling: what routes read from `ctx.state.client`. */
export interface ScimClientPrincipal {
  id: string;
  name: string;
  authProviderId: string;
  dataScope: DataScope;
  method: AuthenticationMethod;
  /** The static token or access token used; absent for a JWT (not stored by us). */
  credentialId?: string;
}

export interface AuthenticatedCredential {
  id: string | null;
  kind: 'static_token' | 'access_token' | 'jwt';
  expiresAt: Date;
}

export interface Authenticated {
  client: ScimClientPrincipal;
  credential: AuthenticatedCredential;
  method: AuthenticationMethod;
}

export interface AuthenticatorOptions {
  knex: Knex;
  discovery: OidcDiscovery;
  allowInsecureIssuers: boolean;
  /** `${PUBLIC_URL}/oauth/token`, an accepted audience of client assertions. */
  tokenEndpointUrl: string;
  /** ROSTER_CREDENTIAL_CACHE_MS (0..5000). */
  credentialCacheMs: number;
  clock?: Clock;
  /** Most verified credentials kept in memory. Default 10,000. */
  cacheMaxEntries?: number;
  jwksCooldownMs?: number;
  jwksCacheMaxAgeMs?: number;
  /** Told about background failures (last_used_at writes); never given a credential. */
  onBackgroundError?: (error: unknown) => void;
}

interface CacheEntry {
  result: Authenticated;
  until: number;
}

interface StaticTokenRow {
  id: string;
  client_id: string;
  hash: string;
  expires_at: Date;
  revoked_at: Date | null;
  name: string;
  auth_provider_id: string;
  data_scope: DataScope;
  auth_method: string;
}

interface AccessTokenRow {
  id: string;
  client_id: string;
  hash: string;
  scope: string;
  expires_at: Date;
  revoked_at: Date | null;
  name: string;
  auth_provider_id: string;
  data_scope: DataScope;
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const OPAQUE_TOKEN = /^roster_(?:st|at)_[A-Za-z0-9_-]{43}$/;

function day(date: Date): string {
  return date.toISOString();
}

export function createAuthenticator(options: AuthenticatorOptions) {
  const { knex } = options;
  const clock = options.clock ?? systemClock;
  const maxEntries = options.cacheMaxEntries ?? 10_000;
  const cache = new Map<string, CacheEntry>();
  const lastUsed = createLastUsedRecorder({ knex, table: 'scim_credentials', clock, maxEntries, onError: options.onBackgroundError });
  const jwt: JwtVerifier = createJwtVerifier({
    knex,
    discovery: options.discovery,
    clock,
    allowInsecureIssuers: options.allowInsecureIssuers,
    tokenEndpointUrl: options.tokenEndpointUrl,
    jwksCooldownMs: options.jwksCooldownMs,
    jwksCacheMaxAgeMs: options.jwksCacheMaxAgeMs,
  });

  function remember(hash: string, result: Authenticated): void {
    if (options.credentialCacheMs <= 0) return;
    const until = Math.min(clock().getTime() + options.credentialCacheMs, result.credential.expiresAt.getTime());
    if (cache.size >= maxEntries) {
      // Map iteration order is insertion order: drop the oldest entry.
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(hash, { result, until });
  }

  function cached(hash: string): Authenticated | undefined {
    const entry = cache.get(hash);
    if (!entry) return undefined;
    // The expiry is checked on every hit: an expired token stops at once, cache or not.
    if (entry.until <= clock().getTime()) {
      cache.delete(hash);
      return undefined;
    }
    return entry.result;
  }


  async function staticToken(token: string, hash: string): Promise<Authenticated | AuthError> {
    const row = (await knex('scim_credentials as s')
      .join('scim_clients as c', 'c.id', 's.client_id')
      .where('s.hash', hash)
      .where('s.kind', 'static_token')
      .first('s.id', 's.client_id', 's.hash', 's.expires_at', 's.revoked_at', 'c.name', 'c.auth_provider_id', 'c.data_scope', 'c.auth_method')) as
      | StaticTokenRow
      | undefined;
    if (!row || !hashesEqual(row.hash, hash)) return AuthError.invalidToken('the access token is not valid', 'unknown_token');
    if (row.revoked_at) return AuthError.invalidToken(`the static token ending in ${token.slice(-4)} was revoked on ${day(row.revoked_at)}`, 'revoked', row.client_id);
    if (row.expires_at.getTime() <= clock().getTime()) {
      return AuthError.invalidToken(`the static token ending in ${token.slice(-4)} expired on ${day(row.expires_at)}`, 'expired', row.client_id);
    }
    if (row.auth_method !== 'static_token') return AuthError.invalidToken('this SCIM client does not authenticate with static tokens', 'wrong_method', row.client_id);
    return {
      client: { id: row.client_id, name: row.name, authProviderId: row.auth_provider_id, dataScope: row.data_scope, method: 'static_token', credentialId: row.id },
      credential: { id: row.id, kind: 'static_token', expiresAt: row.expires_at },
      method: 'static_token',
    };
  }

  async function accessToken(hash: string): Promise<Authenticated | AuthError> {
    const row = (await knex('oauth_access_tokens as t')
      .join('scim_clients as c', 'c.id', 't.client_id')
      .where('t.hash', hash)
      .first('t.id', 't.client_id', 't.hash', 't.scope', 't.expires_at', 't.revoked_at', 'c.name', 'c.auth_provider_id', 'c.data_scope')) as AccessTokenRow | undefined;
    if (!row || !hashesEqual(row.hash, hash)) return AuthError.invalidToken('the access token is not valid', 'unknown_token');
    if (row.revoked_at) return AuthError.invalidToken(`the access token was revoked on ${day(row.revoked_at)}`, 'revoked', row.client_id);
    if (row.expires_at.getTime() <= clock().getTime()) {
      return AuthError.invalidToken(`the access token expired on ${day(row.expires_at)}; request a new one at the token endpoint`, 'expired', row.client_id);
    }
    if (!row.scope.split(' ').includes(SCIM_SCOPE)) return AuthError.insufficientScope(`the access token lacks the ${SCIM_SCOPE} scope`, row.client_id);
    return {
      client: { id: row.client_id, name: row.name, authProviderId: row.auth_provider_id, dataScope: row.data_scope, method: 'oauth_client_credentials', credentialId: row.id },
      credential: { id: row.id, kind: 'access_token', expiresAt: row.expires_at },
      method: 'oauth_client_credentials',
    };
  }

  async function providerJwt(token: string): Promise<Authenticated | AuthError> {
    const verified = await jwt.verify(token, 'bearer');
    if (verified instanceof AuthError) return verified;
    const { client, payload, expiresAt } = verified;
    if (!scopesOf(payload).includes(SCIM_SCOPE)) {
      return AuthError.insufficientScope(`the JWT carries neither scope nor scp with ${SCIM_SCOPE}`, client.id);
    }
    return {
      client: { id: client.id, name: client.name, authProviderId: client.auth_provider_id, dataScope: client.data_scope, method: 'jwt' },
      credential: { id: null, kind: 'jwt', expiresAt },
      method: 'jwt',
    };
  }

  /**
   * The credential of an Authorization header when it was verified within the cache's time, without waiting
   * on anything; undefined otherwise, and then `authenticate` decides. A header this accepts takes the same
   * path in `authenticate` (a well-formed Bearer header, the token's hash, the cache).
   */
  function authenticateFromCache(authorization: string | undefined): Authenticated | undefined {
    if (authorization === undefined) return undefined;
    const match = BEARER.exec(authorization);
    if (!match) return undefined;
    return usedFromCache(hashSecret(match[1]!));
  }

  /** The cache's answer for a token's hash; a static token answered from it counts as used (last_used_at). */
  function usedFromCache(hash: string): Authenticated | undefined {
    const hit = cached(hash);
    if (hit && hit.credential.kind === 'static_token' && hit.credential.id) lastUsed.touch(hit.credential.id);
    return hit;
  }

  /** Authenticates the value of an Authorization header. Never throws for bad input: returns an AuthError. */
  async function authenticate(authorization: string | undefined): Promise<Authenticated | AuthError> {
    if (authorization === undefined || authorization.trim() === '') {
      return AuthError.missing('authentication required: send Authorization: Bearer <token>');
    }
    const scheme = /^(\S+)/.exec(authorization.trim())?.[1] ?? '';
    if (scheme.toLowerCase() !== 'bearer') {
      return AuthError.missing(`the ${scheme.slice(0, 20)} authentication scheme is not supported: send Authorization: Bearer <token>`, 'unsupported_scheme');
    }
    const match = BEARER.exec(authorization);
    if (!match) return AuthError.invalidRequest('the Authorization header is malformed: expected Bearer <token> (RFC 6750 section 2.1)', 'malformed_header');
    const token = match[1]!;
    const hash = hashSecret(token);
    const hit = usedFromCache(hash);
    if (hit) return hit;

    let result: Authenticated | AuthError;
    if (token.startsWith(SECRET_PREFIX.staticToken) || token.startsWith(SECRET_PREFIX.accessToken)) {
      if (!OPAQUE_TOKEN.test(token)) return AuthError.invalidToken('the access token is not valid', 'unknown_token');
      result = token.startsWith(SECRET_PREFIX.staticToken) ? await staticToken(token, hash) : await accessToken(hash);
    } else if (looksLikeJwt(token)) {
      result = await providerJwt(token);
    } else {
      // Same words as for an unknown opaque token: a random string learns nothing.
      return AuthError.invalidToken('the access token is not valid', 'unknown_token');
    }
    if (result instanceof AuthError) return result;
    remember(hash, result);
    if (result.credential.kind === 'static_token' && result.credential.id) lastUsed.touch(result.credential.id);
    return result;
  }

  const listener: CredentialRevocationListener = {
    clientRevoked(clientId) {
      for (const [key, entry] of cache) if (entry.result.client.id === clientId) cache.delete(key);
    },
    credentialRevoked(credentialId) {
      for (const [key, entry] of cache) if (entry.result.credential.id === credentialId) cache.delete(key);
      // Access tokens issued with a revoked client secret are revoked with it (scim-clients.ts); their cache
      // entries do not know the secret's id, so drop the client's access tokens too (they re-verify in one query).
      for (const [key, entry] of cache) if (entry.result.credential.kind === 'access_token') cache.delete(key);
    },
  };

  return {
    authenticate,
    authenticateFromCache,
    /** Verifies a client assertion (RFC 7523 §2.2) for the token endpoint. */
    verifyClientAssertion: (assertion: string) => jwt.verify(assertion, 'assertion'),
    /** Pass to the SCIM client service so revocations reach this process's cache at once. */
    revocationListener: listener,
    /** Resolves when pending last_used_at writes have finished (shutdown, tests). */
    async settled(): Promise<void> {
      await lastUsed.settled();
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
