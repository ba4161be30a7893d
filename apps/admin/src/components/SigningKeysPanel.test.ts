import { afterEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import SigningKeysPanel from './SigningKeysPanel.vue';
import { settle, setupApi } from '../test/fake-fetch.ts';
import { useSessionStore } from '../stores/session.ts';

const current = { kid: 'kid-current', alg: 'ES256', createdAt: '2026-12-01T10:00:00.000Z', state: 'current', retiredAt: null, expiresAt: null, published: true };
const retired = { kid: 'kid-old', alg: 'ES256', createdAt: '2026-11-01T10:00:00.000Z', state: 'retired', retiredAt: '2026-12-01T10:00:00.000Z', expiresAt: '2026-12-08T10:00:00.000Z', published: true };
const gone = { kid: 'kid-gone', alg: 'ES256', createdAt: '2026-10-01T10:00:00.000Z', state: 'retired', retiredAt: '2026-10-02T10:00:00.000Z', expiresAt: '2026-10-09T10:00:00.000Z', published: false };
const fresh = { kid: 'kid-new', alg: 'ES256', createdAt: '2026-12-07T10:00:00.000Z', state: 'current', retiredAt: null, expiresAt: null, published: true };

afterEach(() => {
  document.body.innerHTML = '';
});

function button(label: string): HTMLButtonElement {
  return [...document.querySelectorAll<HTMLButtonElement>('dialog button')].find((b) => b.textContent?.trim() === label)!;
}

describe('SigningKeysPanel', () => {
  it('lists the keys with their state and how long each stays in the JWKS', async () => {
    setupApi({ 'GET /api/admin/event-signing-keys': { body: { items: [current, retired, gone] } } });
    const wrapper = mount(SigningKeysPanel, { attachTo: document.body });
    await settle();
    const rows = wrapper.findAll('tbody tr').map((row) => row.findAll('td').map((cell) => cell.text()));
    expect(rows.map((row) => [row[0], row[1]])).toEqual([
      ['kid-current', 'Current'],
      ['kid-old', 'Retired'],
      ['kid-gone', 'Retired'],
    ]);
    expect(rows[0]![4]).toBe('While current');
    expect(rows[1]![4]).not.toBe('No longer published');
    expect(rows[2]![4]).toBe('No longer published');
    wrapper.unmount();
  });

  it('rotates only after confirmation, with the CSRF header, then shows the new key', async () => {
    let rotated = false;
    const { pinia, server } = setupApi({
      'GET /api/admin/event-signing-keys': () => ({ body: { items: rotated ? [fresh, { ...current, state: 'retired', retiredAt: fresh.createdAt, expiresAt: '2026-12-14T10:00:00.000Z' }] : [current] } }),
      'POST /api/admin/event-signing-keys/rotate': () => {
        rotated = true;
        return { status: 201, body: fresh };
      },
    });
    useSessionStore(pinia).csrfToken = 'csrf-1';
    const wrapper = mount(SigningKeysPanel, { attachTo: document.body });
    await settle();
    await wrapper.find('[data-testid="signing-key-rotate"]').trigger('click');
    await settle();
    expect(document.querySelector('dialog')!.open).toBe(true);
    expect(server.callsTo('POST /api/admin/event-signing-keys/rotate')).toHaveLength(0);
    button('Cancel').click();
    await settle();
    expect(server.callsTo('POST /api/admin/event-signing-keys/rotate')).toHaveLength(0);

    await wrapper.find('[data-testid="signing-key-rotate"]').trigger('click');
    await settle();
    button('Rotate signing key').click();
    await settle();
    const [call] = server.callsTo('POST /api/admin/event-signing-keys/rotate');
    expect(call!.headers['X-CSRF-Token'] ?? call!.headers['x-csrf-token']).toBe('csrf-1');
    expect(document.querySelector('dialog')!.open).toBe(false);
    expect(wrapper.find('[data-testid="signing-key-notice"]').text()).toBe('New signing key kid-new is current.');
    expect(wrapper.findAll('[data-testid="signing-key-state"]').map((badge) => badge.text())).toEqual(['Current', 'Retired']);
    wrapper.unmount();
  });
});
