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
    // Copy twice, "Download as file", and "I have copied it".
    expect([...document.querySelectorAll('dialog button')].map((b) => b.textContent?.trim())).toEqual(['Copy', 'Copy', 'Download as file', 'I have copied it']);
    wrapper.unmount();
  });

  it('shows the whole token in a wrapping box, its start in view', async () => {
    const token = `roster_st_${'x'.repeat(80)}`;
    const wrapper = mount(OneTimeSecretDialog, { props: { secret: { kind: 'token', token } }, attachTo: document.body });
    await settle();
    const box = document.querySelector('[data-testid="one-time-token"]')!;
    expect(box.tagName).toBe('TEXTAREA');
    expect((box as HTMLTextAreaElement).value).toBe(token);
    wrapper.unmount();
  });

  it('asks before closing (button or Escape) when nothing was copied, and closes at once after Copy', async () => {
    const button = (text: string) => [...document.querySelectorAll('dialog button')].find((b) => b.textContent?.trim() === text) as HTMLButtonElement | undefined;
    const wrapper = mount(OneTimeSecretDialog, { props: { secret: { kind: 'token', token: 'roster_st_1' } }, attachTo: document.body });
    await settle();
    document.querySelector('dialog')!.dispatchEvent(new Event('cancel', { cancelable: true }));
    await settle();
    expect(wrapper.emitted('close')).toBeUndefined();
    expect(document.querySelector('[data-testid="one-time-confirm"]')!.textContent).toBe('You have not copied the token. Close anyway? It cannot be shown again.');
    button('Back to the secret')!.click();
    await settle();
    expect(document.querySelector('[data-testid="one-time-confirm"]')).toBeNull();
    button('I have copied it')!.click();
    await settle();
    button('Close anyway')!.click();
    expect(wrapper.emitted('close')).toHaveLength(1);
    wrapper.unmount();

    // After Copy, closing asks nothing (the clipboard is a fake here: happy-dom has none that works).
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: async () => undefined }, configurable: true });
    const copiedFirst = mount(OneTimeSecretDialog, { props: { secret: { kind: 'token', token: 'roster_st_2' } }, attachTo: document.body });
    await settle();
    button('Copy')!.click();
    await settle();
    expect(button('Copied')).toBeDefined();
    button('I have copied it')!.click();
    expect(copiedFirst.emitted('close')).toHaveLength(1);
    copiedFirst.unmount();
  });

  it('asks to close, and once the owner drops the secret nothing of it stays in the page or in storage', async () => {
    const wrapper = mount(OneTimeSecretDialog, { props: { secret: { kind: 'token', token: 'rst_gone' } }, attachTo: document.body });
    await settle();
    const done = () => [...document.querySelectorAll('dialog button')].find((b) => b.textContent?.includes('I have copied it') || b.textContent?.includes('Close anyway'))!;
    done().dispatchEvent(new Event('click'));
    await settle();
    done().dispatchEvent(new Event('click'));
    expect(wrapper.emitted('close')).toHaveLength(1);
    await wrapper.setProps({ secret: null });
    await settle();
    expect(document.body.innerHTML).not.toContain('rst_gone');
    expect(document.querySelector('dialog')!.open).toBe(false);
    expect(localStorage.length + sessionStorage.length).toBe(0);
    wrapper.unmount();
  });
});
