import { afterEach, describe, expect, it } from 'vitest';
import SettingsView from './SettingsView.vue';
import { settle, setupApi } from '../../test/fake-fetch.ts';
import { mountWithApp } from '../../test/mount.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

describe('SettingsView', () => {
  it('shows both explained toggles and saves a change', async () => {
    const { pinia, server } = setupApi({
      'GET /api/admin/settings': { body: { usersDeletableByAdmins: false, lockOnRefusedDelete: true } },
      'PATCH /api/admin/settings': (call) => ({ body: { usersDeletableByAdmins: false, lockOnRefusedDelete: true, ...(call.body as object) } }),
    });
    const { wrapper } = await mountWithApp(SettingsView, pinia, { path: '/settings' });
    await settle();
    const deletable = wrapper.find<HTMLInputElement>('#setting-usersDeletableByAdmins');
    expect(wrapper.find('label[for="setting-usersDeletableByAdmins"]').text()).toBe('User accounts deletable by admins');
    expect(wrapper.find('label[for="setting-lockOnRefusedDelete"]').text()).toBe('Lock users when deletion is refused');
    expect(deletable.element.checked).toBe(false);
    expect(wrapper.find<HTMLInputElement>('#setting-lockOnRefusedDelete').element.checked).toBe(true);
    await deletable.setValue(true);
    await settle();
    expect(server.callsTo('PATCH /api/admin/settings')[0]!.body).toEqual({ usersDeletableByAdmins: true });
    expect(wrapper.text()).toContain('Saved');
    // Deletion is allowed now: locking on refused deletion cannot apply, so it is disabled, with the reason.
    const lock = wrapper.find<HTMLInputElement>('#setting-lockOnRefusedDelete');
    expect(lock.element.disabled).toBe(true);
    expect(wrapper.find('[data-testid="setting-disabled-reason"]').text()).toContain('Applies only while “User accounts deletable by admins” is off');
    expect(lock.attributes('aria-describedby')).toBe('setting-lockOnRefusedDelete-explain setting-lockOnRefusedDelete-reason');
    await deletable.setValue(false);
    await settle();
    expect(lock.element.disabled).toBe(false);
    expect(wrapper.find('[data-testid="setting-disabled-reason"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('saves the audit retention in days and refuses what is not 1..3650', async () => {
    const stored = { usersDeletableByAdmins: false, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90 };
    const { pinia, server } = setupApi({
      'GET /api/admin/settings': { body: stored },
      'PATCH /api/admin/settings': (call) => ({ body: { ...stored, ...(call.body as object) } }),
    });
    const { wrapper } = await mountWithApp(SettingsView, pinia, { path: '/settings' });
    await settle();
    const days = wrapper.find<HTMLInputElement>('#setting-auditRetentionDays');
    expect(days.element.value).toBe('90');
    // Typed, then committed (change): setValue would also fire input, which re-renders the stored value.
    days.element.value = '0';
    await days.trigger('change');
    await settle();
    expect(wrapper.find('[role="alert"]').text()).toBe('Enter a whole number of days from 1 to 3650.');
    expect(server.callsTo('PATCH /api/admin/settings')).toHaveLength(0);
    days.element.value = '30';
    await days.trigger('change');
    await settle();
    expect(server.callsTo('PATCH /api/admin/settings')[0]!.body).toEqual({ auditRetentionDays: 30 });
    wrapper.unmount();
  });

  it('saves the change log retention in days the same way', async () => {
    const stored = { usersDeletableByAdmins: false, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90 };
    const { pinia, server } = setupApi({
      'GET /api/admin/settings': { body: stored },
      'PATCH /api/admin/settings': (call) => ({ body: { ...stored, ...(call.body as object) } }),
    });
    const { wrapper } = await mountWithApp(SettingsView, pinia, { path: '/settings' });
    await settle();
    const days = wrapper.find<HTMLInputElement>('#setting-changeRetentionDays');
    expect(days.element.value).toBe('90');
    expect(wrapper.find('label[for="setting-changeRetentionDays"]').text()).toBe('Keep the directory change log for (days)');
    days.element.value = '4000';
    await days.trigger('change');
    await settle();
    expect(wrapper.find('[role="alert"]').text()).toBe('Enter a whole number of days from 1 to 3650.');
    expect(server.callsTo('PATCH /api/admin/settings')).toHaveLength(0);
    days.element.value = '14';
    await days.trigger('change');
    await settle();
    expect(server.callsTo('PATCH /api/admin/settings')[0]!.body).toEqual({ changeRetentionDays: 14 });
    wrapper.unmount();
  });

  it('chooses what happens to unknown extensions', async () => {
    const { pinia, server } = setupApi({
      'GET /api/admin/settings': { body: { usersDeletableByAdmins: false, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90 } },
      'PATCH /api/admin/settings': (call) => ({ body: { usersDeletableByAdmins: false, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90, ...(call.body as object) } }),
    });
    const { wrapper } = await mountWithApp(SettingsView, pinia, { path: '/settings' });
    await settle();
    const select = wrapper.find<HTMLSelectElement>('#setting-unknownExtensions');
    expect(wrapper.find('label[for="setting-unknownExtensions"]').text()).toBe('Unknown extensions');
    expect(select.element.value).toBe('reject');
    await select.setValue('keep');
    await settle();
    expect(server.callsTo('PATCH /api/admin/settings')[0]!.body).toEqual({ unknownExtensions: 'keep' });
    wrapper.unmount();
  });
});
