import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';

// A real OpenID Connect provider for tests (node-oidc-provider on 127.0.0.1, port 0) that issues RS256
// `at+jwt` access tokens through the client credentials grant, the way Keycloak, Entra ID and Okta do for
// a SCIM robot. Resource indicators (RFC 8707) choose what ends up in the token:
//   urn:roster:scim        aud = the audience given at start, scope scim_v2 (the happy path)
//   urn:roster:read        same audience, scope "read" (missing scim_v2)
//   urn:other:app          aud "other-app", scope scim_v2 (wrong audience)
// Keys can be rotated while it runs (`rotateKeys`), and JWKS fetches are counted.

export const TEST_RESOURCES = {
  scim: 'urn:roster:scim',
  readOnly: 'urn:roster:read',
  otherApp: 'urn:other:app',
} as const;

export interface TestIdpClient {
  clientId: string;
  clientSecret: string;
}

export interface TestIdentityProvider {
  issuer: string;
  /** Robots registered at the IdP; their client_id is the `sub` of the tokens they get. */
  clients: { robot: TestIdpClient; other: TestIdpClient };
  /** The audience (our client id at the IdP) of tokens for urn:roster:scim. */
  audience: string;
  /** Current signing key (private JWK with kid). */
  signingKey(): Promise<CryptoKey>;
  publicJwk(): JWK;
  kid(): string;
  /** Client credentials grant at the real token endpoint. */
  issueAccessToken(options?: { client?: TestIdpClient; resource?: string; scope?: string }): Promise<string>;
  /** Signs arbitrary claims with the current key (for expired, future, wrong-issuer ... cases). */
  sign(payload: JWTPayload, options?: { alg?: string; kid?: string; typ?: string; key?: CryptoKey | Uint8Array }): Promise<string>;
  /** Publishes a new key and signs with it from now on; the old key stays published unless `dropOld`. */
  rotateKeys(options?: { dropOld?: boolean }): Promise<void>;
  /** JWKS document fetches since start. */
  jwksFetches(): number;
  close(): Promise<void>;
}

interface KeyMaterial {
  kid: string;
  privateKey: CryptoKey;
  privateJwk: JWK;
  publicJwk: JWK;
}

async function makeKey(): Promise<KeyMaterial> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `k-${Math.random().toString(36).slice(2, 10)}`;
  return {
    kid,
    privateKey,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

export async function startTestIdentityProvider(options: { audience?: string } = {}): Promise<TestIdentityProvider> {
  const audience = options.audience ?? 'roster-scim';
  const clients = {
    robot: { clientId: 'scim-robot', clientSecret: 'robot-secret-robot-secret-robot-secret' },
    other: { clientId: 'other-robot', clientSecret: 'other-secret-other-secret-other-secret' },
  };
  let keys: KeyMaterial[] = [await makeKey()];
  let fetches = 0;
  let handler: ReturnType<Provider['callback']> | undefined;

  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/jwks')) fetches += 1;
    if (!handler) {
      res.statusCode = 503;
      res.end();
      return;
    }
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function build(): void {
    const provider = new Provider(issuer, {
      clients: Object.values(clients).map((client) => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      })),
      // The first key signs; the others are only published (what a provider does around a rotation).
      jwks: { keys: keys.map((key) => key.privateJwk) } as { keys: JWK[] },
      scopes: ['scim_v2', 'read'],
      ttl: { ClientCredentials: 600 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => TEST_RESOURCES.scim,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx, resource) => {
            const jwt = { sign: { alg: 'RS256' } } as const;
            if (resource === TEST_RESOURCES.readOnly) return { scope: 'read', audience, accessTokenFormat: 'jwt', jwt };
            if (resource === TEST_RESOURCES.otherApp) return { scope: 'scim_v2', audience: 'other-app', accessTokenFormat: 'jwt', jwt };
            return { scope: 'scim_v2', audience, accessTokenFormat: 'jwt', jwt };
          },
        },
      },
    });
    provider.proxy = false;
    handler = provider.callback();
  }
  build();

  const current = (): KeyMaterial => keys[0]!;

  return {
    issuer,
    clients,
    audience,
    signingKey: async () => current().privateKey,
    publicJwk: () => current().publicJwk,
    kid: () => current().kid,
    async issueAccessToken(request = {}) {
      const client = request.client ?? clients.robot;
      const body = new URLSearchParams({ grant_type: 'client_credentials', scope: request.scope ?? 'scim_v2', resource: request.resource ?? TEST_RESOURCES.scim });
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
      const json = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!response.ok || !json.access_token) throw new Error(`test IdP token request failed: ${json.error ?? response.status} ${json.error_description ?? ''}`);
      return json.access_token;
    },
    async sign(payload, signOptions = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: audience, sub: clients.robot.clientId, iat: now, exp: now + 300, scope: 'scim_v2', ...payload })
        .setProtectedHeader({ alg: signOptions.alg ?? 'RS256', kid: signOptions.kid ?? current().kid, typ: signOptions.typ ?? 'at+jwt' })
        .sign(signOptions.key ?? current().privateKey);
    },
    async rotateKeys(rotation = {}) {
      const next = await makeKey();
      keys = rotation.dropOld ? [next] : [next, ...keys];
      build();
    },
    jwksFetches: () => fetches,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Re-exported for tests of other packages that forge tokens (the gateway does not depend on jose itself).
export { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
