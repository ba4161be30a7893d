import type { Knex } from 'knex';
import { SECRET_PREFIX, generateSecret, hashSecret, hashesEqual, systemClock, type Clock } from '@roster/domain';
import { SCIM_SCOPE, type Authenticator } from './authenticator.js';
import { AuthError, OAuthError } from './errors.js';

// The OAuth 2.0 client credentials grant (RFC 6749 §4.4) for SCIM clients of the oauth_client_credentials
// method, and RFC 7523 §2.2 client assertions for clients of the jwt method. Access tokens are opaque
// (`roster_at_` + 256 bits), stored as SHA-256 hashes in oauth_access_tokens.

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
  scope: string;
  clientId: string;
}

export interface OAuthClient {
  /** scim_clients.id */
  id: string;
  name: string;
  /** The client secret used (null for a client assertion). */
  credentialId: string | null;
}

interface SecretRow {
  id: string;
  client_id: string;
  hash: string;
  expires_at: Date;
  revoked_at: Date | null;
  name: string;
}

export interface ClientCredentialsOptions {
  knex: Knex;
  authenticator: Authenticator;
  /** ROSTER_ACCESS_TOKEN_TTL in seconds. */
  accessTokenTtlSeconds: number;
  clock?: Clock;
}

export function createClientCredentialsService(options: ClientCredentialsOptions) {
  const { knex, authenticator } = options;
  const clock = options.clock ?? systemClock;

  return {
    /** client_secret_basic / client_secret_post (RFC 6749 §2.3.1). */
    async authenticateClientSecret(clientId: string, secret: string): Promise<OAuthClient | OAuthError> {
      const failed = (reason: string, id: string | null = null): OAuthError => OAuthError.invalidClient('client authentication failed', reason, id);
      if (clientId.length > 200 || secret.length > 200) return failed('malformed');
      const client = (await knex('scim_clients').where({ oauth_client_id: clientId, auth_method: 'oauth_client_credentials' }).first('id', 'name')) as
        | { id: string; name: string }
        | undefined;
      // The hash is computed either way so an unknown client id and a wrong secret cost the same.
      const hash = hashSecret(secret);
      if (!client || !secret.startsWith(SECRET_PREFIX.clientSecret)) return failed('unknown_client', client?.id ?? null);
      const row = (await knex('scim_credentials as s')
        .join('scim_clients as c', 'c.id', 's.client_id')
        .where({ 's.hash': hash, 's.kind': 'client_secret', 's.client_id': client.id })
        .first('s.id', 's.client_id', 's.hash', 's.expires_at', 's.revoked_at', 'c.name')) as SecretRow | undefined;
      if (!row || !hashesEqual(row.hash, hash)) return failed('wrong_secret', client.id);
      // Whoever holds this exact secret may learn why it stopped working; nobody else gets past the line above.
      if (row.revoked_at) return OAuthError.invalidClient(`the client secret ending in ${secret.slice(-4)} was revoked on ${row.revoked_at.toISOString()}`, 'revoked', client.id);
      if (row.expires_at.getTime() <= clock().getTime()) {
        return OAuthError.invalidClient(`the client secret ending in ${secret.slice(-4)} expired on ${row.expires_at.toISOString()}`, 'expired', client.id);
      }
      return { id: client.id, name: client.name, credentialId: row.id };
    },

    /** RFC 7523 §2.2: a JWT from the client's OpenID Connect provider authenticates a jwt-method client. */
    async authenticateClientAssertion(assertion: string): Promise<OAuthClient | OAuthError> {
      if (assertion.length > 16_384) return OAuthError.invalidClient('the client assertion is too large', 'malformed');
      const verified = await authenticator.verifyClientAssertion(assertion);
      if (verified instanceof AuthError) {
        return OAuthError.invalidClient(`the client assertion was refused: ${verified.description}`, verified.reason, verified.clientId);
      }
      return { id: verified.client.id, name: verified.client.name, credentialId: null };
    },

    /** Issues an access token; the caller has authenticated the client and checked the grant and scope. */
    async issueAccessToken(client: OAuthClient): Promise<IssuedAccessToken> {
      const accessToken = generateSecret(SECRET_PREFIX.accessToken);
      const expiresAt = new Date(clock().getTime() + options.accessTokenTtlSeconds * 1000);
      await knex('oauth_access_tokens').insert({
        client_id: client.id,
        credential_id: client.credentialId,
        hash: hashSecret(accessToken),
        scope: SCIM_SCOPE,
        expires_at: expiresAt,
        created_at: clock(),
      });
      return { accessToken, expiresIn: options.accessTokenTtlSeconds, scope: SCIM_SCOPE, clientId: client.id };
    },

    /**
     * Deletes access tokens that expired more than a day ago (kept a day so "expired on" can be reported), and
     * the remembered ids of client assertions past their expiry (the assertion itself is refused by then).
     */
    async purgeExpiredAccessTokens(): Promise<number> {
      const [tokens, assertions] = await Promise.all([
        knex('oauth_access_tokens').where('expires_at', '<', new Date(clock().getTime() - 86_400_000)).delete(),
        knex('oauth_client_assertions').where('expires_at', '<', clock()).delete(),
      ]);
      return tokens + assertions;
    },
  };
}

export type ClientCredentialsService = ReturnType<typeof createClientCredentialsService>;
