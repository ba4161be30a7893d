import { afterEach, describe, expect, it, vi } from 'vitest';
import SignInView from './SignInView.vue';
import { messages } from '../../messages.ts';
import { settle, setupApi } from '../../test/fake-fetch.ts';
import { mountWithApp } from '../../test/mount.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const twoProviders = { body: { items: [{ id: 'p-1', name: 'Keycloak' }, { id: 'p/2', name: 'Entra ID' }], total: 2 } };

describe('SignInView', () => {
  it('offers one "Sign in with …" link per OIDC provider, pointing at its start URL', async () => {
    const { pinia } = setupApi({ 'GET /api/admin/oidc/providers': twoProviders });
    const { wrapper } = await mountWithApp(SignInView, pinia, { path: '/sign-in' });
    await settle();
    const links = wrapper.findAll('ul[aria-label="Sign in through an identity provider"] a');
    expect(links.map((a) => [a.text(), a.attributes('href')])).toEqual([
      ['Sign in with Keycloak', '/api/admin/oidc/p-1/start'],
      ['Sign in with Entra ID', '/api/admin/oidc/p%2F2/start'],
    ]);
    wrapper.unmount();
  });

  it.each([
    ['no provider offers admin sign-in', { body: { items: [], total: 0 } }],
    ['the providers call fails', { status: 500, body: { code: 'internal_error', message: 'Internal error' } }],
    ['the gateway does not know the endpoint', { status: 404, body: { code: 'not_found', message: 'Not found' } }],
  ])('shows only the password form when %s', async (_, reply) => {
    const { pinia } = setupApi({ 'GET /api/admin/oidc/providers': reply });
    const { wrapper } = await mountWithApp(SignInView, pinia, { path: '/sign-in' });
    await settle();
    expect(wrapper.find('.auth-providers').exists()).toBe(false);
    expect(wrapper.find('.auth-divider').exists()).toBe(false);
    expect(wrapper.find('[role="alert"]').exists()).toBe(false);
    expect(wrapper.find('#signin-email').exists()).toBe(true);
    wrapper.unmount();
  });

  it.each(Object.entries(messages.signIn.oidcErrors))('explains the callback error %s', async (code, text) => {
    const { pinia } = setupApi({ 'GET /api/admin/oidc/providers': twoProviders });
    const { wrapper } = await mountWithApp(SignInView, pinia, { path: `/sign-in?error=${code}` });
    await settle();
    expect(wrapper.find('[role="alert"]').text()).toBe(text);
    wrapper.unmount();
  });

  it('covers the codes the gateway sends', () => {
    expect(Object.keys(messages.signIn.oidcErrors).sort()).toEqual(
      ['access_denied', 'email_missing', 'email_unverified', 'invalid_id_token', 'not_an_admin', 'provider_error', 'provider_not_found', 'provider_unavailable', 'sign_in_expired', 'state_mismatch'],
    );
  });

  it('does not echo an unknown error code from the address', async () => {
    const { pinia } = setupApi({ 'GET /api/admin/oidc/providers': twoProviders });
    const { wrapper } = await mountWithApp(SignInView, pinia, { path: '/sign-in?error=Call+555-0100+to+restore+access' });
    await settle();
    expect(wrapper.find('[role="alert"]').text()).toBe(messages.signIn.oidcErrorUnknown);
    expect(wrapper.text()).not.toContain('555');
    wrapper.unmount();
  });

  it('replaces the callback error with the outcome of a password sign-in', async () => {
    const { pinia, server } = setupApi({
      'GET /api/admin/oidc/providers': twoProviders,
      'POST /api/admin/session': { status: 401, body: { code: 'invalid_credentials', message: 'Email or password is incorrect' } },
    });
    const { wrapper, router } = await mountWithApp(SignInView, pinia, { path: '/sign-in?error=not_an_admin&redirect=/settings' });
    await settle();
    await wrapper.find('#signin-email').setValue('admin@example.com');
    await wrapper.find('#signin-password').setValue('wrong');
    await wrapper.find('form').trigger('submit');
    await vi.waitFor(() => expect(wrapper.find('[role="alert"]').text()).toBe('Email or password is incorrect'), { timeout: 15_000 });

    server.on('POST /api/admin/session', { body: { id: 'a1', email: 'admin@example.com', csrfToken: 'c' } });
    server.on('GET /api/admin/settings', { body: { usersDeletableByAdmins: false, lockOnRefusedDelete: false } });
    await wrapper.find('#signin-password').setValue('right');
    await wrapper.find('form').trigger('submit');
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/settings'), { timeout: 15_000 });
    wrapper.unmount();
  });
});
