import { describe, expect, it } from 'vitest';
import type { Context } from 'koa';
import { nextTurn } from '../../test/support/wait.js';
import { bulkGate } from './bulk-gate.js';

describe('bulkGate', () => {
  it('runs at most `limit` requests at once and admits the others in arrival order', async () => {
    const gate = bulkGate(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const release: Array<() => void> = [];
    const request = (id: number) =>
      gate({} as Context, async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(id);
        await new Promise<void>((resolve) => release.push(resolve));
        running--;
      });
    const all = [1, 2, 3, 4, 5].map(request);
    // Everything already queued has run (a turn of the event loop, not a time): only two got in.
    await nextTurn();
    expect(order).toEqual([1, 2]);
    while (release.length) {
      release.shift()!();
      await nextTurn();
    }
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it('lets the next request in when one fails', async () => {
    const gate = bulkGate(1);
    const failing = gate({} as Context, async () => {
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    let ran = false;
    await gate({} as Context, async () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });
});
