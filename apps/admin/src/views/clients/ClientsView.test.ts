import { afterEach, describe, expect, it } from 'vitest';
import ClientsView from './ClientsView.vue';
import { settle, setupApi } from '../../test/fake-fetch.ts';
import { mountWithApp } from '../../test/mount.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const providers = { body: { items: [{ id: 'p1', name: 'Keycloak', kind: 'oidc' }], total: 1 } };

describe('ClientsView', () => {
  it('shows the empty state with the "+ SCIM client" button', async () => {
    const { pinia } = setupApi({ 'GET /api/admin/scim-clients': { body: { items: [], total: 0 } }, 'GET /api/admin/auth-providers': providers });
    const { wrapper } = await mountWithApp(ClientsView, pinia, { path: '/clients' });
    await settle();
    expect(wrapper.text()).toContain('No SCIM clients configured yet');
    expect(wrapper.find('a[href="/admin/clients/new"]').text()).toBe('+ SCIM client');
    wrapper.unmount();
  });

  it('lists clients with provider, method, users provisioned and a link to each', async () => {
    const { pinia } = setupApi({
      'GET /api/admin/scim-clients': {
        body: {
          items: [{ id: 'c1', name: 'KC prod', authProviderId: 'p1', authMethod: 'oauth_client_credentials', dataScope: 'all', usersProvisioned: 42, lastActivityAt: null, createdAt: '2026-11-01T00:00:00Z', credentials: { active: 1, soonestExpiry: '2099-01-01T00:00:00Z', expiringSoon: false } }],
          total: 1,
        },
      },
      'GET /api/admin/auth-providers': providers,
    });
    const { wrapper } = await mountWithApp(ClientsView, pinia, { path: '/clients' });
    await settle();
    const cells = wrapper.findAll('tbody td').map((td) => td.text());
    expect(cells.slice(0, 6)).toEqual(['KC prod', 'Keycloak', 'OAuth 2.0 client credentials', '42', 'Never', 'OK']);
    expect(wrapper.find('tbody a').attributes('href')).toBe('/admin/clients/c1');
    wrapper.unmount();
  });

  it('shows a load error with a retry button', async () => {
    const { pinia, server } = setupApi({ 'GET /api/admin/scim-clients': { status: 500, body: { code: 'internal_error', message: 'Internal error' } }, 'GET /api/admin/auth-providers': providers });
    const { wrapper } = await mountWithApp(ClientsView, pinia, { path: '/clients' });
    await settle();
    expect(wrapper.find('[role="alert"]').text()).toContain('Internal error');
    server.on('GET /api/admin/scim-clients', { body: { items: [], total: 0 } });
    await wrapper.find('[role="alert"] button').trigger('click');
    await settle();
    expect(wrapper.text()).toContain('No SCIM clients configured yet');
    wrapper.unmount();
  });
});
