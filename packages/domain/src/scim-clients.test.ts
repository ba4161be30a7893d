import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createAuditService } from './audit.js';
import { createAuthProviderService, type DiscoverIssuer, type OidcProviderMetadata } from './auth-providers.js';
import { DomainError } from './errors.js';
import { createScimClientService, hashSecret, type CredentialRevocationListener } from './scim-clients.js';

// Admin-side services against a real database; OpenID Connect discovery is a fake here (the real one runs
// against a live provider in the gateway's scim-auth tests).

const ISSUER = 'https://idp.example.test';
const discover: DiscoverIssuer = async (issuer) => {
  if (issuer !== ISSUER) return { ok: false, error: { code: 'OAUTH_RESPONSE_IS_NOT_CONFORM', message: 'unexpected HTTP response status code' } };
  const metadata: OidcProviderMetadata = { issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token`, discovered_at: '2026-11-28T00:00:00.000Z' };
  return { ok: true, metadata };
};
const samlXml = readFileSync(new URL('./fixtures/saml-idp-metadata.xml', import.meta.url), 'utf8');

let db: TestDatabase;
const now = new Date('2026-11-28T12:00:00Z');
const revoked: string[] = [];
const listener: CredentialRevocationListener = {
  clientRevoked: (id) => revoked.push(`client:${id}`),
  credentialRevoked: (id) => revoked.push(`credential:${id}`),
};
const adminId = randomUUID();
let providers: ReturnType<typeof createAuthProviderService>;
let clients: ReturnType<typeof createScimClientService>;
let oidcId: string;
let samlId: string;

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).code;
  }
  throw new Error('expected a DomainError');
}

beforeAll(async () => {
  db = await createTestDatabase();
  const audit = createAuditService(db.knex);
  providers = createAuthProviderService(db.knex, { discover, audit });
  clients = createScimClientService(db.knex, { audit, clock: () => now, onRevoked: listener });
});
afterAll(() => db?.destroy());

describe('authentication providers', () => {
  it('creates an OIDC provider from discovery, never returning the client secret', async () => {
    const provider = await providers.create({ name: 'Keycloak', kind: 'oidc', issuer: ISSUER, clientId: 'roster', clientSecret: 's3cret-value' }, adminId);
    oidcId = provider.id;
    expect(provider).toMatchObject({ name: 'Keycloak', kind: 'oidc', issuer: ISSUER, clientId: 'roster', hasClientSecret: true, metadata: { jwks_uri: `${ISSUER}/jwks` } });
    expect(JSON.stringify(provider)).not.toContain('s3cret-value');
    expect(JSON.stringify(await providers.list())).not.toContain('s3cret-value');
  });

  it('refuses an OIDC provider whose discovery fails, with the exact error', async () => {
    const error = await providers.create({ name: 'Broken', kind: 'oidc', issuer: 'https://broken.example.test', clientId: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_input', message: 'OpenID Connect discovery for https://broken.example.test failed: unexpected HTTP response status code', details: { field: 'issuer', discoveryError: 'OAUTH_RESPONSE_IS_NOT_CONFORM' } });
    expect(await providers.testDiscovery('https://broken.example.test')).toEqual({ ok: false, error: { code: 'OAUTH_RESPONSE_IS_NOT_CONFORM', message: 'unexpected HTTP response status code' } });
  });

  it('creates a SAML provider from metadata XML', async () => {
    const provider = await providers.create({ name: 'Entra SAML', kind: 'saml', metadataXml: samlXml }, adminId);
    samlId = provider.id;
    expect(provider).toMatchObject({ kind: 'saml', issuer: 'https://idp.example.test/realms/acme', hasClientSecret: false, metadata: { entityId: 'https://idp.example.test/realms/acme', signingCertificate: { subject: 'CN=idp.example.test' } } });
  });

  it('maps a duplicate name (any case) to conflict', async () => {
    expect(await code(providers.create({ name: 'KEYCLOAK', kind: 'saml', metadataXml: samlXml }))).toBe('conflict');
  });

  it('updates the secret without returning it and can remove it', async () => {
    expect((await providers.update(oidcId, { clientSecret: null }, adminId)).hasClientSecret).toBe(false);
    expect((await providers.update(oidcId, { clientSecret: 'again' }, adminId)).hasClientSecret).toBe(true);
  });
});

describe('SCIM clients', () => {
  let staticId: string;
  let oauthId: string;
  let staticToken: string;

  it('creates a static-token client and shows its token once', async () => {
    const created = await clients.createScimClient({ name: 'Keycloak SCIM', authProviderId: oidcId, authMethod: 'static_token' }, adminId);
    staticId = created.id;
    staticToken = created.token!;
    expect(staticToken).toMatch(/^roster_st_[A-Za-z0-9_-]{43}$/);
    const row = (await db.knex('scim_credentials').where('client_id', staticId).first('hash', 'hint', 'expires_at')) as { hash: string; hint: string; expires_at: Date };
    expect(row).toEqual({ hash: hashSecret(staticToken), hint: staticToken.slice(-4), expires_at: new Date('2027-11-28T12:00:00Z') });
    const fetched = await clients.getScimClient(staticId);
    expect(fetched).not.toHaveProperty('token');
    expect(fetched.credentials).toEqual({ active: 1, soonestExpiry: new Date('2027-11-28T12:00:00Z'), expiringSoon: false });
  });

  it('creates an OAuth client with a client id and secret shown once', async () => {
    const created = await clients.createScimClient({ name: 'Entra', authProviderId: samlId, authMethod: 'oauth_client_credentials' }, adminId);
    oauthId = created.id;
    expect(created.clientId).toMatch(/^roster_ci_/);
    expect(created.clientSecret).toMatch(/^roster_cs_[A-Za-z0-9_-]{43}$/);
    expect(created.oauthClientId).toBe(created.clientId);
    expect(JSON.stringify(await clients.listScimClients())).not.toContain(created.clientSecret);
  });

  it('requires an OIDC provider and a subject for the jwt method, and returns no secret', async () => {
    expect(await code(clients.createScimClient({ name: 'J1', authProviderId: samlId, authMethod: 'jwt', jwtSubject: 'robot' }))).toBe('invalid_input');
    expect(await code(clients.createScimClient({ name: 'J2', authProviderId: oidcId, authMethod: 'jwt' }))).toBe('invalid_input');
    const created = await clients.createScimClient({ name: 'Robot', authProviderId: oidcId, authMethod: 'jwt', jwtSubject: 'robot' });
    expect(created).not.toHaveProperty('token');
    expect(created).not.toHaveProperty('clientSecret');
    expect(created.credentials.active).toBe(0);
  });

  it('refuses a duplicate name, an unknown provider and a changed auth method', async () => {
    expect(await code(clients.createScimClient({ name: 'keycloak scim', authProviderId: oidcId, authMethod: 'static_token' }))).toBe('conflict');
    expect(await code(clients.createScimClient({ name: 'X', authProviderId: randomUUID(), authMethod: 'static_token' }))).toBe('invalid_input');
    expect(await code(clients.updateScimClient(staticId, { authMethod: 'jwt' }))).toBe('immutable');
    expect((await clients.updateScimClient(staticId, { name: 'Keycloak (prod)', dataScope: 'own' }, adminId)).dataScope).toBe('own');
  });

  it('limits token lifetime to 365 days and flags tokens expiring within 30 days', async () => {
    expect(await code(clients.createStaticToken(staticId, { lifetimeDays: 366 }))).toBe('invalid_input');
    const short = await clients.createStaticToken(staticId, { lifetimeDays: 10 }, adminId);
    expect(short.expiresAt).toEqual(new Date('2026-12-08T12:00:00Z'));
    expect((await clients.getScimClient(staticId)).credentials).toEqual({ active: 2, soonestExpiry: short.expiresAt, expiringSoon: true });
    expect(await code(clients.createStaticToken(oauthId))).toBe('invalid_input');
  });

  it('revokes idempotently, tells the cache, and refuses another client\'s token', async () => {
    const tokens = await clients.listTokens(staticId);
    const target = tokens.items[0]!;
    const first = await clients.revokeStaticToken(staticId, target.id, adminId);
    const second = await clients.revokeStaticToken(staticId, target.id, adminId);
    expect(first.status).toBe('revoked');
    expect(second.revokedAt).toEqual(first.revokedAt);
    expect(revoked).toContain(`credential:${target.id}`);
    expect(await code(clients.revokeStaticToken(oauthId, target.id))).toBe('not_found');
    expect(await code(clients.revokeStaticToken(staticId, 'not-a-uuid'))).toBe('not_found');
  });

  it('keeps several client secrets active for rotation', async () => {
    await clients.createClientSecret(oauthId, {}, adminId);
    const secrets = await clients.listSecrets(oauthId);
    expect(secrets.items.filter((secret) => secret.status === 'active')).toHaveLength(2);
    await clients.revokeClientSecret(oauthId, secrets.items[0]!.id, adminId);
    expect((await clients.getScimClient(oauthId)).credentials.active).toBe(1);
  });

  it('reports users provisioned and last activity', async () => {
    await db.knex('users').insert([{ user_name: 'a', created_by_client_id: staticId }, { user_name: 'b', created_by_client_id: staticId }]);
    expect((await clients.getScimClient(staticId)).lastActivityAt).toBeNull();
    const at = new Date('2026-11-28T11:59:00Z');
    await db.knex('audit_events').insert({ at, actor_type: 'scim_client', client_id: staticId, operation: 'scim.user.create', status: 201 });
    const client = await clients.getScimClient(staticId);
    expect(client.usersProvisioned).toBe(2);
    expect(client.lastActivityAt).toEqual(at);
  });

  it('refuses to delete a provider in use', async () => {
    const error = await providers.delete(oidcId).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'in_use', details: { clients: expect.arrayContaining([expect.objectContaining({ name: 'Robot' })]) } });
  });

  it('deletes a client with all its credentials; its users stay', async () => {
    await clients.deleteScimClient(staticId, adminId);
    expect(revoked).toContain(`client:${staticId}`);
    expect(await db.knex('scim_credentials').where('client_id', staticId).count<Array<{ count: number }>>('* as count')).toEqual([{ count: 0 }]);
    expect(await db.knex('users').whereIn('user_name', ['a', 'b']).count<Array<{ count: number }>>('* as count')).toEqual([{ count: 2 }]);
    expect(await code(clients.getScimClient(staticId))).toBe('not_found');
  });

  it('records every admin operation in the audit log', async () => {
    const { items } = await createAuditService(db.knex).list({ adminId, limit: 100 });
    const operations = new Set(items.map((event) => event.operation));
    for (const operation of ['admin.auth_provider.create', 'admin.auth_provider.update', 'admin.scim_client.create', 'admin.scim_client.update', 'admin.scim_client.token.create', 'admin.scim_client.token.revoke', 'admin.scim_client.secret.create', 'admin.scim_client.secret.revoke', 'admin.scim_client.delete']) {
      expect(operations).toContain(operation);
    }
    expect(JSON.stringify(items)).not.toMatch(/roster_(st|cs)_/);
  });
});
