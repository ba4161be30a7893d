import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '@roster/db/testing';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair, startTestIdentityProvider, TEST_RESOURCES, type TestIdentityProvider } from '@roster/auth/testing';
import { AuthError } from '@roster/auth';
import { DomainError } from '@roster/domain';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { createServices, type Services } from '../services.js';
import { requestContext } from './request-context.js';
import { scimAuthentication } from './scim-auth.js';
import { nodeRequest } from '../../test/support/http.js';
import { startGatewayFixture, type GatewayFixture } from '../../test/support/fixture.js';

// End to end over HTTP: the gateway (createApp) for the token endpoint and metadata, and a small Koa app with
// one protected route behind scimAuthentication, against a real OpenID Connect provider on 127.0.0.1.

const PUBLIC_URL = 'http://roster.test';
const RESOURCE_METADATA = `resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource"`;
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface Served {
  url: string;
  close(): Promise<void>;
}

async function serve(app: Koa): Promise<Served> {
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let idp: TestIdentityProvider;
let db: TestDatabase;
let config: Config;
let services: Services;
let gateway: GatewayFixture;
let protectedApp: Served;
let offsetMs = 0;
const now = (): Date => new Date(Date.now() + offsetMs);
/** Every credential the run used: none may appear in the logs. */
const secrets = new Set<string>();
const adminId = randomUUID();

let providerId: string;
const clients = {} as Record<'keycloak' | 'okta' | 'entra' | 'robot', { id: string; token?: string; clientId?: string; clientSecret?: string }>;

function keep<T extends string | undefined>(secret: T): T {
  if (secret) secrets.add(secret);
  return secret;
}

async function call(path: string, init: { headers?: Record<string, string>; base?: string } = {}) {
  const response = await fetch(`${init.base ?? protectedApp.url}${path}`, { headers: init.headers ?? {} });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

const bearer = (token: string) => ({ authorization: `Bearer ${keep(token)}` });

async function token(body: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (typeof json.access_token === 'string') keep(json.access_token);
  return { status: response.status, headers: response.headers, body: json };
}

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

/** Asserts the whole refusal: status, challenge and SCIM error body. */
function expectRefused(
  response: Awaited<ReturnType<typeof call>>,
  expected: { status: number; error: 'invalid_token' | 'invalid_request' | 'insufficient_scope' | null; detail: RegExp },
): void {
  expect(response.status).toBe(expected.status);
  expect(response.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge.startsWith('Bearer realm="roster", ')).toBe(true);
  expect(challenge.endsWith(RESOURCE_METADATA)).toBe(true);
  if (expected.error) {
    expect(challenge).toContain(`error="${expected.error}"`);
    // RFC 6750 §3: the description is printable ASCII without quote or backslash, and equals the body's detail.
    const description = /error_description="([\x20-\x21\x23-\x5b\x5d-\x7e]*)"/.exec(challenge)?.[1] ?? '';
    expect(description).toMatch(expected.detail);
    expect(response.body?.detail).toBe(description);
  } else {
    expect(challenge).toBe(`Bearer realm="roster", ${RESOURCE_METADATA}`);
  }
  expect(response.body).toEqual({ schemas: [SCIM_ERROR], status: String(expected.status), detail: expect.stringMatching(expected.detail) });
}

beforeAll(async () => {
  idp = await startTestIdentityProvider({ audience: 'roster-scim' });
  // A 1 s JWKS cooldown lets the rotation test run without waiting jose's default 30 s.
  gateway = await startGatewayFixture({
    env: { PUBLIC_URL, ROSTER_ALLOW_INSECURE_ISSUERS: '1', LOG_LEVEL: 'debug' },
    now,
    auth: { jwksCooldownMs: 1000 },
    startup: false,
  });
  ({ db, config, services } = gateway);
  const logger = gateway.logger;

  const small = new Koa();
  small.use(requestContext(logger));
  small.use(scimAuthentication(services));
  small.use((ctx) => {
    const state = ctx.state as { client: unknown; clientId: string };
    ctx.body = { client: state.client, clientId: state.clientId };
  });
  protectedApp = await serve(small);

  const provider = await services.authProviders.create({ name: 'Test IdP', kind: 'oidc', issuer: idp.issuer, clientId: 'roster-scim' }, adminId);
  providerId = provider.id;
  const keycloak = await services.scimClients.createScimClient({ name: 'Keycloak', authProviderId: providerId, authMethod: 'static_token' }, adminId);
  const okta = await services.scimClients.createScimClient({ name: 'Okta', authProviderId: providerId, authMethod: 'static_token', dataScope: 'own' }, adminId);
  const entra = await services.scimClients.createScimClient({ name: 'Entra', authProviderId: providerId, authMethod: 'oauth_client_credentials' }, adminId);
  const robot = await services.scimClients.createScimClient({ name: 'Robot', authProviderId: providerId, authMethod: 'jwt', jwtSubject: idp.clients.robot.clientId }, adminId);
  clients.keycloak = { id: keycloak.id, token: keep(keycloak.token) };
  clients.okta = { id: okta.id, token: keep(okta.token) };
  clients.entra = { id: entra.id, clientId: entra.clientId, clientSecret: keep(entra.clientSecret) };
  clients.robot = { id: robot.id };
  secrets.add(idp.clients.robot.clientSecret);
});

afterAll(async () => {
  await protectedApp?.close();
  await gateway?.close();
  await idp?.close();
});

describe('happy paths end to end', () => {
  it('a static token authenticates its client and sets ctx.state.client', async () => {
    const response = await call('/protected', { headers: bearer(clients.keycloak.token!) });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      client: { id: clients.keycloak.id, name: 'Keycloak', authProviderId: providerId, dataScope: 'all', method: 'static_token', credentialId: expect.any(String) },
      clientId: clients.keycloak.id,
    });
  });

  it('a static token reaches the real SCIM routes of the gateway', async () => {
    const response = await call('/scim_v2/Users', { base: gateway.url, headers: bearer(clients.okta.token!) });
    expect(response.status).toBe(200);
    expect(response.body?.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
  });

  it('OAuth client credentials (client_secret_basic) give a roster_at_ token that authenticates', async () => {
    const issued = await token({ grant_type: 'client_credentials', scope: 'scim_v2' }, basic(clients.entra.clientId!, clients.entra.clientSecret!));
    expect(issued.status).toBe(200);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.headers.get('pragma')).toBe('no-cache');
    expect(issued.body).toEqual({ access_token: expect.stringMatching(/^roster_at_[A-Za-z0-9_-]{43}$/), token_type: 'Bearer', expires_in: 3600, scope: 'scim_v2' });
    const response = await call('/protected', { headers: bearer(issued.body.access_token as string) });
    expect(response.status).toBe(200);
    expect(response.body?.client).toMatchObject({ id: clients.entra.id, method: 'oauth_client_credentials' });
  });

  it('client_secret_post works too, and a missing scope defaults to scim_v2', async () => {
    const issued = await token({ grant_type: 'client_credentials', client_id: clients.entra.clientId!, client_secret: clients.entra.clientSecret! });
    expect(issued.status).toBe(200);
    expect(issued.body.scope).toBe('scim_v2');
  });

  it('a JWT issued by the real identity provider authenticates the jwt client', async () => {
    const jwt = keep(await idp.issueAccessToken());
    const response = await call('/protected', { headers: bearer(jwt) });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      client: { id: clients.robot.id, name: 'Robot', authProviderId: providerId, dataScope: 'all', method: 'jwt' },
      clientId: clients.robot.id,
    });
  });

  it('an RFC 7523 client assertion signed by the identity provider gets a token for its jwt client', async () => {
    const assertion = keep(await idp.sign({ aud: `${PUBLIC_URL}/oauth/token`, jti: randomUUID() }));
    const issued = await token({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    expect(issued.status).toBe(200);
    const response = await call('/protected', { headers: bearer(issued.body.access_token as string) });
    expect(response.body?.client).toMatchObject({ id: clients.robot.id });
  });

  it('a client assertion may name our issuer as audience and needs no scope', async () => {
    const assertion = keep(await idp.sign({ aud: PUBLIC_URL, scope: undefined, jti: randomUUID() }));
    const issued = await token({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    expect(issued.status).toBe(200);
  });

  it('publishes RFC 8414 and RFC 9728 metadata', async () => {
    const as = await call('/.well-known/oauth-authorization-server', { base: gateway.url });
    expect(as.body).toMatchObject({
      issuer: PUBLIC_URL,
      token_endpoint: `${PUBLIC_URL}/oauth/token`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      scopes_supported: ['scim_v2'],
    });
    const resource = await call('/.well-known/oauth-protected-resource', { base: gateway.url });
    expect(resource.body).toEqual({
      resource: `${PUBLIC_URL}/scim_v2`,
      authorization_servers: [PUBLIC_URL],
      scopes_supported: ['scim_v2'],
      bearer_methods_supported: ['header'],
      resource_name: 'Roster SCIM API',
    });
  });

  it('writes last_used_at of a static token at most once a minute', async () => {
    const tokens = await services.scimClients.listTokens(clients.keycloak.id);
    const first = tokens.items[0]!.lastUsedAt;
    expect(first).toBeInstanceOf(Date);
    await call('/protected', { headers: bearer(clients.keycloak.token!) });
    await services.authenticator.settled();
    expect((await services.scimClients.listTokens(clients.keycloak.id)).items[0]!.lastUsedAt).toEqual(first);
    offsetMs += 61_000;
    try {
      await call('/protected', { headers: bearer(clients.keycloak.token!) });
      await services.authenticator.settled();
      expect((await services.scimClients.listTokens(clients.keycloak.id)).items[0]!.lastUsedAt!.getTime()).toBeGreaterThan(first!.getTime());
    } finally {
      offsetMs -= 61_000;
    }
  });
});

describe('negative matrix', () => {
  const random43 = () => Buffer.from(randomUUID() + randomUUID()).toString('base64url').slice(0, 43);

  it('1. no Authorization header: 401 without error code (RFC 6750 §3.1)', async () => {
    expectRefused(await call('/protected'), { status: 401, error: null, detail: /authentication required/ });
  });

  it('2. Basic instead of Bearer: 401 without error code', async () => {
    expectRefused(await call('/protected', { headers: basic('a', 'b') }), { status: 401, error: null, detail: /Basic authentication scheme is not supported/ });
  });

  it('3. "Bearer" without a token: 400 invalid_request', async () => {
    expectRefused(await call('/protected', { headers: { authorization: 'Bearer' } }), { status: 400, error: 'invalid_request', detail: /malformed/ });
  });

  it('3b. two Authorization headers: 400 invalid_request, even when the first one is valid', async () => {
    // fetch folds repeated headers into one; node:http's setHeader with an array sends one line per value.
    const url = new URL('/protected', protectedApp.url);
    const token = keep(clients.okta.token!);
    const reply = await nodeRequest(url.toString(), {}, (request) => {
      request.setHeader('authorization', [`Bearer ${token}`, 'Bearer other']);
      request.end();
    });
    expect(reply.status).toBe(400);
    expect(reply.text).toContain('send exactly one Authorization header');
  });

  it('4. a token with a space in it: 400 invalid_request', async () => {
    expectRefused(await call('/protected', { headers: { authorization: 'Bearer abc def' } }), { status: 400, error: 'invalid_request', detail: /malformed/ });
  });

  it('5. a token with characters outside b64token: 400 invalid_request', async () => {
    expectRefused(await call('/protected', { headers: { authorization: 'Bearer abc,"def"' } }), { status: 400, error: 'invalid_request', detail: /malformed/ });
  });

  it('6. token in the query string refused even with a valid header', async () => {
    expectRefused(await call(`/protected?access_token=${clients.keycloak.token!}`, { headers: bearer(clients.keycloak.token!) }), {
      status: 400,
      error: 'invalid_request',
      detail: /never in the URL/,
    });
  });

  it('7. an unknown well-formed static token: generic invalid_token', async () => {
    expectRefused(await call('/protected', { headers: bearer(`roster_st_${random43()}`) }), { status: 401, error: 'invalid_token', detail: /^the access token is not valid$/ });
  });

  it('8. a random string gets the same words (nothing revealed)', async () => {
    expectRefused(await call('/protected', { headers: bearer('hello-world') }), { status: 401, error: 'invalid_token', detail: /^the access token is not valid$/ });
  });

  it('9. an unknown roster_at_ token: generic invalid_token', async () => {
    expectRefused(await call('/protected', { headers: bearer(`roster_at_${random43()}`) }), { status: 401, error: 'invalid_token', detail: /^the access token is not valid$/ });
  });

  it('10. a client secret used as a bearer token is refused', async () => {
    expectRefused(await call('/protected', { headers: bearer(clients.entra.clientSecret!) }), { status: 401, error: 'invalid_token', detail: /^the access token is not valid$/ });
  });

  it('11. a revoked static token stops at once in this process, even while cached', async () => {
    const created = await services.scimClients.createStaticToken(clients.keycloak.id, {}, adminId);
    expect((await call('/protected', { headers: bearer(created.token) })).status).toBe(200);
    await services.scimClients.revokeStaticToken(clients.keycloak.id, created.id, adminId);
    expectRefused(await call('/protected', { headers: bearer(created.token) }), { status: 401, error: 'invalid_token', detail: /^the static token ending in .{4} was revoked on \d{4}-/ });
  });

  it('12. a revoked token reaches another process within the cache bound (5 s)', async () => {
    const created = await services.scimClients.createStaticToken(clients.keycloak.id, {}, adminId);
    const other = createServices({ knex: db.knex, config, logger: createLogger('silent'), now });
    expect(await other.authenticator.authenticate(`Bearer ${keep(created.token)}`)).toMatchObject({ client: { id: clients.keycloak.id } });
    await services.scimClients.revokeStaticToken(clients.keycloak.id, created.id, adminId);
    // Still cached over there (the documented bound) ...
    expect(await other.authenticator.authenticate(`Bearer ${created.token}`)).toMatchObject({ client: { id: clients.keycloak.id } });
    offsetMs += config.credentialCacheMs + 1;
    try {
      expect(await other.authenticator.authenticate(`Bearer ${created.token}`)).toMatchObject({ error: 'invalid_token', reason: 'revoked' });
    } finally {
      offsetMs -= config.credentialCacheMs + 1;
      await other.authenticator.settled();
    }
  });

  it('12b. the cache answers without a wait only what authenticate verified, and forgets what it would refuse', async () => {
    const created = await services.scimClients.createStaticToken(clients.keycloak.id, {}, adminId);
    const other = createServices({ knex: db.knex, config, logger: createLogger('silent'), now });
    const { authenticator } = other;
    const header = `Bearer ${keep(created.token)}`;
    try {
      expect(authenticator.authenticateFromCache(header)).toBeUndefined();
      const verified = await authenticator.authenticate(header);
      expect(verified).toMatchObject({ client: { id: clients.keycloak.id } });
      expect(authenticator.authenticateFromCache(header)).toBe(verified);
      expect(authenticator.authenticateFromCache(`bearer   ${created.token}  `)).toBe(verified);
      // What authenticate refuses is never a cache hit: another scheme, a leading space, no header.
      for (const refused of [`Basic ${created.token}`, ` Bearer ${created.token}`, `Bearer ${created.token}x`, undefined]) {
        expect(authenticator.authenticateFromCache(refused), String(refused)).toBeUndefined();
        expect(await authenticator.authenticate(refused)).toBeInstanceOf(AuthError);
      }
      offsetMs += config.credentialCacheMs + 1;
      try {
        expect(authenticator.authenticateFromCache(header)).toBeUndefined();
      } finally {
        offsetMs -= config.credentialCacheMs + 1;
      }
    } finally {
      await authenticator.settled();
    }
  });

  it('13. an expired static token stops at once, cache or not', async () => {
    const created = await services.scimClients.createStaticToken(clients.keycloak.id, { lifetimeDays: 1 }, adminId);
    expect((await call('/protected', { headers: bearer(created.token) })).status).toBe(200);
    offsetMs += 86_400_000 + 1000;
    try {
      expectRefused(await call('/protected', { headers: bearer(created.token) }), { status: 401, error: 'invalid_token', detail: /^the static token ending in .{4} expired on \d{4}-/ });
    } finally {
      offsetMs -= 86_400_000 + 1000;
    }
  });

  it("14. another client's token authenticates only that client and cannot be revoked through this one", async () => {
    const okta = await services.scimClients.listTokens(clients.okta.id);
    await expect(services.scimClients.revokeStaticToken(clients.keycloak.id, okta.items[0]!.id, adminId)).rejects.toMatchObject({ code: 'not_found' });
    const response = await call('/protected', { headers: bearer(clients.okta.token!) });
    expect(response.body?.clientId).toBe(clients.okta.id);
  });

  it('15. an expired access token of ours: invalid_token "expired on"', async () => {
    const issued = await token({ grant_type: 'client_credentials' }, basic(clients.entra.clientId!, clients.entra.clientSecret!));
    offsetMs += 3_601_000;
    try {
      expectRefused(await call('/protected', { headers: bearer(issued.body.access_token as string) }), { status: 401, error: 'invalid_token', detail: /^the access token expired on \d{4}-.*token endpoint$/ });
    } finally {
      offsetMs -= 3_601_000;
    }
  });

  it('16. JWT with a wrong issuer', async () => {
    expectRefused(await call('/protected', { headers: bearer(await idp.sign({ iss: 'http://evil.example' })) }), { status: 401, error: 'invalid_token', detail: /issuer \(iss\) is not a configured authentication provider/ });
  });

  it('17. JWT with an issuer differing only by a trailing slash (exact match)', async () => {
    expectRefused(await call('/protected', { headers: bearer(await idp.sign({ iss: `${idp.issuer}/` })) }), { status: 401, error: 'invalid_token', detail: /issuer \(iss\) is not a configured/ });
  });

  it('18. JWT for another audience, issued by the real provider', async () => {
    const jwt = await idp.issueAccessToken({ resource: TEST_RESOURCES.otherApp });
    expect(decodeJwt(jwt).aud).toBe('other-app');
    expectRefused(await call('/protected', { headers: bearer(jwt) }), { status: 401, error: 'invalid_token', detail: /audience \(aud\) does not contain the client id/ });
  });

  it('19. JWT without scim_v2, issued by the real provider: 403 insufficient_scope', async () => {
    const jwt = await idp.issueAccessToken({ resource: TEST_RESOURCES.readOnly, scope: 'read' });
    const response = await call('/protected', { headers: bearer(jwt) });
    expectRefused(response, { status: 403, error: 'insufficient_scope', detail: /neither scope nor scp with scim_v2/ });
    expect(response.headers.get('www-authenticate')).toContain('scope="scim_v2"');
  });

  it('20. scim_v2 in an scp array (Entra/Okta style) is accepted', async () => {
    const response = await call('/protected', { headers: bearer(await idp.sign({ scope: undefined, scp: ['openid', 'scim_v2'] })) });
    expect(response.status).toBe(200);
  });

  it('21. JWT with a wrong subject, issued by the real provider for another robot', async () => {
    const jwt = await idp.issueAccessToken({ client: idp.clients.other });
    expectRefused(await call('/protected', { headers: bearer(jwt) }), { status: 401, error: 'invalid_token', detail: /subject \(sub\) is not the subject of any SCIM client/ });
  });

  it('22. expired JWT (beyond the 60 s leeway)', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    expectRefused(await call('/protected', { headers: bearer(await idp.sign({ iat: past, exp: past + 600 })) }), { status: 401, error: 'invalid_token', detail: /^the JWT expired on \d{4}-/ });
  });

  it('23. JWT expired 30 s ago is still inside the leeway', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    expect((await call('/protected', { headers: bearer(await idp.sign({ iat: nowSeconds - 300, exp: nowSeconds - 30 })) })).status).toBe(200);
  });

  it('24. JWT not valid yet (nbf in the future)', async () => {
    const future = Math.floor(Date.now() / 1000) + 600;
    expectRefused(await call('/protected', { headers: bearer(await idp.sign({ nbf: future, exp: future + 600 })) }), { status: 401, error: 'invalid_token', detail: /not valid yet before \d{4}-/ });
  });

  it('25. JWT issued in the future (iat)', async () => {
    const future = Math.floor(Date.now() / 1000) + 600;
    expectRefused(await call('/protected', { headers: bearer(await idp.sign({ iat: future, exp: future + 600 })) }), { status: 401, error: 'invalid_token', detail: /issued in the future/ });
  });

  it('26. JWT without exp', async () => {
    expectRefused(await call('/protected', { headers: bearer(await idp.sign({ exp: undefined })) }), { status: 401, error: 'invalid_token', detail: /claim exp/ });
  });

  it('27. alg "none"', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const nowSeconds = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(JSON.stringify({ iss: idp.issuer, aud: 'roster-scim', sub: 'scim-robot', scope: 'scim_v2', iat: nowSeconds, exp: nowSeconds + 300 })).toString('base64url');
    expectRefused(await call('/protected', { headers: bearer(`${header}.${payload}.`) }), { status: 401, error: 'invalid_token', detail: /alg none are not accepted/ });
  });

  it('28. HS256 signed with the public key (algorithm confusion)', async () => {
    const publicKeyBytes = new TextEncoder().encode(JSON.stringify(idp.publicJwk()));
    const jwt = await idp.sign({}, { alg: 'HS256', key: publicKeyBytes });
    expectRefused(await call('/protected', { headers: bearer(jwt) }), { status: 401, error: 'invalid_token', detail: /alg HS256 are not accepted/ });
  });

  it('29. unknown kid: refused, and a flood of made-up kids triggers at most one JWKS refetch', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const before = idp.jwksFetches();
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      const response = await call('/protected', { headers: bearer(await idp.sign({}, { kid: `made-up-${i}`, key: privateKey })) });
      expectRefused(response, { status: 401, error: 'invalid_token', detail: /no key of the provider's JWKS matches/ });
    }
    // One refetch per cooldown period (1 s in this test, 30 s by default) however many tokens arrive.
    expect(idp.jwksFetches() - before).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / 1000));
  });

  it("30. signed by another key under the provider's kid: signature fails", async () => {
    const { privateKey } = await generateKeyPair('RS256');
    expectRefused(await call('/protected', { headers: bearer(await idp.sign({}, { key: privateKey })) }), { status: 401, error: 'invalid_token', detail: /signature does not verify/ });
  });

  it('31. tampered payload (sub changed after signing)', async () => {
    const jwt = await idp.sign({ sub: 'someone-else' });
    const [header, , signature] = jwt.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodeJwt(jwt), sub: 'scim-robot' })).toString('base64url');
    expectRefused(await call('/protected', { headers: bearer(`${header}.${payload}.${signature}`) }), { status: 401, error: 'invalid_token', detail: /signature does not verify/ });
  });

  it('32. key rotation at the provider: new key accepted after one refetch, retired key refused', async () => {
    const oldKey = await idp.signingKey();
    const oldKid = idp.kid();
    await idp.rotateKeys({ dropOld: true });
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the 1 s JWKS cooldown of this test
    const fresh = await idp.issueAccessToken();
    expect(decodeJwt(fresh).sub).toBe('scim-robot');
    expect((await call('/protected', { headers: bearer(fresh) })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const retired = await idp.sign({}, { key: oldKey, kid: oldKid });
    expectRefused(await call('/protected', { headers: bearer(retired) }), { status: 401, error: 'invalid_token', detail: /no key of the provider's JWKS matches/ });
  });

  it('33. a JWT signed with an EdDSA key the provider never published', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA');
    await exportJWK(publicKey);
    const jwt = await new SignJWT({ iss: idp.issuer, aud: 'roster-scim', sub: 'scim-robot', scope: 'scim_v2' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'ed-1' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expectRefused(await call('/protected', { headers: bearer(jwt) }), { status: 401, error: 'invalid_token', detail: /no key of the provider's JWKS matches/ });
  });

  it('34. deleting a client revokes its credentials at once; the refusal is generic', async () => {
    const temp = await services.scimClients.createScimClient({ name: 'Temporary', authProviderId: providerId, authMethod: 'static_token' }, adminId);
    expect((await call('/protected', { headers: bearer(temp.token!) })).status).toBe(200);
    await services.scimClients.deleteScimClient(temp.id, adminId);
    expectRefused(await call('/protected', { headers: bearer(temp.token!) }), { status: 401, error: 'invalid_token', detail: /^the access token is not valid$/ });
  });

  it('35. access tokens stop when the client secret they came from is revoked', async () => {
    const second = await services.scimClients.createClientSecret(clients.entra.id, {}, adminId);
    keep(second.clientSecret);
    const issued = await token({ grant_type: 'client_credentials' }, basic(second.clientId, second.clientSecret));
    expect((await call('/protected', { headers: bearer(issued.body.access_token as string) })).status).toBe(200);
    await services.scimClients.revokeClientSecret(clients.entra.id, second.id, adminId);
    expectRefused(await call('/protected', { headers: bearer(issued.body.access_token as string) }), { status: 401, error: 'invalid_token', detail: /^the access token was revoked on / });
    // The first secret still works: rotation without outage.
    expect((await token({ grant_type: 'client_credentials' }, basic(clients.entra.clientId!, clients.entra.clientSecret!))).status).toBe(200);
  });

  it('records authentication failures in the audit log, counted per address, client and minute, without the credential', async () => {
    await services.authFailures.drain();
    const failures = await services.audit.list({ operationPrefix: 'auth.failure', limit: 1000 });
    expect(failures.items.reduce((sum, event) => sum + Number(event.detail?.count ?? 0), 0)).toBeGreaterThanOrEqual(25);
    expect(failures.total).toBeLessThan(25);
    const reasons = new Set(failures.items.flatMap((event) => Object.keys((event.detail?.reasons ?? {}) as Record<string, unknown>)));
    for (const reason of ['missing', 'unsupported_scheme', 'malformed_header', 'token_in_query', 'unknown_token', 'revoked', 'expired', 'audience', 'subject', 'algorithm', 'unknown_kid', 'signature']) {
      expect(reasons).toContain(reason);
    }
    const serialized = JSON.stringify(failures.items);
    for (const secret of secrets) expect(serialized).not.toContain(secret);
  });
});

describe('token endpoint errors (RFC 6749 §5.2)', () => {
  const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

  it('a wrong secret: 401 invalid_client with a Basic challenge', async () => {
    const response = await token({ grant_type: 'client_credentials' }, basic(clients.entra.clientId!, `roster_cs_${'x'.repeat(43)}`));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="roster", charset="UTF-8"');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('an unknown client id gets the same answer', async () => {
    const response = await token({ grant_type: 'client_credentials', client_id: 'roster_ci_nobody', client_secret: clients.entra.clientSecret! });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('unsupported grant type', async () => {
    const response = await token({ grant_type: 'password' }, basic(clients.entra.clientId!, clients.entra.clientSecret!));
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'unsupported_grant_type', error_description: 'only grant_type=client_credentials is supported' });
  });

  it('a scope without scim_v2: invalid_scope', async () => {
    const response = await token({ grant_type: 'client_credentials', scope: 'openid profile' }, basic(clients.entra.clientId!, clients.entra.clientSecret!));
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_scope', error_description: 'the only scope offered is scim_v2' });
  });

  it('a JSON body is refused', async () => {
    const response = await fetch(`${gateway.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...basic(clients.entra.clientId!, clients.entra.clientSecret!) }, body: '{"grant_type":"client_credentials"}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'the token request must be application/x-www-form-urlencoded (RFC 6749 §4.4.2)' });
  });

  it('two client authentication methods at once are refused', async () => {
    const response = await token({ grant_type: 'client_credentials', client_id: clients.entra.clientId!, client_secret: clients.entra.clientSecret! }, basic(clients.entra.clientId!, clients.entra.clientSecret!));
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_request', error_description: 'use exactly one client authentication method' });
  });

  describe('RFC 7523 §3 claims of a client assertion', () => {
    const exchange = (assertion: string) => token({ grant_type: 'client_credentials', client_assertion_type: assertionType, client_assertion: keep(assertion) });
    const refusedBecause = (pattern: RegExp) => ({ error: 'invalid_client', error_description: expect.stringMatching(pattern) });
    const ours = { aud: `${PUBLIC_URL}/oauth/token` };

    it("refuses the provider's own access token (aud is the provider's client id, not us)", async () => {
      const response = await exchange(await idp.issueAccessToken());
      expect(response.status).toBe(401);
      expect(response.body).toEqual(refusedBecause(/^the client assertion was refused: the client assertion audience \(aud\) must be our token endpoint/));
    });

    it('refuses a second use of the same jti, also from another process on the same database', async () => {
      const assertion = await idp.sign({ ...ours, jti: randomUUID() });
      expect((await exchange(assertion)).status).toBe(200);
      const replay = await exchange(assertion);
      expect(replay.status).toBe(401);
      expect(replay.body).toEqual(refusedBecause(/already used \(jti/));
      const second = await idp.sign({ ...ours, jti: randomUUID() });
      const otherProcess = createServices({ knex: db.knex, config, logger: createLogger('silent'), now });
      expect(await otherProcess.oauthClients.authenticateClientAssertion(second)).toMatchObject({ id: clients.robot.id });
      expect((await exchange(second)).status).toBe(401);
    });

    it('requires jti and iat', async () => {
      expect((await exchange(await idp.sign({ ...ours }))).body).toEqual(refusedBecause(/needs a unique id \(jti\)/));
      expect((await exchange(await idp.sign({ ...ours, jti: randomUUID(), iat: undefined }))).body).toEqual(refusedBecause(/no issued-at time \(iat\)/));
    });

    it('refuses an exp more than 10 minutes after iat', async () => {
      const now = Math.floor(Date.now() / 1000);
      const response = await exchange(await idp.sign({ ...ours, jti: randomUUID(), iat: now, exp: now + 365 * 86_400 }));
      expect(response.status).toBe(401);
      expect(response.body).toEqual(refusedBecause(/exp must be at most 600 seconds after iat/));
      expect((await exchange(await idp.sign({ ...ours, jti: randomUUID(), iat: now, exp: now + 600 }))).status).toBe(200);
    });

    it('refuses an assertion whose scope does not include scim_v2', async () => {
      const response = await exchange(await idp.sign({ ...ours, jti: randomUUID(), scope: 'openid profile' }));
      expect(response.status).toBe(401);
      expect(response.body).toEqual(refusedBecause(/scope does not include scim_v2/));
    });
  });

  it('a client assertion with a wrong audience is refused with the reason', async () => {
    const assertion = await idp.sign({ aud: 'someone-else' });
    const response = await token({ grant_type: 'client_credentials', client_assertion_type: assertionType, client_assertion: keep(assertion) });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'invalid_client', error_description: expect.stringMatching(/^the client assertion was refused: .*audience/) });
  });

  it('repeated failures for one client id are slowed down: 429 with Retry-After', async () => {
    const target = await services.scimClients.createScimClient({ name: 'Throttled', authProviderId: providerId, authMethod: 'oauth_client_credentials' }, adminId);
    keep(target.clientSecret);
    let last: Awaited<ReturnType<typeof token>> | undefined;
    for (let i = 0; i < 12; i++) last = await token({ grant_type: 'client_credentials' }, basic(target.clientId!, `roster_cs_${'y'.repeat(43)}`));
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.body).toMatchObject({ error: 'temporarily_unavailable' });
    // The right secret is never refused by the failure throttle (issue 20, item 3) ...
    expect((await token({ grant_type: 'client_credentials' }, basic(target.clientId!, target.clientSecret!))).status).toBe(200);
    // ... wrong ones keep getting 429 until the window passes, then 401 again.
    expect((await token({ grant_type: 'client_credentials' }, basic(target.clientId!, `roster_cs_${'y'.repeat(43)}`))).status).toBe(429);
    offsetMs += 61_000;
    try {
      expect((await token({ grant_type: 'client_credentials' }, basic(target.clientId!, `roster_cs_${'y'.repeat(43)}`))).status).toBe(401);
    } finally {
      offsetMs -= 61_000;
    }
  });
});

describe('admin-side guarantees', () => {
  it('deleting the provider is refused while SCIM clients use it', async () => {
    await expect(services.authProviders.delete(providerId, adminId)).rejects.toSatisfy((error: unknown) => error instanceof DomainError && error.code === 'in_use');
  });
});

describe('logs', () => {
  it('contain no token, secret or JWT after the whole run', async () => {
    await services.authenticator.settled();
    const text = gateway.logs.join('\n');
    expect(text).toContain('SCIM authentication failed');
    expect(secrets.size).toBeGreaterThan(10);
    for (const secret of secrets) expect(text).not.toContain(secret);
    // No JWT-shaped and no roster_ secret-shaped value at all.
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./);
    expect(text).not.toMatch(/roster_(?:st|at|cs)_[A-Za-z0-9_-]{20,}/);
  });
});
