import { describe, expect, it } from 'vitest';
import { setupApi } from '../test/fake-fetch.ts';
import { useCredentialsStore } from './credentials.ts';

const token = { id: 't1', kind: 'static_token', status: 'active', hint: 'a1b2', createdAt: '2026-11-01T00:00:00Z', expiresAt: '2027-11-01T00:00:00Z', revokedAt: null, lastUsedAt: null };

describe('useCredentialsStore', () => {
  it('lists tokens of a static-token client and secrets of an OAuth client', async () => {
    const { server } = setupApi({
      'GET /api/admin/scim-clients/c1/tokens': { body: { items: [token], total: 1 } },
      'GET /api/admin/scim-clients/c2/secrets': { body: { items: [], total: 0 } },
    });
    const store = useCredentialsStore();
    await store.load('c1', 'token');
    expect(store.items).toEqual([token]);
    await store.load('c2', 'secret');
    expect(store.items).toEqual([]);
    expect(server.calls.map((c) => c.path)).toEqual(['/api/admin/scim-clients/c1/tokens', '/api/admin/scim-clients/c2/secrets']);
  });

  it('creates a token with the chosen lifetime and lists it without its value', async () => {
    const { server } = setupApi({
      'GET /api/admin/scim-clients/c1/tokens': { body: { items: [], total: 0 } },
      'POST /api/admin/scim-clients/c1/tokens': { status: 201, body: { ...token, token: 'rst_plain' } },
    });
    const store = useCredentialsStore();
    await store.load('c1', 'token');
    const created = await store.create(90);
    expect(server.callsTo('POST /api/admin/scim-clients/c1/tokens')[0]!.body).toEqual({ lifetimeDays: 90 });
    expect('token' in created && created.token).toBe('rst_plain');
    expect(store.items).toEqual([token]);
  });

  it('marks a revoked token as revoked', async () => {
    setupApi({
      'GET /api/admin/scim-clients/c1/tokens': { body: { items: [token], total: 1 } },
      'DELETE /api/admin/scim-clients/c1/tokens/t1': { status: 204 },
    });
    const store = useCredentialsStore();
    await store.load('c1', 'token');
    await store.revoke('t1');
    expect(store.items[0]!.revokedAt).toEqual(expect.any(String));
  });
});
