import { afterEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import OneTimeSecretDialog from './OneTimeSecretDialog.vue';
import { settle } from '../test/fake-fetch.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

describe('OneTimeSecretDialog', () => {
  it('shows a static token once with a copy button and the warning', async () => {
    const wrapper = mount(OneTimeSecretDialog, { props: { secret: { kind: 'token', token: 'rst_abc' } }, attachTo: document.body });
    await settle();
    const dialog = document.querySelector('dialog')!;
    expect(dialog.open).toBe(true);
    expect((dialog.querySelector('[data-testid="one-time-token"]') as HTMLInputElement).value).toBe('rst_abc');
    expect(dialog.textContent).toContain('it will not be shown again');
    expect([...dialog.querySelectorAll('button')].some((b) => b.textContent?.trim() === 'Copy')).toBe(true);
    wrapper.unmount();
  });

  it('shows client id and secret for OAuth clients', async () => {
    const wrapper = mount(OneTimeSecretDialog, { props: { secret: { kind: 'oauth', clientId: 'roster_1', clientSecret: 's3cret' } }, attachTo: document.body });
    await settle();
    expect((document.querySelector('[data-testid="one-time-client-id"]') as HTMLInputElement).value).toBe('roster_1');
    expect((document.querySelector('[data-testid="one-time-client-secret"]') as HTMLInputElement).value).toBe('s3cret');
    expect(document.querySelectorAll('dialog button')).toHaveLength(3);
    wrapper.unmount();
  });

  it('asks to close, and once the owner drops the secret nothing of it stays in the page or in storage', async () => {
    const wrapper = mount(OneTimeSecretDialog, { props: { secret: { kind: 'token', token: 'rst_gone' } }, attachTo: document.body });
    await settle();
    [...document.querySelectorAll('dialog button')].find((b) => b.textContent?.includes('I have copied it'))!.dispatchEvent(new Event('click'));
    expect(wrapper.emitted('close')).toHaveLength(1);
    await wrapper.setProps({ secret: null });
    await settle();
    expect(document.body.innerHTML).not.toContain('rst_gone');
    expect(document.querySelector('dialog')!.open).toBe(false);
    expect(localStorage.length + sessionStorage.length).toBe(0);
    wrapper.unmount();
  });
});
