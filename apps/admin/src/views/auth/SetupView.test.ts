import { afterEach, describe, expect, it } from 'vitest';
import SetupView from './SetupView.vue';
import { settle, setupApi } from '../../test/fake-fetch.ts';
import { mountWithApp } from '../../test/mount.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

describe('SetupView (first admin through the one-time link)', () => {
  it('says what is wrong when the link has no token', async () => {
    const { pinia } = setupApi();
    const { wrapper } = await mountWithApp(SetupView, pinia, { path: '/setup' });
    expect(wrapper.find('[role="alert"]').text()).toContain('no setup token');
    expect(wrapper.find('input').exists()).toBe(false);
    wrapper.unmount();
  });

  it('checks email and passwords, creates the admin, signs in and opens the app', async () => {
    const { pinia, server } = setupApi({
      'POST /api/admin/setup': { status: 201, body: { id: 'a1', email: 'first@example.com', createdAt: '2026-11-28T00:00:00Z', lastSignInAt: null } },
      'POST /api/admin/session': { body: { id: 'a1', email: 'first@example.com', csrfToken: 'c' } },
      'GET /api/admin/scim-clients': { body: { items: [], total: 0 } },
      'GET /api/admin/auth-providers': { body: { items: [], total: 0 } },
    });
    const { wrapper, router } = await mountWithApp(SetupView, pinia, { path: '/setup?token=tok-123' });
    await settle();
    await wrapper.find('#setup-email').setValue('not-an-email');
    await wrapper.find('#setup-password').setValue('short');
    await wrapper.find('#setup-confirm').setValue('different');
    await wrapper.find('form').trigger('submit');
    expect(wrapper.findAll('.field-error').map((e) => e.text())).toEqual(['Enter an email address.', 'The password needs at least 12 characters.', 'The two passwords differ.']);
    expect(server.callsTo('POST /api/admin/setup')).toHaveLength(0);

    await wrapper.find('#setup-email').setValue('first@example.com');
    await wrapper.find('#setup-password').setValue('a long enough password');
    await wrapper.find('#setup-confirm').setValue('a long enough password');
    await wrapper.find('form').trigger('submit');
    await expect.poll(() => router.currentRoute.value.name, { timeout: 15_000 }).toBe('clients');
    expect(server.callsTo('POST /api/admin/setup')[0]!.body).toEqual({ token: 'tok-123', email: 'first@example.com', password: 'a long enough password' });
    expect(server.callsTo('POST /api/admin/session')[0]!.body).toEqual({ email: 'first@example.com', password: 'a long enough password' });
    wrapper.unmount();
  });

  it('shows the server’s refusal of a used or expired link', async () => {
    const { pinia } = setupApi({
      'POST /api/admin/setup': { status: 403, body: { code: 'invalid_setup_token', message: 'The setup link is invalid, already used or expired. Restart Roster to print a new one.' } },
    });
    const { wrapper } = await mountWithApp(SetupView, pinia, { path: '/setup?token=old' });
    await settle();
    await wrapper.find('#setup-email').setValue('first@example.com');
    await wrapper.find('#setup-password').setValue('a long enough password');
    await wrapper.find('#setup-confirm').setValue('a long enough password');
    await wrapper.find('form').trigger('submit');
    await expect.poll(() => wrapper.find('[role="alert"]').exists() && wrapper.find('[role="alert"]').text(), { timeout: 15_000 }).toContain('Restart Roster to print a new one.');
    wrapper.unmount();
  });

  it('says a used or expired link is worth nothing before showing the form, with a way to sign in', async () => {
    for (const [status, words] of [
      ['expired', 'This setup link has expired'],
      ['setup_complete', 'An admin already exists'],
    ] as const) {
      const { pinia, server } = setupApi({ 'POST /api/admin/setup/check': { body: { status } } });
      const { wrapper } = await mountWithApp(SetupView, pinia, { path: '/setup?token=old' });
      await settle();
      expect(server.callsTo('POST /api/admin/setup/check')[0]!.body).toEqual({ token: 'old' });
      expect(wrapper.find('[data-testid="setup-link-status"]').text()).toContain(words);
      expect(wrapper.find('#setup-email').exists()).toBe(false);
      expect(wrapper.find('a[href="/admin/sign-in"]').text()).toBe('Go to sign-in');
      wrapper.unmount();
    }
  });
});
