import { describe, expect, it } from 'vitest';
import { setupApi } from '../test/fake-fetch.ts';
import { useScimClientsStore } from './scim-clients.ts';

const client = {
  id: 'c1',
  name: 'Keycloak',
  authProviderId: 'p1',
  authMethod: 'static_token',
  dataScope: 'all',
  createdAt: '2026-11-28T10:00:00Z',
};

describe('useScimClientsStore', () => {
  it('loads the list with its total', async () => {
    setupApi({ 'GET /api/admin/scim-clients': { body: { items: [client], total: 1 } } });
    const store = useScimClientsStore();
    await store.load();
    expect(store.items).toEqual([client]);
    expect(store.total).toBe(1);
    expect(store.loaded).toBe(true);
  });

  it('returns the one-time token from create but keeps no copy of it', async () => {
    const { server } = setupApi({ 'POST /api/admin/scim-clients': { status: 201, body: { ...client, token: 'rst_secret-token' } } });
    const store = useScimClientsStore();
    const created = await store.create({ name: 'Keycloak', authProviderId: 'p1', authMethod: 'static_token', dataScope: 'all' });
    expect(created.token).toBe('rst_secret-token');
    expect(JSON.stringify(store.$state)).not.toContain('rst_secret-token');
    expect(server.calls[0]!.body).toEqual({ name: 'Keycloak', authProviderId: 'p1', authMethod: 'static_token', dataScope: 'all' });
  });

  it('keeps the OAuth client id (not secret) but drops the client secret', async () => {
    setupApi({
      'POST /api/admin/scim-clients': { status: 201, body: { ...client, authMethod: 'oauth_client_credentials', clientId: 'roster_abc', clientSecret: 'very-secret' } },
    });
    const store = useScimClientsStore();
    await store.create({ name: 'Okta', authProviderId: 'p1', authMethod: 'oauth_client_credentials', dataScope: 'own' });
    expect(store.items[0]!.oauthClientId).toBe('roster_abc');
    expect(JSON.stringify(store.$state)).not.toContain('very-secret');
  });

  it('shows a load error and $reset clears it', async () => {
    setupApi({ 'GET /api/admin/scim-clients': { status: 500, body: { code: 'internal_error', message: 'Internal error' } } });
    const store = useScimClientsStore();
    await store.load();
    expect(store.error).toBe('Internal error');
    store.$reset();
    expect(store.error).toBeNull();
    expect(store.items).toEqual([]);
  });
});
