import { afterEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import CredentialTable from './CredentialTable.vue';
import { settle } from '../test/fake-fetch.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
// The status is what the server says; the table reads the dates (a row's status may lag behind the clock).
const base = { kind: 'static_token' as const, status: 'active' as const, createdAt: '2026-01-01T00:00:00Z', lastUsedAt: null, revokedAt: null };
const items = [
  { ...base, id: 'active', hint: 'aaaa', expiresAt: '2027-06-01T00:00:00Z', lastUsedAt: '2026-11-27T08:00:00Z' },
  { ...base, id: 'soon', hint: 'bbbb', expiresAt: '2026-12-10T00:00:00Z' },
  { ...base, id: 'expired', hint: 'cccc', expiresAt: '2026-11-01T00:00:00Z' },
  { ...base, id: 'revoked', hint: 'dddd', expiresAt: '2027-06-01T00:00:00Z', revokedAt: '2026-11-20T00:00:00Z' },
];

afterEach(() => {
  document.body.innerHTML = '';
});

describe('CredentialTable', () => {
  it('shows expiry, "Expired on" and "Revoked on", last use and a status per token', () => {
    const wrapper = mount(CredentialTable, { props: { kind: 'token', items, now: NOW, revoke: async () => undefined } });
    const rows = wrapper.findAll('tbody tr').map((r) => r.findAll('td').map((td) => td.text()));
    expect(rows[0]![0]).toBe('…aaaa');
    expect(rows[0]![4]).toBe('Active');
    expect(rows[0]![3]).not.toBe('Never');
    expect(rows[1]![4]).toBe('Expires soon');
    expect(rows[1]![3]).toBe('Never');
    expect(rows[2]![2]).toMatch(/^Expired on /);
    expect(rows[2]![4]).toBe('Expired');
    expect(rows[3]![2]).toMatch(/^Revoked on /);
    expect(rows[3]![4]).toBe('Revoked');
    // Only usable tokens can be revoked.
    expect(wrapper.findAll('button[aria-label="Revoke token"]')).toHaveLength(2);
  });

  it('revokes only after confirmation', async () => {
    const revoke = vi.fn(async () => undefined);
    const wrapper = mount(CredentialTable, { props: { kind: 'token', items, now: NOW, revoke }, attachTo: document.body });
    await wrapper.find('button[aria-label="Revoke token"]').trigger('click');
    await settle();
    const dialog = document.querySelector('dialog')!;
    expect(dialog.open).toBe(true);
    expect(dialog.textContent).toContain('Revoke this token?');
    expect(revoke).not.toHaveBeenCalled();
    const confirm = [...dialog.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Revoke')!;
    confirm.click();
    await settle();
    expect(revoke).toHaveBeenCalledWith('active');
    wrapper.unmount();
  });

  it('shows the reason when revoking fails and keeps the dialog open', async () => {
    const revoke = vi.fn(async () => {
      throw new Error('Token already revoked');
    });
    const wrapper = mount(CredentialTable, { props: { kind: 'secret', items, now: NOW, revoke }, attachTo: document.body });
    await wrapper.find('button[aria-label="Revoke secret"]').trigger('click');
    await settle();
    [...document.querySelectorAll('dialog button')].find((b) => b.textContent?.trim() === 'Revoke')!.dispatchEvent(new Event('click'));
    await settle();
    expect(document.querySelector('dialog [role="alert"]')?.textContent).toContain('Token already revoked');
    wrapper.unmount();
  });
});
