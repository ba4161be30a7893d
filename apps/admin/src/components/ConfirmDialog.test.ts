import { afterEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import ConfirmDialog from './ConfirmDialog.vue';
import { useConfirmedAction } from '../composables/useConfirmedAction.ts';
import { settle } from '../test/fake-fetch.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

function button(label: string): HTMLButtonElement {
  return [...document.querySelectorAll<HTMLButtonElement>('dialog button')].find((b) => b.textContent?.trim() === label)!;
}

describe('ConfirmDialog', () => {
  it('with an action: opens on ask, runs the action on confirm, and closes on success', async () => {
    const run = vi.fn(async () => undefined);
    const action = useConfirmedAction(run);
    const wrapper = mount(ConfirmDialog, { props: { action, title: 'Delete it?', confirmLabel: 'Delete' }, attachTo: document.body });
    await settle();
    expect(document.querySelector('dialog')!.open).toBe(false);
    action.ask('x1');
    await settle();
    expect(document.querySelector('dialog')!.open).toBe(true);
    button('Delete').click();
    await settle();
    expect(run).toHaveBeenCalledWith('x1');
    expect(document.querySelector('dialog')!.open).toBe(false);
    expect(wrapper.emitted('confirm')).toHaveLength(1);
    wrapper.unmount();
  });

  it('with an action: is busy while it runs, shows its error and stays open, and cancel forgets it', async () => {
    let fail: (e: Error) => void = () => undefined;
    const action = useConfirmedAction(() => new Promise((_, reject) => (fail = reject)));
    const wrapper = mount(ConfirmDialog, { props: { action, title: 'Delete it?', confirmLabel: 'Delete' }, attachTo: document.body });
    action.ask('x1');
    await settle();
    button('Delete').click();
    await settle();
    expect(button('Delete').disabled).toBe(true);
    fail(new Error('Still in use'));
    await settle();
    expect(button('Delete').disabled).toBe(false);
    expect(document.querySelector('dialog [role="alert"]')?.textContent).toContain('Still in use');
    expect(document.querySelector('dialog')!.open).toBe(true);
    button('Cancel').click();
    await settle();
    expect(action.pending.value).toBeNull();
    expect(document.querySelector('dialog')!.open).toBe(false);
    expect(document.querySelector('dialog [role="alert"]')).toBeNull();
    wrapper.unmount();
  });

  it('without an action: follows its props and only emits', async () => {
    const wrapper = mount(ConfirmDialog, { props: { open: true, title: 'Sure?', confirmLabel: 'Go', busy: true, error: 'Nope' }, attachTo: document.body });
    await settle();
    expect(document.querySelector('dialog')!.open).toBe(true);
    expect(button('Go').disabled).toBe(true);
    expect(document.querySelector('dialog [role="alert"]')?.textContent).toContain('Nope');
    button('Cancel').click();
    expect(wrapper.emitted('cancel')).toHaveLength(1);
    wrapper.unmount();
  });
});
