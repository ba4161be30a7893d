import { afterEach, describe, expect, it } from 'vitest';
import ProviderFormView from './ProviderFormView.vue';
import { settle, setupApi } from '../../test/fake-fetch.ts';
import { mountWithApp } from '../../test/mount.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

describe('ProviderFormView (OIDC)', () => {
  it('"Test discovery" shows the discovered endpoints', async () => {
    const { pinia, server } = setupApi({
      'POST /api/admin/auth-providers/test-discovery': {
        body: { issuer: 'https://idp.example', token_endpoint: 'https://idp.example/token', jwks_uri: 'https://idp.example/jwks' },
      },
    });
    const { wrapper } = await mountWithApp(ProviderFormView, pinia, { path: '/auth-providers/new/oidc', props: { kind: 'oidc' } });
    await wrapper.find('#provider-issuer').setValue('https://idp.example');
    await wrapper.findAll('button').find((b) => b.text() === 'Test discovery')!.trigger('click');
    await settle();
    expect(server.callsTo('POST /api/admin/auth-providers/test-discovery')[0]!.body).toEqual({ issuer: 'https://idp.example' });
    const result = wrapper.find('[data-testid="discovery-result"]').text();
    expect(result).toContain('Token endpoint');
    expect(result).toContain('https://idp.example/jwks');
    wrapper.unmount();
  });

  it('"Test discovery" shows the exact error', async () => {
    const { pinia } = setupApi({
      'POST /api/admin/auth-providers/test-discovery': { status: 502, body: { code: 'unavailable', message: 'Discovery at https://idp.example failed: connect ECONNREFUSED' } },
    });
    const { wrapper } = await mountWithApp(ProviderFormView, pinia, { path: '/auth-providers/new/oidc', props: { kind: 'oidc' } });
    await wrapper.find('#provider-issuer').setValue('https://idp.example');
    await wrapper.findAll('button').find((b) => b.text() === 'Test discovery')!.trigger('click');
    await settle();
    // In words, once, under the issuer field; the exact error behind a closed "Details".
    const error = wrapper.find('#provider-issuer-error');
    expect(error.text()).toContain('Roster could not reach this issuer.');
    expect(wrapper.findAll('[role="alert"]')).toHaveLength(1);
    expect(wrapper.find('#provider-issuer').attributes('aria-describedby')).toBe('provider-issuer-error');
    const details = wrapper.find('[data-testid="problem-details"]');
    expect(details.find('summary').text()).toBe('Details');
    expect(details.find('pre').text()).toBe('Discovery at https://idp.example failed: connect ECONNREFUSED');
    expect((details.element as HTMLDetailsElement).open).toBe(false);
    wrapper.unmount();
  });

  it('clears a failed discovery when a later one succeeds, and when the issuer changes', async () => {
    let fail = true;
    const { pinia } = setupApi({
      'POST /api/admin/auth-providers/test-discovery': () =>
        fail
          ? { status: 400, body: { code: 'discovery_failed', message: 'OpenID Connect discovery for https://idp.example failed: fetch failed: connect ECONNREFUSED 127.0.0.1:19799', details: { field: 'issuer' } } }
          : { body: { issuer: 'https://idp.example', jwks_uri: 'https://idp.example/jwks' } },
    });
    const { wrapper } = await mountWithApp(ProviderFormView, pinia, { path: '/auth-providers/new/oidc', props: { kind: 'oidc' } });
    await wrapper.find('#provider-issuer').setValue('https://idp.example');
    const test = () => wrapper.findAll('button').find((b) => b.text() === 'Test discovery')!.trigger('click');
    await test();
    await settle();
    expect(wrapper.find('#provider-issuer-error').exists()).toBe(true);
    fail = false;
    await test();
    await settle();
    expect(wrapper.find('#provider-issuer-error').exists()).toBe(false);
    expect(wrapper.find('[data-testid="discovery-result"]').exists()).toBe(true);
    fail = true;
    await test();
    await settle();
    await wrapper.find('#provider-issuer').setValue('https://idp.example/realms/x');
    expect(wrapper.find('#provider-issuer-error').exists()).toBe(false);
    expect(wrapper.text()).not.toContain('ECONNREFUSED');
    wrapper.unmount();
  });

  it('shows the redirect URI to register at the identity provider, from the public URL', async () => {
    const { pinia } = setupApi({ 'GET /api/admin/info': { body: { publicUrl: 'https://roster.example.com', scimBaseUrl: 'https://roster.example.com/scim_v2/', tokenEndpoint: 'https://roster.example.com/oauth/token' } } });
    const { wrapper } = await mountWithApp(ProviderFormView, pinia, { path: '/auth-providers/new/oidc', props: { kind: 'oidc' } });
    await settle();
    expect((wrapper.find('[data-testid="redirect-uri-value"]').element as HTMLInputElement).value).toBe('https://roster.example.com/api/admin/oidc/callback');
    expect(wrapper.find('[data-testid="redirect-uri"]').findAll('button').map((b) => b.text())).toEqual(['Copy']);
    wrapper.unmount();
  });

  it('requires name, issuer and client id, then creates and opens the provider', async () => {
    const { pinia, server } = setupApi({
      'POST /api/admin/auth-providers': (call) => ({ status: 201, body: { id: '44444444-4444-4444-8444-444444444444', ...(call.body as object) } }),
      'GET /api/admin/auth-providers/44444444-4444-4444-8444-444444444444': { body: { id: '44444444-4444-4444-8444-444444444444', name: 'KC', kind: 'oidc', issuer: 'https://idp.example', clientId: 'roster' } },
    });
    const { wrapper, router } = await mountWithApp(ProviderFormView, pinia, { path: '/auth-providers/new/oidc', props: { kind: 'oidc' } });
    await wrapper.find('form').trigger('submit');
    expect(wrapper.findAll('.field-error').map((e) => e.text())).toEqual(['Give the provider a name.', 'Enter the issuer URL.', 'Enter the client ID.']);
    await wrapper.find('#provider-name').setValue('KC');
    await wrapper.find('#provider-issuer').setValue('https://idp.example');
    await wrapper.find('#provider-client-id').setValue('roster');
    await wrapper.find('form').trigger('submit');
    await settle();
    // Admin sign-in is shown and sent as off unless switched on (issue 20, item 1).
    expect((wrapper.find('#provider-admin-sign-in').element as HTMLInputElement).checked).toBe(false);
    expect(server.callsTo('POST /api/admin/auth-providers')[0]!.body).toEqual({ name: 'KC', kind: 'oidc', issuer: 'https://idp.example', clientId: 'roster', adminSignIn: false });
    expect(router.currentRoute.value.name).toBe('provider');
    expect(router.currentRoute.value.query).toEqual({ created: '1' });
    wrapper.unmount();
  });

  it('switches admin sign-in on for a provider and shows the stored switch', async () => {
    const id = '66666666-6666-4666-8666-666666666666';
    const stored = { id, name: 'KC', kind: 'oidc', issuer: 'https://idp.example', clientId: 'roster', adminSignIn: true };
    const { pinia, server } = setupApi({
      [`GET /api/admin/auth-providers/${id}`]: { body: stored },
      [`PATCH /api/admin/auth-providers/${id}`]: (call) => ({ body: { ...stored, ...(call.body as object) } }),
    });
    const { wrapper } = await mountWithApp(ProviderFormView, pinia, { path: `/auth-providers/${id}`, props: { id } });
    await settle();
    const box = wrapper.find('#provider-admin-sign-in');
    expect((box.element as HTMLInputElement).checked).toBe(true);
    await box.setValue(false);
    await wrapper.find('form').trigger('submit');
    await settle();
    expect(server.callsTo(`PATCH /api/admin/auth-providers/${id}`)[0]!.body).toMatchObject({ adminSignIn: false });
    wrapper.unmount();
  });
});

describe('ProviderFormView (SAML)', () => {
  it('shows entity id, sign-in URL and certificate expiry read from the metadata', async () => {
    const id = '55555555-5555-4555-8555-555555555555';
    const { pinia } = setupApi({
      [`GET /api/admin/auth-providers/${id}`]: {
        body: { id, name: 'Entra', kind: 'saml', metadataUrl: 'https://login.example/metadata.xml', entityId: 'https://sts.example/abc/', ssoUrl: 'https://login.example/saml2', certificateExpiresAt: '2020-01-01T00:00:00Z' },
      },
    });
    const { wrapper } = await mountWithApp(ProviderFormView, pinia, { path: `/auth-providers/${id}`, props: { id } });
    await settle();
    const read = wrapper.find('[data-testid="saml-metadata"]').text();
    expect(read).toContain('https://sts.example/abc/');
    expect(read).toContain('https://login.example/saml2');
    expect(read).toContain('expired');
    expect((wrapper.find('#provider-metadata-url').element as HTMLInputElement).value).toBe('https://login.example/metadata.xml');
    wrapper.unmount();
  });
});
