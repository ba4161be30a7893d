import { afterEach, describe, expect, it, vi } from 'vitest';
import AdminsView from './AdminsView.vue';
import { useSessionStore } from '../../stores/session.ts';
import { settle, setupApi } from '../../test/fake-fetch.ts';
import { mountWithApp } from '../../test/mount.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const me = { id: 'a1', email: 'me@example.com', createdAt: '2026-11-01T00:00:00Z', lastSignInAt: '2026-11-28T09:00:00Z' };
const other = { id: 'a2', email: 'other@example.com', createdAt: '2026-11-02T00:00:00Z', lastSignInAt: null };

async function mountAdmins(routes: Parameters<typeof setupApi>[0]) {
  const { pinia, server } = setupApi(routes);
  const session = useSessionStore(pinia);
  session.admin = { id: me.id, email: me.email };
  session.csrfToken = 'csrf-1';
  const { wrapper } = await mountWithApp(AdminsView, pinia, { path: '/admins' });
  await settle();
  return { wrapper, server };
}

function rows(wrapper: Awaited<ReturnType<typeof mountAdmins>>['wrapper']) {
  return wrapper.findAll('[data-testid="admin-table"] tbody tr').map((r) => r.findAll('td').map((td) => td.text()));
}

function dialogButton(label: string): HTMLButtonElement {
  return [...document.querySelectorAll<HTMLButtonElement>('dialog button')].find((b) => b.textContent?.trim() === label)!;
}

describe('AdminsView', () => {
  it('lists admins, marks the signed-in one, and names its table', async () => {
    const { wrapper } = await mountAdmins({ 'GET /api/admin/admins': { body: { items: [me, other], total: 2 } } });
    expect(wrapper.find('table').attributes('aria-label')).toBe('Admins');
    expect(rows(wrapper).map((r) => r[0])).toEqual(['me@example.com (you)', 'other@example.com']);
    expect(rows(wrapper)[1]![2]).toBe('Never');
    expect(wrapper.find('button[aria-label="Remove other@example.com"]').attributes('disabled')).toBeUndefined();
    wrapper.unmount();
  });

  it('disables removing the last admin and says why', async () => {
    const { wrapper } = await mountAdmins({ 'GET /api/admin/admins': { body: { items: [me], total: 1 } } });
    const remove = wrapper.find('button[aria-label="Remove me@example.com"]');
    expect(remove.attributes('disabled')).toBeDefined();
    expect(remove.attributes('aria-describedby')).toBe('admins-last-one');
    expect(wrapper.find('#admins-last-one').text()).toBe('The last admin cannot be removed.');
    wrapper.unmount();
  });

  it('checks the new admin’s email and password before asking the server', async () => {
    const { wrapper, server } = await mountAdmins({ 'GET /api/admin/admins': { body: { items: [me], total: 1 } } });
    await wrapper.find('#admin-email').setValue('not an email');
    await wrapper.find('#admin-password').setValue('short');
    await wrapper.find('form').trigger('submit');
    expect(wrapper.findAll('.field-error').map((e) => e.text())).toEqual(['Enter an email address.', 'The password needs at least 12 characters.']);
    expect(wrapper.find('#admin-email').attributes('aria-invalid')).toBe('true');
    expect(wrapper.find('#admin-email').attributes('aria-describedby')).toContain('admin-email-error');
    expect(server.callsTo('POST /api/admin/admins')).toHaveLength(0);
    wrapper.unmount();
  });

  it('adds an admin, shows them in the table and clears the form', async () => {
    const { wrapper, server } = await mountAdmins({
      'GET /api/admin/admins': { body: { items: [me], total: 1 } },
      'POST /api/admin/admins': { status: 201, body: other },
    });
    await wrapper.find('#admin-email').setValue(' other@example.com ');
    await wrapper.find('#admin-password').setValue('a long enough password');
    await wrapper.find('form').trigger('submit');
    await vi.waitFor(() => expect(rows(wrapper)).toHaveLength(2), { timeout: 15_000 });
    const [call] = server.callsTo('POST /api/admin/admins');
    expect(call!.body).toEqual({ email: 'other@example.com', password: 'a long enough password' });
    expect(call!.headers['X-CSRF-Token']).toBe('csrf-1');
    expect((wrapper.find('#admin-email').element as HTMLInputElement).value).toBe('');
    expect((wrapper.find('#admin-password').element as HTMLInputElement).value).toBe('');
    expect(wrapper.find('[role="status"]').text()).toBe('Admin other@example.com added.');
    wrapper.unmount();
  });

  it('shows the server’s refusal of a duplicate email', async () => {
    const { wrapper } = await mountAdmins({
      'GET /api/admin/admins': { body: { items: [me], total: 1 } },
      'POST /api/admin/admins': { status: 409, body: { code: 'conflict', message: 'An admin with this email already exists', details: { field: 'email' } } },
    });
    await wrapper.find('#admin-email').setValue('me@example.com');
    await wrapper.find('#admin-password').setValue('a long enough password');
    await wrapper.find('form').trigger('submit');
    await vi.waitFor(() => expect(wrapper.find('form [role="alert"]').text()).toBe('An admin with this email already exists'), { timeout: 15_000 });
    expect(rows(wrapper)).toHaveLength(1);
    wrapper.unmount();
  });

  it('removes an admin only after confirmation', async () => {
    const { wrapper, server } = await mountAdmins({
      'GET /api/admin/admins': { body: { items: [me, other], total: 2 } },
      'DELETE /api/admin/admins/a2': { status: 204 },
    });
    await wrapper.find('button[aria-label="Remove other@example.com"]').trigger('click');
    await settle();
    const dialog = document.querySelector('dialog')!;
    expect(dialog.open).toBe(true);
    expect(dialog.textContent).toContain('Remove admin other@example.com?');
    expect(server.callsTo('DELETE /api/admin/admins/a2')).toHaveLength(0);
    dialogButton('Remove').click();
    await settle();
    expect(server.callsTo('DELETE /api/admin/admins/a2')).toHaveLength(1);
    expect(rows(wrapper).map((r) => r[0])).toEqual(['me@example.com (you)']);
    expect(dialog.open).toBe(false);
    wrapper.unmount();
  });

  it('keeps the dialog open with the server’s reason when it refuses to remove the last admin', async () => {
    // Another admin removed `other` meanwhile: this screen still lists two, the server knows better.
    const { wrapper } = await mountAdmins({
      'GET /api/admin/admins': { body: { items: [me, other], total: 2 } },
      'DELETE /api/admin/admins/a1': { status: 409, body: { code: 'last_admin', message: 'The last admin cannot be removed; add another admin first' } },
    });
    await wrapper.find('button[aria-label="Remove me@example.com"]').trigger('click');
    await settle();
    dialogButton('Remove').click();
    await settle();
    expect(document.querySelector('dialog [role="alert"]')?.textContent).toBe('The last admin cannot be removed; add another admin first');
    expect(document.querySelector('dialog')!.open).toBe(true);
    expect(rows(wrapper)).toHaveLength(2);
    wrapper.unmount();
  });

  it('shows a load error with a retry button', async () => {
    const { wrapper, server } = await mountAdmins({ 'GET /api/admin/admins': { status: 500, body: { code: 'internal_error', message: 'Internal error' } } });
    expect(wrapper.find('[role="alert"]').text()).toContain('Internal error');
    server.on('GET /api/admin/admins', { body: { items: [me], total: 1 } });
    await wrapper.find('[role="alert"] button').trigger('click');
    await settle();
    expect(rows(wrapper)).toHaveLength(1);
    wrapper.unmount();
  });
});
