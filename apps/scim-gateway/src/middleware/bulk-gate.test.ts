import { describe, expect, it } from 'vitest';
import { createBulkSlots } from './bulk-gate.js';

/** Lets every pending promise callback run (the slots hand over through promise resolution only). */
const settle = async (): Promise<void> => {
  for (let index = 0; index < 10; index++) await Promise.resolve();
};

function harness(limit: number) {
  const slots = createBulkSlots(limit);
  let running = 0;
  let peak = 0;
  const order: string[] = [];
  const release = new Map<string, () => void>();
  const request = (client: string, id: string) =>
    slots.run(client, async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(id);
      await new Promise<void>((resolve) => release.set(id, resolve));
      running--;
    });
  return { request, order, release: (id: string) => release.get(id)!(), peak: () => peak };
}

describe('bulk slots', () => {
  it('runs at most `limit` requests at once and admits one client\'s requests in arrival order', async () => {
    const gate = harness(2);
    const all = ['1', '2', '3', '4', '5'].map((id) => gate.request('a', id));
    await settle();
    expect(gate.order).toEqual(['1', '2']);
    for (const id of ['1', '2', '3', '4', '5']) {
      gate.release(id);
      await settle();
    }
    await Promise.all(all);
    expect(gate.order).toEqual(['1', '2', '3', '4', '5']);
    expect(gate.peak()).toBe(2);
  });

  it("gives a freed slot to another client's waiting request before the busy client's next ones (issue 20, item 6)", async () => {
    const gate = harness(2);
    const all = [gate.request('busy', 'b1'), gate.request('busy', 'b2'), gate.request('busy', 'b3'), gate.request('busy', 'b4'), gate.request('other', 'o1')];
    await settle();
    expect(gate.order).toEqual(['b1', 'b2']);
    gate.release('b1');
    await settle();
    // o1 arrived last, but its client runs nothing: it goes before b3 and b4.
    expect(gate.order).toEqual(['b1', 'b2', 'o1']);
    for (const id of ['b2', 'o1', 'b3', 'b4']) {
      gate.release(id);
      await settle();
    }
    await Promise.all(all);
    expect(gate.order).toEqual(['b1', 'b2', 'o1', 'b3', 'b4']);
  });

  it('lets the next request in when one fails', async () => {
    const slots = createBulkSlots(1);
    await expect(slots.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await slots.run('a', async () => 'ran')).toBe('ran');
  });
});
