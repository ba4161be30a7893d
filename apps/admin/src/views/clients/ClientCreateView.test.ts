import { afterEach, describe, expect, it } from 'vitest';
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
    // Closed without Copy: the dialog asks first, then closes.
    [...document.querySelectorAll('dialog button')].find((b) => b.textContent?.includes('I have copied it'))!.dispatchEvent(new Event('click'));
    await settle();
    [...document.querySelectorAll('dialog button')].find((b) => b.textContent?.includes('Close anyway'))!.dispatchEvent(new Event('click'));
    // Waits for the navigation itself, with a bound generous enough for a loaded CI machine (a 1 s default failed there).
    await expect.poll(() => router.currentRoute.value.fullPath, { timeout: 15_000 }).toBe(`/clients/${created.id}`);
    expect(document.body.innerHTML).not.toContain('rst_once');
    wrapper.unmount();
  });

  it('shows a duplicate name in words under the name field, not in a banner, and clears it when the name changes', async () => {
    const { wrapper } = await open([oidc], {
      'POST /api/admin/scim-clients': { status: 409, body: { code: 'conflict', message: 'a SCIM client named "KC" already exists', details: { field: 'name' } } },
    });
    await wrapper.find('#client-name').setValue('KC');
    await wrapper.find('form').trigger('submit');
    await settle();
    expect(wrapper.find('[role="alert"]').exists()).toBe(false);
    expect(wrapper.findAll('.field-error').map((e) => e.text())).toEqual(['A SCIM client with this name already exists. Choose another name.']);
    expect(wrapper.find('#client-name').attributes('aria-describedby')).toBe('client-name-error');
    expect(wrapper.find('#client-name-error').text()).toBe('A SCIM client with this name already exists. Choose another name.');
    await wrapper.find('#client-name').setValue('KC 2');
    await settle();
    expect(wrapper.findAll('.field-error')).toHaveLength(0);
    expect(wrapper.find('#client-name').attributes('aria-describedby')).toBe('client-name-hint');
    wrapper.unmount();
  });

  it('follows the guide’s order: name, authentication provider (with its hint), authentication method', async () => {
    const { wrapper } = await open([oidc]);
    const order = [...wrapper.element.querySelectorAll('form label[for], form legend')].map((el) => el.textContent?.trim());
    expect(order.slice(0, 3)).toEqual(['Name', 'Authentication provider', 'Authentication method']);
    expect(wrapper.find('#client-provider-help').text()).toBe('The provider the users this client provisions will sign in with.');
    wrapper.unmount();
  });
});
