import { describe, expect, it } from 'vitest';
import { useConfirmedAction } from './useConfirmedAction.ts';

describe('useConfirmedAction', () => {
  it('runs the action on the asked target, is busy meanwhile, and closes on success', async () => {
    const ran: string[] = [];
    let release: () => void = () => undefined;
    const action = useConfirmedAction(
      (id: string) =>
        new Promise<void>((resolve) => {
          release = () => {
            ran.push(id);
            resolve();
          };
        }),
    );
    action.ask('a1');
    expect(action.pending.value).toBe('a1');
    const done = action.confirm();
    expect(action.busy.value).toBe(true);
    release();
    await done;
    expect(ran).toEqual(['a1']);
    expect(action.busy.value).toBe(false);
    expect(action.pending.value).toBeNull();
    expect(action.error.value).toBeNull();
  });

  it('keeps the dialog open with the described error on failure, and calls onError', async () => {
    const seen: unknown[] = [];
    const failure = new Error('still in use');
    const action = useConfirmedAction(() => Promise.reject(failure), { describeError: (e) => `Refused: ${(e as Error).message}`, onError: (e) => seen.push(e) });
    action.ask('p1');
    await action.confirm();
    expect(action.pending.value).toBe('p1');
    expect(action.error.value).toBe('Refused: still in use');
    expect(action.busy.value).toBe(false);
    expect(seen).toEqual([failure]);
  });

  it('shows the error message by default and clears it on the next try', async () => {
    let fail = true;
    const action = useConfirmedAction(async () => {
      if (fail) throw new Error('boom');
    });
    action.ask(1);
    await action.confirm();
    expect(action.error.value).toBe('boom');
    fail = false;
    await action.confirm();
    expect(action.error.value).toBeNull();
    expect(action.pending.value).toBeNull();
  });

  it('does nothing when nothing was asked, and cancel closes and forgets the error', async () => {
    let calls = 0;
    const action = useConfirmedAction(async () => {
      calls++;
      throw new Error('no');
    });
    await action.confirm();
    expect(calls).toBe(0);
    action.ask('x');
    await action.confirm();
    action.cancel();
    expect(action.pending.value).toBeNull();
    expect(action.error.value).toBeNull();
  });
});
