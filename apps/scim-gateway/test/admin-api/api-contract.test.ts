import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminRouter, createAdminRoutes } from '../../src/admin-api/index.js';
import { Agent, ISO, UUID, insertProvider, startWithAdmin, type Gateway } from './harness.js';

const SAML_XML = fs.readFileSync(new URL('../../../../packages/domain/src/fixtures/saml-idp-metadata.xml', import.meta.url), 'utf8');

describe('admin API contract: errors, OpenAPI, providers, SCIM clients, secrets', () => {
  let gateway: Gateway;
  let agent: Agent;
  const secrets: string[] = [];

  beforeAll(async () => {
    ({ gateway, agent } = await startWithAdmin());
  });
  afterAll(async () => gateway?.close());

  it('answers malformed JSON with 400 invalid_json', async () => {
    const response = await agent.request('PATCH', '/api/admin/settings', { raw: '{"usersDeletableByAdmins": tru', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: 'invalid_json', message: expect.stringMatching(/^The request body is not valid JSON: /) });
  });

  it('answers a body over 1 MB with 413 and a non-JSON body with 415', async () => {
    const big = await agent.request('PATCH', '/api/admin/settings', { raw: JSON.stringify({ x: 'a'.repeat(1024 * 1024) }), headers: { 'content-type': 'application/json' } });
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ code: 'payload_too_large', message: 'Request body exceeds 1048576 bytes' });
    const form = await agent.request('PATCH', '/api/admin/settings', { raw: 'usersDeletableByAdmins=true', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(form.body).toEqual({ code: 'unsupported_media_type', message: 'Send the request body as application/json' });
  });

  it('answers unknown admin paths with JSON 404 and wrong methods with 405 + Allow', async () => {
    const missing = await agent.get('/api/admin/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: 'not_found', message: 'No admin API route GET /api/admin/nope' });
    const wrong = await agent.request('PUT', '/api/admin/settings', { json: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('HEAD, GET, PATCH');
    expect(wrong.body).toEqual({ code: 'method_not_allowed', message: 'PUT is not allowed here; use HEAD, GET, PATCH' });
  });

  it('answers an unexpected failure with a generic 500 carrying the request id, logged with that id', async () => {
    const original = gateway.services.settings.get;
    gateway.services.settings.get = async () => {
      throw new Error('connection to 10.0.0.5 refused (password=hunter2)');
    };
    try {
      const response = await agent.get('/api/admin/settings', { 'x-request-id': 'req-500-test' });
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ code: 'internal_error', message: 'Internal error', requestId: 'req-500-test' });
      expect(response.text).not.toContain('hunter2');
      const logged = gateway.logLines.find((line) => line.msg === 'admin api: unhandled error');
      expect(logged).toMatchObject({ level: 50, requestId: 'req-500-test', path: '/api/admin/settings' });
    } finally {
      gateway.services.settings.get = original;
    }
  });

  it('documents every mounted route in the OpenAPI 3.1 document, and nothing else', async () => {
    const response = await new Agent(gateway.url).get('/api/admin/openapi.json');
    expect(response.status).toBe(200);
    const doc = response.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)).sort();
    const router = buildAdminRouter(createAdminRoutes({ config: gateway.config, services: gateway.services }), { config: gateway.config, services: gateway.services });
    const mounted = router.stack
      .flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method} ${String(layer.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`))
      .sort();
    expect(mounted.length).toBeGreaterThan(30);
    expect(documented).toEqual(mounted);
    for (const path of Object.keys(doc.paths)) expect(path.startsWith('/api/admin/') || path === '/api/admin').toBe(true);
    expect(doc.paths['/api/admin/scim-clients/{id}/tokens/{tokenId}']?.delete).toMatchObject({
      security: [{ sessionCookie: [], csrfToken: [] }],
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        { name: 'tokenId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
      ],
    });
  });

  it('manages a SAML provider from pasted metadata: create, read, rename, refuse kind change, delete', async () => {
    const created = await agent.post('/api/admin/auth-providers', { name: 'Corporate SAML', kind: 'saml', metadataXml: SAML_XML });
    expect(created.status).toBe(201);
    const provider = created.body as Record<string, unknown>;
    expect(provider).toMatchObject({ id: expect.stringMatching(UUID), name: 'Corporate SAML', kind: 'saml', clientId: null, hasClientSecret: false, scimClientCount: 0, createdAt: expect.stringMatching(ISO) });
    expect(provider.entityId).toEqual(expect.any(String));
    const id = provider.id as string;
    expect((await agent.get(`/api/admin/auth-providers/${id}`)).body).toEqual(provider);
    const renamed = await agent.patch(`/api/admin/auth-providers/${id}`, { name: 'Corporate SAML 2' });
    expect(renamed.status).toBe(200);
    expect((renamed.body as { name: string }).name).toBe('Corporate SAML 2');
    const kind = await agent.patch(`/api/admin/auth-providers/${id}`, { kind: 'oidc' });
    expect(kind.status).toBe(400);
    expect(kind.body).toEqual({ code: 'immutable', message: 'The kind of an authentication provider cannot change; add a new provider instead', details: { field: 'kind' } });
    const wrongFields = await agent.post('/api/admin/auth-providers', { name: 'x', kind: 'saml', issuer: 'https://idp.example.com' });
    expect(wrongFields.status).toBe(400);
    expect((wrongFields.body as { details: unknown }).details).toEqual({ issues: [{ path: 'issuer', message: 'is not a known field (expected name, kind, metadataXml, metadataUrl, identityMapping)' }] });
    expect((await agent.delete(`/api/admin/auth-providers/${id}`)).status).toBe(204);
    expect((await agent.get(`/api/admin/auth-providers/${id}`)).status).toBe(404);
  });

  it('reports a failed discovery test with the exact error', async () => {
    const response = await agent.post('/api/admin/auth-providers/test-discovery', { issuer: 'http://127.0.0.1:9/realms/x' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'discovery_failed', message: expect.stringMatching(/^OpenID Connect discovery for http:\/\/127\.0\.0\.1:9\/realms\/x failed: /), details: { field: 'issuer' } });
  });

  it('creates SCIM clients whose 201 carries the one-time secret, and manages tokens and secrets', async () => {
    const providerId = await insertProvider(gateway);
    const staticClient = await agent.post('/api/admin/scim-clients', { name: 'Keycloak', authProviderId: providerId, authMethod: 'static_token' });
    expect(staticClient.status).toBe(201);
    const created = staticClient.body as Record<string, unknown>;
    expect(created).toMatchObject({ id: expect.stringMatching(UUID), name: 'Keycloak', authMethod: 'static_token', dataScope: 'all', token: expect.stringMatching(/^roster_st_/) });
    expect(created.clientSecret).toBeUndefined();
    secrets.push(created.token as string);

    const oauth = await agent.post('/api/admin/scim-clients', { name: 'Entra', authProviderId: providerId, authMethod: 'oauth_client_credentials', dataScope: 'own' });
    expect(oauth.status).toBe(201);
    const oauthBody = oauth.body as Record<string, string>;
    expect(oauthBody).toMatchObject({ clientId: expect.stringMatching(/^roster_ci_/), clientSecret: expect.stringMatching(/^roster_cs_/) });
    expect(oauthBody.token).toBeUndefined();
    secrets.push(oauthBody.clientSecret!);

    const staticId = created.id as string;
    const token = await agent.post(`/api/admin/scim-clients/${staticId}/tokens`, { lifetimeDays: 30 });
    expect(token.status).toBe(201);
    expect(token.body).toMatchObject({ id: expect.stringMatching(UUID), kind: 'static_token', status: 'active', token: expect.stringMatching(/^roster_st_/) });
    secrets.push((token.body as { token: string }).token);
    const secret = await agent.post(`/api/admin/scim-clients/${oauthBody.id}/secrets`, {});
    expect(secret.status).toBe(201);
    secrets.push((secret.body as { clientSecret: string }).clientSecret);

    const tokens = await agent.get(`/api/admin/scim-clients/${staticId}/tokens`);
    expect((tokens.body as { total: number }).total).toBe(2);
    const revoke = await agent.delete(`/api/admin/scim-clients/${staticId}/tokens/${(token.body as { id: string }).id}`);
    expect(revoke.status).toBe(204);
    const after = (await agent.get(`/api/admin/scim-clients/${staticId}/tokens`)).body as { items: Array<{ id: string; status: string }> };
    expect(after.items.find((item) => item.id === (token.body as { id: string }).id)?.status).toBe('revoked');

    const wrongKind = await agent.post(`/api/admin/scim-clients/${staticId}/secrets`, {});
    expect(wrongKind.status).toBe(400);
    expect((wrongKind.body as { code: string }).code).toBe('invalid_input');
    const immutable = await agent.patch(`/api/admin/scim-clients/${staticId}`, { authMethod: 'jwt' });
    expect(immutable.status).toBe(400);
    expect((immutable.body as { code: string }).code).toBe('immutable');
    const renamed = await agent.patch(`/api/admin/scim-clients/${staticId}`, { name: 'Keycloak prod' });
    expect((renamed.body as { name: string }).name).toBe('Keycloak prod');
    const inUse = await agent.delete(`/api/admin/auth-providers/${providerId}`);
    expect(inUse.status).toBe(409);
    expect((inUse.body as { code: string }).code).toBe('in_use');
    expect((await agent.get('/api/admin/scim-clients/not-a-uuid/tokens')).status).toBe(404);
    expect((await agent.get('/api/admin/scim-clients/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const audit = await gateway.db.knex('audit_events').where('operation', 'like', 'admin.scim_client.%').select('actor_type').distinct();
    expect(audit).toEqual([{ actor_type: 'admin' }]);
  });

  it('never returns a secret, a hash or a provider client secret from any GET', async () => {
    expect(secrets.length).toBe(4);
    const clients = (await agent.get('/api/admin/scim-clients')).body as { items: Array<{ id: string }> };
    const paths = ['/api/admin/scim-clients', '/api/admin/auth-providers', '/api/admin/activity?limit=500', '/api/admin/activity.csv', '/api/admin/admins', '/api/admin/session', '/api/admin/openapi.json'];
    for (const client of clients.items) paths.push(`/api/admin/scim-clients/${client.id}`, `/api/admin/scim-clients/${client.id}/tokens`, `/api/admin/scim-clients/${client.id}/secrets`);
    const hashes = ((await gateway.db.knex('scim_credentials').select('hash')) as Array<{ hash: string }>).map((row) => row.hash);
    const adminHashes = ((await gateway.db.knex('admins').select('password_hash')) as Array<{ password_hash: string }>).map((row) => row.password_hash);
    for (const path of paths) {
      const response = await agent.get(path);
      expect(response.status, path).toBe(200);
      for (const value of [...secrets, ...hashes, ...adminHashes, 'provider-secret-value']) expect(response.text, path).not.toContain(value);
      // The OpenAPI document names these fields in its schemas; every other GET must never carry them.
      if (path !== '/api/admin/openapi.json') expect(/"(token|clientSecret|hash|password_hash|client_secret)"\s*:/.test(response.text), path).toBe(false);
    }
  });
});
