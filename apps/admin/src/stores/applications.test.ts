import { describe, expect, it } from 'vitest';
import { setupApi } from '../test/fake-fetch.ts';
import { useApplicationsStore } from './applications.ts';

const application = {
  id: 'a1',
  name: 'Intranet',
  authMethod: 'static_token',
  scopes: ['signin.resolve'],
  oauthClientId: null,
  activeCredentials: 1,
  lastUsedAt: null,
  createdAt: '2026-12-07T10:00:00Z',
  updatedAt: '2026-12-07T10:00:00Z',
};

describe('useApplicationsStore', () => {
  it('returns the one-time token from create but keeps no copy of it', async () => {
    const { server } = setupApi({ 'POST /api/admin/applications': { status: 201, body: { ...application, token: 'roster_ast_secret' } } });
    const store = useApplicationsStore();
    const created = await store.create({ name: 'Intranet', authMethod: 'static_token', scopes: ['signin.resolve'] });
    expect(created.token).toBe('roster_ast_secret');
    expect(JSON.stringify(store.$state)).not.toContain('roster_ast_secret');
    expect(store.items.map((item) => item.id)).toEqual(['a1']);
    expect(server.calls[0]!.body).toEqual({ name: 'Intranet', authMethod: 'static_token', scopes: ['signin.resolve'] });
  });

  it('drops the client secret of an OAuth application', async () => {
    setupApi({ 'POST /api/admin/applications': { status: 201, body: { ...application, authMethod: 'oauth_client_credentials', oauthClientId: 'roster_aci_x', clientId: 'roster_aci_x', clientSecret: 'roster_acs_secret' } } });
    const store = useApplicationsStore();
    await store.create({ name: 'Intranet', authMethod: 'oauth_client_credentials', scopes: ['directory.read'] });
    expect(store.items[0]!.oauthClientId).toBe('roster_aci_x');
    expect(JSON.stringify(store.$state)).not.toContain('roster_acs_secret');
  });

  it('loads and removes applications', async () => {
    setupApi({ 'GET /api/admin/applications': { body: { items: [application], total: 1 } }, 'DELETE /api/admin/applications/a1': { status: 204 } });
    const store = useApplicationsStore();
    await store.load();
    expect(store.items).toEqual([application]);
    await store.remove('a1');
    expect(store.items).toEqual([]);
  });
});
