import { afterEach, describe, expect, it, vi } from 'vitest';
import ClientCreateView from './ClientCreateView.vue';
import { settle, setupApi } from '../../test/fake-fetch.ts';
import { mountWithApp } from '../../test/mount.ts';

const oidc = { id: '11111111-1111-4111-8111-111111111111', name: 'Keycloak', kind: 'oidc', issuer: 'https://kc.example/realms/main' };
const saml = { id: '22222222-2222-4222-8222-222222222222', name: 'Entra', kind: 'saml', entityId: 'https://sts.windows.net/x/' };

afterEach(() => {
  document.body.innerHTML = '';
});

async function open(providers: unknown[], extra: Parameters<typeof setupApi>[0] = {}) {
  const { pinia, server } = setupApi({ 'GET /api/admin/auth-providers': { body: { items: providers, total: providers.length } }, ...extra });
  const { wrapper, router } = await mountWithApp(ClientCreateView, pinia, { path: '/clients/new' });
  await settle();
  return { wrapper, router, server };
}

describe('ClientCreateView', () => {
  it('offers three explained authentication methods and a link to add a provider when none exists', async () => {
    const { wrapper } = await open([]);
    const choices = wrapper.findAll('.choice').map((c) => c.find('strong').text());
    expect(choices).toEqual(['Static access token', 'OAuth 2.0 client credentials', 'JWT from identity provider', 'All resources', 'Only its own']);
    expect(wrapper.text()).toContain('No authentication provider exists yet.');
    expect(wrapper.find('a[href="/admin/auth-providers/new/oidc"]').text()).toBe('Add an authentication provider');
    wrapper.unmount();
  });

  it('shows the subject claim only for JWT, and then only OIDC providers', async () => {
    const { wrapper } = await open([oidc, saml]);
    expect(wrapper.find('#client-subject').exists()).toBe(false);
    expect(wrapper.findAll('#client-provider option').map((o) => o.text())).toEqual(['Choose a provider', 'Keycloak (OIDC)', 'Entra (SAML)']);
    await wrapper.find('input[value="jwt"]').setValue(true);
    expect(wrapper.find('#client-subject').exists()).toBe(true);
    expect(wrapper.findAll('#client-provider option').map((o) => o.text())).toEqual(['Choose a provider', 'Keycloak (OIDC)']);
    wrapper.unmount();
  });

  it('validates inline before sending anything', async () => {
    const { wrapper, server } = await open([oidc, saml]);
    await wrapper.find('input[value="jwt"]').setValue(true);
    await wrapper.find('form').trigger('submit');
    const errors = wrapper.findAll('.field-error').map((e) => e.text());
    // The only OIDC provider is chosen for the admin; name and subject are missing.
    expect(errors).toEqual(['Give the client a name.', 'Enter the subject claim of the JWTs.']);
    expect((wrapper.find('#client-provider').element as HTMLSelectElement).value).toBe(oidc.id);
    expect(server.callsTo('POST /api/admin/scim-clients')).toHaveLength(0);
    await wrapper.find('#client-name').setValue('Keycloak prod');
    await settle();
    expect(wrapper.findAll('.field-error').map((e) => e.text())).not.toContain('Give the client a name.');
    wrapper.unmount();
  });

  it('creates a static-token client, shows the token once, then opens the client', async () => {
    const created = { id: '33333333-3333-4333-8333-333333333333', name: 'KC', authProviderId: oidc.id, authMethod: 'static_token', dataScope: 'all', createdAt: '2026-11-28T00:00:00Z' };
    const { wrapper, router, server } = await open([oidc], {
      'POST /api/admin/scim-clients': { status: 201, body: { ...created, token: 'rst_once' } },
    });
    await wrapper.find('#client-name').setValue('KC');
    await wrapper.find('form').trigger('submit');
    await settle();
    expect(server.callsTo('POST /api/admin/scim-clients')[0]!.body).toEqual({ name: 'KC', authProviderId: oidc.id, authMethod: 'static_token', dataScope: 'all' });
    const token = document.querySelector<HTMLInputElement>('[data-testid="one-time-token"]');
    expect(token?.value).toBe('rst_once');
    [...document.querySelectorAll('dialog button')].find((b) => b.textContent?.includes('I have copied it'))!.dispatchEvent(new Event('click'));
    // A generous bound: the detail view is loaded lazily, which on a busy machine takes more than the default second.
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/clients/${created.id}`), { timeout: 15_000 });
    expect(document.body.innerHTML).not.toContain('rst_once');
    wrapper.unmount();
  });

  it('shows the server’s refusal', async () => {
    const { wrapper } = await open([oidc], {
      'POST /api/admin/scim-clients': { status: 409, body: { code: 'conflict', message: 'A SCIM client named “KC” exists', details: { issues: [{ path: 'name', message: 'is taken' }] } } },
    });
    await wrapper.find('#client-name').setValue('KC');
    await wrapper.find('form').trigger('submit');
    await settle();
    expect(wrapper.find('[role="alert"]').text()).toBe('A SCIM client named “KC” exists');
    expect(wrapper.find('.field-error').text()).toBe('is taken');
    wrapper.unmount();
  });
});
