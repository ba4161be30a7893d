import { describe, expect, it } from 'vitest';
import { setupApi } from '../test/fake-fetch.ts';
import { useUsersStore } from './users.ts';

const user = (n: number) => ({ id: `u${n}`, userName: `user${n}`, active: true, emails: [] });

describe('paged lists (users)', () => {
  it('sends q, status, client, limit and offset, and starts again at page one when a filter changes', async () => {
    const { server } = setupApi({ 'GET /api/admin/users': { body: { items: [user(1)], total: 60 } } });
    const store = useUsersStore();
    await store.load();
    await store.setOffset(25);
    await store.setFilters({ q: 'ann', status: 'locked', clientId: 'c1' });
    const queries = server.calls.map((c) => Object.fromEntries(c.query));
    expect(queries[1]).toEqual({ limit: '25', offset: '25' });
    expect(queries[2]).toEqual({ q: 'ann', status: 'locked', clientId: 'c1', limit: '25', offset: '0' });
    expect(store.total).toBe(60);
  });

  it('ignores an older answer that arrives after a newer one', async () => {
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    setupApi({
      'GET /api/admin/users': async (call) => {
        if (call.query.get('q') === 'a') await slow;
        return { body: { items: [user(call.query.get('q') === 'a' ? 1 : 2)], total: 1 } };
      },
    });
    const store = useUsersStore();
    const first = store.setFilters({ q: 'a' });
    await store.setFilters({ q: 'ab' });
    release();
    await first;
    expect(store.items.map((u) => u.id)).toEqual(['u2']);
  });
});
