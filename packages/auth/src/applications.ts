import type { Knex } from 'knex';
import {
  APPLICATION_SCOPES,
  APPLICATION_SECRET_PREFIX,
  generateSecret,
  hashSecret,
  hashesEqual,
  systemClock,
  type ApplicationScope,
  type Clock,
} from '@roster/domain';
import { createLastUsedRecorder } from './last-used.js';
import { AuthError, OAuthError } from './errors.js';

// Authentication of applications (packages/domain applications.ts): a static token (`roster_ast_...`) or an
// access token we issued at /oauth/token for client credentials (`roster_aat_...`), each one indexed lookup
// by SHA-256 hash, then a scope check. A verified credential is cached like SCIM clients' ones, for at most
// `credentialCacheMs` (the documented bound within which a revocation reaches every process); this process
// drops an application's entries at once when its scopes change or it is deleted (`forget`).

export interface ApplicationPrincipal {
  id: string;
  name: string;
  /** What this credential may do now: the application's scopes (a static token), or those granted to the access token and still held. */
  scopes: ApplicationScope[];
  method: 'static_token' | 'oauth_client_credentials';
  credentialId: string;
}

interface CredentialRow {
  id: string;
  application_id: string;
  hash: string;
  kind: 'static_token' | 'client_secret' | 'access_token';
  credential_scopes: ApplicationScope[] | string;
  expires_at: Date;
  revoked_at: Date | null;
  name: string;
  scopes: ApplicationScope[] | string;
  auth_method: 'static_token' | 'oauth_client_credentials';
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const TOKEN = /^roster_(?:ast|aat)_[A-Za-z0-9_-]{43}$/;

function textArray<T extends string>(value: T[] | string): T[] {
  if (Array.isArray(value)) return value;
  return value.replace(/^\{|\}$/g, '').split(',').filter(Boolean) as T[];
}

/** True when a bearer token is an application's (so the caller routes it here instead of to SCIM clients). */
export function isApplicationToken(token: string): boolean {
  return token.startsWith(APPLICATION_SECRET_PREFIX.staticToken) || token.startsWith(APPLICATION_SECRET_PREFIX.accessToken);
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
}

export interface ApplicationAuthenticatorOptions {
  knex: Knex;
  clock?: Clock;
  /** ROSTER_CREDENTIAL_CACHE_MS (0..5000). */
  credentialCacheMs: number;
  /** ROSTER_ACCESS_TOKEN_TTL in seconds. */
  accessTokenTtlSeconds: number;
  cacheMaxEntries?: number;
  onBackgroundError?: (error: unknown) => void;
}

export function createApplicationAuthenticator(options: ApplicationAuthenticatorOptions) {
  const { knex } = options;
  const clock = options.clock ?? systemClock;
  const maxEntries = options.cacheMaxEntries ?? 10_000;
  const cache = new Map<string, { principal: ApplicationPrincipal; until: number }>();
  const lastUsed = createLastUsedRecorder({ knex, table: 'application_credentials', clock, maxEntries, onError: options.onBackgroundError });


  async function verify(token: string, hash: string): Promise<ApplicationPrincipal | AuthError> {
    const row = (await knex('application_credentials as c')
      .join('applications as a', 'a.id', 'c.application_id')
      .where('c.hash', hash)
      .first('c.id', 'c.application_id', 'c.hash', 'c.kind', 'c.scopes as credential_scopes', 'c.expires_at', 'c.revoked_at', 'a.name', 'a.scopes', 'a.auth_method')) as
      | CredentialRow
      | undefined;
    if (!row || !hashesEqual(row.hash, hash)) return AuthError.invalidToken('the access token is not valid', 'unknown_token');
    const what = row.kind === 'static_token' ? `the static token ending in ${token.slice(-4)}` : 'the access token';
    if (row.revoked_at) return AuthError.invalidToken(`${what} was revoked on ${row.revoked_at.toISOString()}`, 'revoked', row.application_id);
    if (row.expires_at.getTime() <= clock().getTime()) return AuthError.invalidToken(`${what} expired on ${row.expires_at.toISOString()}`, 'expired', row.application_id);
    const held = textArray(row.scopes);
    const expectedKind = token.startsWith(APPLICATION_SECRET_PREFIX.staticToken) ? 'static_token' : 'access_token';
    if (row.kind !== expectedKind) return AuthError.invalidToken('the access token is not valid', 'unknown_token');
    const scopes = row.kind === 'access_token' ? textArray(row.credential_scopes).filter((scope) => held.includes(scope)) : held;
    return { id: row.application_id, name: row.name, scopes, method: row.kind === 'static_token' ? 'static_token' : 'oauth_client_credentials', credentialId: row.id };
  }

  return {
    /**
     * Authenticates an application's bearer token and checks it holds `scope`. Never throws for bad input:
     * an AuthError says why (RFC 6750 §3.1: invalid_token 401, insufficient_scope 403).
     */
    async authenticate(authorization: string | undefined, scope: ApplicationScope): Promise<ApplicationPrincipal | AuthError> {
      if (authorization === undefined || authorization.trim() === '') return AuthError.missing('authentication required: send Authorization: Bearer <application token>');
      const token = bearerTokenOf(authorization);
      if (!token) return AuthError.invalidRequest('the Authorization header is malformed: expected Bearer <token> (RFC 6750 section 2.1)', 'malformed_header');
      if (!TOKEN.test(token)) return AuthError.invalidToken('the access token is not valid', 'unknown_token');
      const hash = hashSecret(token);
      const now = clock().getTime();
      let principal = cache.get(hash);
      if (principal && principal.until <= now) {
        cache.delete(hash);
        principal = undefined;
      }
      let verified: ApplicationPrincipal;
      if (principal) {
        verified = principal.principal;
      } else {
        const result = await verify(token, hash);
        if (result instanceof AuthError) return result;
        verified = result;
        if (options.credentialCacheMs > 0) {
          if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
          cache.set(hash, { principal: verified, until: now + options.credentialCacheMs });
        }
      }
      lastUsed.touch(verified.credentialId);
      if (!verified.scopes.includes(scope)) return AuthError.insufficientScope(`the application "${verified.name}" does not hold the ${scope} scope`, verified.id);
      return verified;
    },

    /** client_secret_basic / client_secret_post for an application's client id (RFC 6749 §2.3.1). */
    async authenticateClientSecret(clientId: string, secret: string): Promise<{ id: string; name: string; scopes: ApplicationScope[]; credentialId: string } | OAuthError> {
      const failed = (reason: string, id: string | null = null): OAuthError => OAuthError.invalidClient('client authentication failed', reason, id);
      if (clientId.length > 200 || secret.length > 200) return failed('malformed');
      const hash = hashSecret(secret);
      const row = (await knex('application_credentials as c')
        .join('applications as a', 'a.id', 'c.application_id')
        .where({ 'c.hash': hash, 'c.kind': 'client_secret', 'a.oauth_client_id': clientId })
        .first('c.id', 'c.application_id', 'c.hash', 'c.expires_at', 'c.revoked_at', 'a.name', 'a.scopes')) as
        | { id: string; application_id: string; hash: string; expires_at: Date; revoked_at: Date | null; name: string; scopes: ApplicationScope[] | string }
        | undefined;
      if (!row || !hashesEqual(row.hash, hash)) {
        // A wrong secret for an application that exists is that application's failure in the activity log (as a
        // SCIM client's is): one lookup by its client id, on the failure path only.
        const known = (await knex('applications').where({ oauth_client_id: clientId }).first('id')) as { id: string } | undefined;
        return failed('wrong_secret', known?.id ?? null);
      }
      if (row.revoked_at) return OAuthError.invalidClient(`the client secret ending in ${secret.slice(-4)} was revoked on ${row.revoked_at.toISOString()}`, 'revoked', row.application_id);
      if (row.expires_at.getTime() <= clock().getTime()) {
        return OAuthError.invalidClient(`the client secret ending in ${secret.slice(-4)} expired on ${row.expires_at.toISOString()}`, 'expired', row.application_id);
      }
      lastUsed.touch(row.id);
      return { id: row.application_id, name: row.name, scopes: textArray(row.scopes), credentialId: row.id };
    },

    /**
     * Issues an access token for an authenticated application. RFC 6749 §3.3: absent scope means every scope
     * the application holds; a requested scope it does not hold is refused (invalid_scope).
     */
    async issueAccessToken(application: { id: string; scopes: ApplicationScope[] }, requested: string | undefined): Promise<{ accessToken: string; expiresIn: number; scope: string } | OAuthError> {
      let scopes = application.scopes;
      if (requested !== undefined) {
        const asked = requested.split(' ').filter(Boolean);
        const unknown = asked.find((scope) => !(application.scopes as string[]).includes(scope));
        if (unknown !== undefined || asked.length === 0) {
          return new OAuthError('invalid_scope', `this application may ask for ${application.scopes.join(', ')}${unknown ? `, not ${unknown.slice(0, 40)}` : ''}`, 400, 'invalid_scope', application.id);
        }
        scopes = APPLICATION_SCOPES.filter((scope) => asked.includes(scope));
      }
      const accessToken = generateSecret(APPLICATION_SECRET_PREFIX.accessToken);
      await knex('application_credentials').insert({
        application_id: application.id,
        kind: 'access_token',
        hash: hashSecret(accessToken),
        hint: accessToken.slice(-4),
        scopes,
        expires_at: new Date(clock().getTime() + options.accessTokenTtlSeconds * 1000),
        created_at: clock(),
      });
      return { accessToken, expiresIn: options.accessTokenTtlSeconds, scope: scopes.join(' ') };
    },

    /** Drops this process's cached verdicts for an application (its scopes changed or it was deleted). */
    forget(applicationId: string): void {
      for (const [key, entry] of cache) if (entry.principal.id === applicationId) cache.delete(key);
    },

    async settled(): Promise<void> {
      await lastUsed.settled();
    },
  };
}

export type ApplicationAuthenticator = ReturnType<typeof createApplicationAuthenticator>;
