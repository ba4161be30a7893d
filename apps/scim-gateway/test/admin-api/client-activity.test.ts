import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, insertProvider, startWithAdmin, type Gateway } from './harness.js';

// Successful SCIM reads are counted (per client, endpoint kind and minute), not logged one by one; the
// admin sees them in /api/admin/activity/reads, in the chart and as the client's last activity.
describe('counted reads and last activity', () => {
  let gateway: Gateway;
  let agent: Agent;
  let clientId: string;
  let token: string;

  beforeAll(async () => {
    ({ gateway, agent } = await startWithAdmin());
    const providerId = await insertProvider(gateway);
    const created = await gateway.services.scimClients.createScimClient({ name: 'Entra', authProviderId: providerId, authMethod: 'static_token' });
    clientId = created.id;
    token = created.token!;
  });
  afterAll(async () => gateway?.close());

  const scim = (method: string, path: string, body?: unknown) =>
    fetch(`${gateway.url}/scim_v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json', ...(body ? { 'content-type': 'application/scim+json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  it('shows a "Test connection" (reads only) in the reads, the chart and the client’s last activity', async () => {
    const before = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const list = await agent.get('/api/admin/scim-clients');
    expect((list.body as { items: Array<{ lastActivityAt: string | null }> }).items[0]!.lastActivityAt).toBeNull();
    // Discovery needs no credential (RFC 7644 §4): it names no client, so it is not counted.
    expect((await scim('GET', '/ServiceProviderConfig')).status).toBe(200);
    expect((await scim('POST', '/Groups/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 1 })).status).toBe(200);
    expect((await scim('GET', '/Users?filter=userName%20eq%20%22nobody%22')).status).toBe(200);
    expect((await scim('GET', '//Users?count=1')).status).toBe(200);
    // Nothing in the log: reads are not logged one by one.
    expect((await agent.get(`/api/admin/activity?clientId=${clientId}`)).body).toMatchObject({ total: 0 });
    // The counts reach the database within about a second (batched in memory).
    await expect
      .poll(async () => ((await agent.get(`/api/admin/activity/reads?clientId=${clientId}`)).body as { items: Array<{ kind: string; requests: number }> }).items.map((r) => [r.kind, r.requests]).sort(), { timeout: 20_000, interval: 200 })
      .toEqual([['groups.list', 1], ['users.list', 2]]);
    const reads = (await agent.get('/api/admin/activity/reads')).body as { items: Array<Record<string, unknown>>; total: number };
    expect(reads.total).toBe(2);
    expect(reads.items[0]).toMatchObject({ clientId, clientName: 'Entra', minute: expect.stringMatching(/:00\.000Z$/) });
    const after = (await agent.get('/api/admin/scim-clients')).body as { items: Array<{ lastActivityAt: string | null }> };
    expect(Date.parse(after.items[0]!.lastActivityAt!)).toBeGreaterThanOrEqual(before.getTime());
    const to = new Date(before.getTime() + 2 * 60_000).toISOString();
    const stats = await agent.get(`/api/admin/activity/stats?bucket=minute&from=${before.toISOString()}&to=${to}`);
    expect(stats.status).toBe(200);
    const points = (stats.body as { items: Array<{ requests: number; errors: number }> }).items;
    expect(points.reduce((sum, p) => sum + p.requests, 0)).toBe(3);
    expect(points.reduce((sum, p) => sum + p.errors, 0)).toBe(0);
  });

  it('names the user a logged write touched, keeping its id', async () => {
    const created = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada@example.com' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await expect
      .poll(async () => ((await agent.get(`/api/admin/activity?clientId=${clientId}`)).body as { items: Array<Record<string, unknown>> }).items[0], { timeout: 20_000, interval: 200 })
      .toMatchObject({ operation: 'scim.user.create', resourceType: 'User', resourceId: id, resourceName: 'ada@example.com' });
  });

  it('bounds the minute range and refuses a bad reads query', async () => {
    const tooLong = await agent.get('/api/admin/activity/stats?bucket=minute&from=2026-01-01T00:00:00Z&to=2026-01-01T07:00:00Z');
    expect(tooLong.status).toBe(400);
    expect((tooLong.body as { message: string }).message).toBe('Invalid query: a range by minute spans at most 6 hours');
    const bad = await agent.get('/api/admin/activity/reads?clientId=nope');
    expect(bad.status).toBe(400);
  });
});
