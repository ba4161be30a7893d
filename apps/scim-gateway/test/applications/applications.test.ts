import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, startTestIdentityProvider, type TestIdentityProvider } from '@roster/auth/testing';
import { startWithAdmin, type Agent, type Gateway } from '../admin-api/harness.js';
import { request, type HttpResponse } from '../support/http.js';

// Applications over real HTTP: registration with one-time credentials, read-only SCIM for directory.read,
// sign-in resolution by claims and by an ID token Roster verifies against a real OpenID provider's keys,
// identity mapping changes that rebuild links, and the activity log. PGlite by default, PostgreSQL with
// TEST_DATABASE_URL.

let gateway: Gateway;
let agent: Agent;
let idp: TestIdentityProvider;
let providerId: string;
let scimToken: string;

/** Waits for a condition with a generous bound (no fixed sleeps). */
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function scim(method: string, path: string, token: string, body?: unknown): Promise<HttpResponse> {
  return request(`${gateway.url}/scim_v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
    contentType: 'application/scim+json',
  });
}

function resolve(token: string | null, body: unknown): Promise<HttpResponse> {
  return request(`${gateway.url}/api/v1/sign-in/resolve`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: JSON.stringify(body),
    contentType: 'application/json',
  });
}

async function createApplication(scopes: string[], authMethod = 'static_token', name = `App ${Math.random().toString(36).slice(2, 8)}`) {
  const response = await agent.post('/api/admin/applications', { name, authMethod, scopes });
  expect(response.status).toBe(201);
  return response.body as { id: string; token?: string; clientId?: string; clientSecret?: string; scopes: string[] };
}

async function provision(userName: string, externalId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await scim('POST', '/Users', scimToken, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, externalId, ...extra });
  expect(response.status).toBe(201);
  return (response.body as { id: string }).id;
}

beforeAll(async () => {
  idp = await startTestIdentityProvider({ audience: 'roster-app' });
  ({ gateway, agent } = await startWithAdmin({ ROSTER_ALLOW_INSECURE_ISSUERS: '1' }));
  const provider = await agent.post('/api/admin/auth-providers', { name: 'Keycloak', kind: 'oidc', issuer: idp.issuer, clientId: 'roster-app', identityMapping: { preset: 'keycloak' } });
  expect(provider.status).toBe(201);
  expect(provider.body).toMatchObject({ identityMapping: { claim: 'sub', attribute: 'externalId' }, linkRebuild: null });
  providerId = (provider.body as { id: string }).id;
  const client = await agent.post('/api/admin/scim-clients', { name: 'Keycloak SCIM', authProviderId: providerId, authMethod: 'static_token' });
  expect(client.status).toBe(201);
  scimToken = (client.body as { token: string }).token;
});

afterAll(async () => {
  await gateway?.close();
  await idp?.close();
});

describe('application registration', () => {
  it('shows the token once, never again, and lists the application without it', async () => {
    const created = await createApplication(['signin.resolve', 'directory.read'], 'static_token', 'Intranet');
    expect(created.token).toMatch(/^roster_ast_[A-Za-z0-9_-]{43}$/);
    expect(created.scopes).toEqual(['directory.read', 'signin.resolve']);
    const fetched = await agent.get(`/api/admin/applications/${created.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual({
      id: created.id,
      name: 'Intranet',
      authMethod: 'static_token',
      scopes: ['directory.read', 'signin.resolve'],
      oauthClientId: null,
      activeCredentials: 1,
      lastUsedAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(fetched.text).not.toContain(created.token!);
    const list = await agent.get('/api/admin/applications?q=intra');
    expect(list.body).toMatchObject({ total: 1, items: [{ id: created.id }] });
    const row = await gateway.db.knex('application_credentials').where('application_id', created.id).first('hash');
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses unknown scopes, methods and duplicate names with a precise 4xx', async () => {
    expect((await agent.post('/api/admin/applications', { name: 'X', authMethod: 'static_token', scopes: ['directory.write'] })).status).toBe(400);
    expect((await agent.post('/api/admin/applications', { name: 'X', authMethod: 'jwt', scopes: ['signin.resolve'] })).status).toBe(400);
    expect((await agent.post('/api/admin/applications', { name: 'X', authMethod: 'static_token', scopes: [] })).body).toMatchObject({ code: 'invalid_input' });
    await createApplication(['signin.resolve'], 'static_token', 'Twice');
    const again = await agent.post('/api/admin/applications', { name: 'twice', authMethod: 'static_token', scopes: ['signin.resolve'] });
    expect([again.status, (again.body as { code: string }).code]).toEqual([409, 'conflict']);
  });

  it('stops a deleted application at once, and fewer scopes apply to its token', async () => {
    const app = await createApplication(['signin.resolve', 'directory.read']);
    expect((await scim('GET', '/Users', app.token!)).status).toBe(200);
    const patched = await agent.patch(`/api/admin/applications/${app.id}`, { scopes: ['signin.resolve'] });
    expect(patched.status).toBe(200);
    expect((await scim('GET', '/Users', app.token!)).status).toBe(403);
    expect((await agent.delete(`/api/admin/applications/${app.id}`)).status).toBe(204);
    expect((await resolve(app.token!, { providerId, claims: { sub: 'x' } })).status).toBe(401);
  });
});

describe('directory.read', () => {
  it('reads over SCIM (GET and POST /.search) and refuses every write with 403 insufficient_scope, changing nothing', async () => {
    const app = await createApplication(['directory.read']);
    const userId = await provision('reader.target', 'kc-reader-target');
    expect((await scim('GET', `/Users/${userId}`, app.token!)).status).toBe(200);
    expect((await scim('GET', '/Users?filter=userName%20eq%20%22reader.target%22', app.token!)).body).toMatchObject({ totalResults: 1 });
    const search = await scim('POST', '/Users/.search', app.token!, { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq "reader.target"' });
    expect(search.status).toBe(200);

    const before = await gateway.db.knex('users').count<Array<{ n: number | string }>>('* as n');
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'intruder' }],
      ['PUT', `/Users/${userId}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'renamed' }],
      ['PATCH', `/Users/${userId}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] }],
      ['DELETE', `/Users/${userId}`, undefined],
      ['POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Intruders' }],
      ['POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] }],
    ];
    for (const [method, path, body] of writes) {
      const response = await scim(method, path, app.token!, body);
      expect([method, path, response.status]).toEqual([method, path, 403]);
      expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      expect(response.headers.get('www-authenticate')).toContain('scope="directory.read"');
    }
    const after = await gateway.db.knex('users').count<Array<{ n: number | string }>>('* as n');
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n));
    expect((await scim('GET', `/Users/${userId}`, app.token!)).body).toMatchObject({ userName: 'reader.target', active: true });
  });

  it('is refused to an application without the scope', async () => {
    const app = await createApplication(['signin.resolve']);
    const response = await scim('GET', '/Users', app.token!);
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });
});

describe('sign-in resolution', () => {
  let token: string;
  let adaId: string;
  beforeAll(async () => {
    token = (await createApplication(['signin.resolve'])).token!;
    adaId = await provision('ada', 'kc-ada', { emails: [{ value: 'Ada@Example.com', primary: true }], displayName: 'Ada Lovelace' });
    const group = await scim('POST', '/Groups', scimToken, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Analysts', members: [{ value: adaId }] });
    expect(group.status).toBe(201);
  });

  it('answers found with the user and groups for the mapped claim', async () => {
    const response = await resolve(token, { providerId, claims: { sub: 'kc-ada', email: 'someone-else@example.com' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toEqual({
      status: 'found',
      user: { id: adaId, userName: 'ada', externalId: 'kc-ada', displayName: 'Ada Lovelace', name: null, emails: [{ value: 'Ada@Example.com', primary: true }], active: true },
      groups: [{ value: expect.any(String), display: 'Analysts' }],
    });
  });

  it('answers inactive with deactivated_by_provider after a SCIM deactivation, and unknown for nobody', async () => {
    const id = await provision('bob', 'kc-bob');
    expect((await resolve(token, { providerId, claims: { sub: 'kc-bob' } })).body).toMatchObject({ status: 'found' });
    const patch = await scim('PATCH', `/Users/${id}`, scimToken, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(patch.status).toBe(200);
    expect((await resolve(token, { providerId, claims: { sub: 'kc-bob' } })).body).toEqual({ status: 'inactive', reason: 'deactivated_by_provider' });
    expect((await resolve(token, { providerId, claims: { sub: 'kc-nobody' } })).body).toEqual({ status: 'unknown' });
  });

  it('answers ambiguous when two active users carry the identity', async () => {
    await provision('twin.one', 'kc-twin');
    await provision('twin.two', 'kc-twin');
    expect((await resolve(token, { providerId, claims: { sub: 'kc-twin' } })).body).toEqual({ status: 'ambiguous' });
  });

  it('refuses bad input with a precise 4xx and never found', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ providerId: '00000000-0000-4000-8000-000000000000', claims: { sub: 'kc-ada' } }, 404, 'not_found'],
      [{ providerId: 'not-a-uuid', claims: { sub: 'kc-ada' } }, 404, 'not_found'],
      [{ providerId, claims: { sub: 42 } }, 400, 'invalid_input'],
      [{ providerId, claims: { email: 'ada@example.com' } }, 400, 'invalid_input'],
      [{ providerId, claims: ['kc-ada'] }, 400, 'invalid_request'],
      [{ providerId }, 400, 'invalid_request'],
      [{ providerId, claims: { sub: 'kc-ada' }, idToken: 'x.y.z' }, 400, 'invalid_request'],
      [{ providerId, claims: { sub: 'kc-ada' }, extra: 1 }, 400, 'invalid_request'],
      [{ claims: { sub: 'kc-ada' } }, 400, 'invalid_request'],
      [{ providerId, idToken: 'not-a-jwt' }, 400, 'invalid_id_token'],
    ];
    for (const [body, status, code] of cases) {
      const response = await resolve(token, body);
      expect([JSON.stringify(body), response.status, (response.body as { code: string }).code]).toEqual([JSON.stringify(body), status, code]);
    }
    const malformed = await request(`${gateway.url}/api/v1/sign-in/resolve`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{"providerId":', contentType: 'application/json' });
    expect([malformed.status, (malformed.body as { code: string }).code]).toEqual([400, 'invalid_json']);
  });

  it('refuses a missing, unknown or under-scoped credential per RFC 6750', async () => {
    const missing = await resolve(null, { providerId, claims: { sub: 'kc-ada' } });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer realm="roster"/);
    expect((await resolve('roster_ast_' + 'A'.repeat(43), { providerId, claims: { sub: 'kc-ada' } })).status).toBe(401);
    const readOnly = await createApplication(['directory.read']);
    const refused = await resolve(readOnly.token!, { providerId, claims: { sub: 'kc-ada' } });
    expect([refused.status, (refused.body as { code: string }).code]).toEqual([403, 'insufficient_scope']);
  });

  it('verifies an ID token against the provider: signature, issuer, audience, expiry and nonce', async () => {
    const now = Math.floor(gateway.clock.now().getTime() / 1000);
    const idToken = (claims: Record<string, unknown> = {}, options: Parameters<TestIdentityProvider['sign']>[1] = {}) =>
      idp.sign({ sub: 'kc-ada', aud: 'roster-app', iat: now, exp: now + 300, nonce: 'n-1', scope: undefined, ...claims }, { typ: 'JWT', ...options });
    const found = await resolve(token, { providerId, idToken: await idToken(), nonce: 'n-1' });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ status: 'found', user: { id: adaId } });

    const { privateKey: foreignKey } = await generateKeyPair('RS256');
    const refusals: Array<[string, string, string]> = [
      ['wrong audience', await idToken({ aud: 'someone-else' }), 'claim_aud'],
      ['wrong issuer', await idToken({ iss: 'https://evil.example' }), 'claim_iss'],
      ['expired', await idToken({ iat: now - 7200, exp: now - 3600 }), 'expired'],
      ['foreign key', await idToken({}, { key: foreignKey }), 'signature'],
      ['HMAC', await idToken({}, { alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)) }), 'algorithm'],
      ['several audiences without azp', await idToken({ aud: ['roster-app', 'other'] }), 'azp'],
    ];
    for (const [what, jwt, reason] of refusals) {
      const response = await resolve(token, { providerId, idToken: jwt });
      expect([what, response.status, response.body]).toEqual([what, 400, { code: 'invalid_id_token', message: expect.stringMatching(/^the ID token/), details: { reason } }]);
    }
    const nonce = await resolve(token, { providerId, idToken: await idToken(), nonce: 'n-2' });
    expect([nonce.status, (nonce.body as { details: { reason: string } }).details.reason]).toEqual([400, 'nonce']);
  });

  it('records resolutions in the activity log as the application', async () => {
    const app = await createApplication(['signin.resolve'], 'static_token', 'Logged app');
    await resolve(app.token!, { providerId, claims: { sub: 'kc-ada' } });
    const event = await until('the resolution in the audit log', async () =>
      gateway.db.knex('audit_events').where({ actor_type: 'application', client_id: app.id, operation: 'signin.resolve' }).first('status', 'detail'),
    );
    expect(event).toMatchObject({ status: 200, detail: { status: 'found', providerId, via: 'claims' } });
    const activity = await agent.get(`/api/admin/activity?clientId=${app.id}`);
    expect(activity.status).toBe(200);
  });
});

describe('OAuth client credentials for applications', () => {
  it('issues an access token with the scopes asked for, and refuses a scope the application does not hold', async () => {
    const app = await createApplication(['signin.resolve', 'directory.read'], 'oauth_client_credentials');
    expect(app.clientId).toMatch(/^roster_aci_/);
    expect(app.clientSecret).toMatch(/^roster_acs_/);
    const basic = `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`;
    const token = async (scope?: string) =>
      request(`${gateway.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic },
        body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }).toString(),
        contentType: 'application/x-www-form-urlencoded',
      });
    const issued = await token('signin.resolve');
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', scope: 'signin.resolve', access_token: expect.stringMatching(/^roster_aat_/) });
    const accessToken = (issued.body as { access_token: string }).access_token;
    expect((await resolve(accessToken, { providerId, claims: { sub: 'kc-ada' } })).body).toMatchObject({ status: 'found' });
    // Granted signin.resolve only: SCIM reads need a token asked for directory.read.
    expect((await scim('GET', '/Users', accessToken)).status).toBe(403);
    const all = await token();
    expect((all.body as { scope: string }).scope).toBe('directory.read signin.resolve');
    const refused = await token('events.poll');
    expect([refused.status, (refused.body as { error: string }).error]).toEqual([400, 'invalid_scope']);
    const wrongSecret = await request(`${gateway.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${app.clientId}:roster_acs_${'B'.repeat(43)}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect([wrongSecret.status, (wrongSecret.body as { error: string }).error]).toEqual([401, 'invalid_client']);
    // Refusals are counted into one aggregate row per (address, application, minute), written every few seconds.
    const logged = await until(
      'the refusal in the activity log',
      async () => gateway.db.knex('audit_events').where({ actor_type: 'application', operation: 'auth.failure' }).whereRaw("detail ->> 'surface' = 'oauth'").first('status', 'detail', 'client_id'),
      60_000,
    );
    // The application's own failure (client_id), so its page in the activity log shows it.
    expect(logged).toMatchObject({ status: 401, client_id: app.id, detail: { aggregate: true, reason: 'wrong_secret', path: '/oauth/token', count: 1 } });
  });
});

describe('a SCIM client moved to another provider', () => {
  it("relinks the client's users to the new provider in the background", async () => {
    const app = await createApplication(['signin.resolve']);
    const other = await agent.post('/api/admin/auth-providers', { name: 'Okta', kind: 'oidc', issuer: idp.issuer, clientId: 'roster-app', identityMapping: { preset: 'okta' } });
    expect(other.status).toBe(201);
    const otherId = (other.body as { id: string }).id;
    const client = await agent.post('/api/admin/scim-clients', { name: 'Moving SCIM client', authProviderId: providerId, authMethod: 'static_token' });
    const movingToken = (client.body as { token: string }).token;
    const created = await scim('POST', '/Users', movingToken, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'mover', externalId: 'okta-00u1' });
    expect(created.status).toBe(201);
    expect((await resolve(app.token!, { providerId: otherId, claims: { sub: 'okta-00u1' } })).body).toEqual({ status: 'unknown' });

    expect((await agent.patch(`/api/admin/scim-clients/${(client.body as { id: string }).id}`, { authProviderId: otherId })).status).toBe(200);
    await until('the rebuild on the new provider', async () => {
      const provider = (await agent.get(`/api/admin/auth-providers/${otherId}`)).body as { linkRebuild: { status: string; reason: string } | null };
      return provider.linkRebuild?.status === 'done' ? provider.linkRebuild : undefined;
    });
    expect((await resolve(app.token!, { providerId: otherId, claims: { sub: 'okta-00u1' } })).body).toMatchObject({ status: 'found', user: { userName: 'mover' } });
  });
});

describe('identity mapping changes', () => {
  it('rebuild the links in the background, with progress on the provider, and resolution follows the new claim', async () => {
    const app = await createApplication(['signin.resolve']);
    await provision('grace', 'kc-grace', { emails: [{ value: 'Grace@Example.com', primary: true }] });
    expect((await resolve(app.token!, { providerId, claims: { sub: 'kc-grace' } })).body).toMatchObject({ status: 'found' });

    const patched = await agent.patch(`/api/admin/auth-providers/${providerId}`, { identityMapping: { claim: 'email', attribute: 'email' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ identityMapping: { claim: 'email', attribute: 'email' }, linkRebuild: { reason: 'mapping_changed', total: expect.any(Number) } });
    const done = await until('the rebuild to finish', async () => {
      const provider = (await agent.get(`/api/admin/auth-providers/${providerId}`)).body as { linkRebuild: { status: string; processed: number; total: number } };
      return provider.linkRebuild.status === 'done' ? provider.linkRebuild : undefined;
    });
    expect(done.processed).toBe(done.total);
    expect((await resolve(app.token!, { providerId, claims: { email: 'GRACE@example.com' } })).body).toMatchObject({ status: 'found', user: { userName: 'grace' } });
    expect((await resolve(app.token!, { providerId, claims: { sub: 'kc-grace', email: 'nobody@example.com' } })).body).toEqual({ status: 'unknown' });
    // A user without an email has no link now, and one written later is linked by the new mapping at once.
    await provision('hopper', 'kc-hopper', { emails: [{ value: 'hopper@example.com' }] });
    expect((await resolve(app.token!, { providerId, claims: { email: 'hopper@example.com' } })).body).toMatchObject({ status: 'found', user: { userName: 'hopper' } });

    const presets = await agent.get('/api/admin/identity-mapping-presets');
    expect((presets.body as { items: Array<{ name: string }> }).items.map((preset) => preset.name)).toEqual(['keycloak', 'entra_id', 'okta', 'generic_oidc', 'generic_saml']);
    const invalid = await agent.patch(`/api/admin/auth-providers/${providerId}`, { identityMapping: { claim: 'email', attribute: 'password' } });
    expect(invalid.status).toBe(400);
    const wrongKind = await agent.patch(`/api/admin/auth-providers/${providerId}`, { identityMapping: { preset: 'generic_saml' } });
    expect([wrongKind.status, (wrongKind.body as { message: string }).message]).toEqual([400, expect.stringContaining('SAML')]);
  });
});
