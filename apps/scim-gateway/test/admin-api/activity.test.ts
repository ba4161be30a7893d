import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, Agent, insertProvider, startWithAdmin, type Gateway } from './harness.js';

interface EventItem {
  operation: string;
  status: number | null;
  clientName: string | null;
  resourceId: string | null;
}

describe('activity log, CSV export and stats', () => {
  let gateway: Gateway;
  let agent: Agent;
  let hr: string;
  let it2: string;

  beforeAll(async () => {
    ({ gateway, agent } = await startWithAdmin());
    const providerId = await insertProvider(gateway);
    hr = (await gateway.services.scimClients.createScimClient({ name: 'HR sync', authProviderId: providerId, authMethod: 'static_token' })).id;
    it2 = (await gateway.services.scimClients.createScimClient({ name: 'IT, "ops"', authProviderId: providerId, authMethod: 'static_token' })).id;
    // Only the events below: the setup above recorded none with actor scim_client, and the admin ones are cleared.
    await gateway.db.knex('audit_events').delete();
    const event = (at: string, clientId: string, operation: string, status: number, resourceId: string, detail: Record<string, unknown> | null = null) => ({
      at, actor_type: 'scim_client', client_id: clientId, operation, resource_type: 'User', resource_id: resourceId, status, duration_ms: 5, request_id: `r-${at}`, detail: detail ? JSON.stringify(detail) : null,
    });
    await gateway.db.knex('audit_events').insert([
      event('2026-11-27T10:05:00Z', hr, 'scim.user.create', 201, 'u-1'),
      event('2026-11-27T10:40:00Z', hr, 'scim.user.replace', 409, 'u-2', { error: 'userName taken' }),
      event('2026-11-27T11:10:00Z', it2, 'scim.user.create', 201, '=HYPERLINK("http://evil")'),
      event('2026-11-27T11:20:00Z', hr, 'scim.group.patch', 200, 'g-1'),
      event('2026-11-28T09:00:00Z', it2, 'scim.user.delete', 403, 'u-3', { error: 'deletion refused, "lock" applied' }),
    ]);
  });
  afterAll(async () => gateway?.close());

  const ops = (body: unknown) => (body as { items: EventItem[] }).items.map((event) => event.operation);

  it('lists events newest first with client names, paged', async () => {
    const response = await agent.get('/api/admin/activity?limit=2');
    expect(response.status).toBe(200);
    const body = response.body as { items: EventItem[]; total: number };
    expect(body.total).toBe(5);
    expect(body.items.map((event) => [event.operation, event.clientName])).toEqual([
      ['scim.user.delete', 'IT, "ops"'],
      ['scim.group.patch', 'HR sync'],
    ]);
    expect(ops((await agent.get('/api/admin/activity?limit=2&offset=4')).body)).toEqual(['scim.user.create']);
  });

  it('filters by client, status, time range and search text', async () => {
    expect(ops((await agent.get(`/api/admin/activity?clientId=${it2}`)).body)).toEqual(['scim.user.delete', 'scim.user.create']);
    expect(ops((await agent.get('/api/admin/activity?status=error')).body)).toEqual(['scim.user.delete', 'scim.user.replace']);
    expect(ops((await agent.get('/api/admin/activity?status=success&from=2026-11-27T11:00:00Z&to=2026-11-28T00:00:00Z')).body)).toEqual(['scim.group.patch', 'scim.user.create']);
    expect(ops((await agent.get('/api/admin/activity?q=group')).body)).toEqual(['scim.group.patch']);
    const bad = await agent.get('/api/admin/activity?status=failed&from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      code: 'invalid_input',
      message: 'Invalid query: status must be one of "error", "success" (and 1 more)',
      details: {
        issues: [
          { path: 'status', message: 'must be one of "error", "success"' },
          { path: 'from', message: 'must be an ISO 8601 date or date-time, e.g. 2026-11-28T10:00:00Z' },
        ],
      },
    });
    const reversed = await agent.get('/api/admin/activity?from=2026-11-28&to=2026-11-27');
    expect(reversed.status).toBe(400);
    expect((reversed.body as { message: string }).message).toBe('Invalid query: from must be before to');
  });

  it('exports CSV with RFC 4180 quoting and formula-safe cells, with the same filters', async () => {
    const response = await agent.get(`/api/admin/activity.csv?clientId=${it2}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="roster-activity-\d{8}T\d{6}\.csv"$/);
    expect(response.headers.get('x-total-count')).toBe('2');
    expect(response.headers.get('x-roster-truncated')).toBeNull();
    const lines = response.text.split('\r\n');
    expect(lines).toEqual([
      'at,actorType,clientId,clientName,adminId,adminEmail,operation,resourceType,resourceId,status,durationMs,requestId,detail',
      `2026-11-28T09:00:00.000Z,scim_client,${it2},"IT, ""ops""",,,scim.user.delete,User,u-3,403,5,r-2026-11-28T09:00:00Z,"{""error"":""deletion refused, \\""lock\\"" applied""}"`,
      `2026-11-27T11:10:00.000Z,scim_client,${it2},"IT, ""ops""",,,scim.user.create,User,"'=HYPERLINK(""http://evil"")",201,5,r-2026-11-27T11:10:00Z,`,
      '',
    ]);
  });

  it('counts requests and errors per client per hour and per day', async () => {
    const hourly = await agent.get('/api/admin/activity/stats?bucket=hour&from=2026-11-27T00:00:00Z&to=2026-11-28T00:00:00Z');
    expect(hourly.status).toBe(200);
    expect(hourly.body).toEqual({
      bucket: 'hour',
      from: '2026-11-27T00:00:00.000Z',
      to: '2026-11-28T00:00:00.000Z',
      items: [
        { bucketStart: '2026-11-27T10:00:00.000Z', clientId: hr, clientName: 'HR sync', requests: 2, errors: 1 },
        { bucketStart: '2026-11-27T11:00:00.000Z', clientId: hr, clientName: 'HR sync', requests: 1, errors: 0 },
        { bucketStart: '2026-11-27T11:00:00.000Z', clientId: it2, clientName: 'IT, "ops"', requests: 1, errors: 0 },
      ].sort((a, b) => a.bucketStart.localeCompare(b.bucketStart) || a.clientId.localeCompare(b.clientId)),
    });
    const daily = await agent.get(`/api/admin/activity/stats?bucket=day&from=2026-11-01T00:00:00Z&to=2026-11-29T00:00:00Z&clientId=${it2}`);
    expect(daily.body).toEqual({
      bucket: 'day',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-29T00:00:00.000Z',
      items: [
        { bucketStart: '2026-11-27T00:00:00.000Z', clientId: it2, clientName: 'IT, "ops"', requests: 1, errors: 0 },
        { bucketStart: '2026-11-28T00:00:00.000Z', clientId: it2, clientName: 'IT, "ops"', requests: 1, errors: 1 },
      ],
    });
  });

  it('defaults stats to the last 24 hours by hour and bounds the range', async () => {
    const defaults = await agent.get('/api/admin/activity/stats');
    expect(defaults.status).toBe(200);
    const now = gateway.clock.now();
    expect(defaults.body).toMatchObject({ bucket: 'hour', from: new Date(now.getTime() - 86_400_000).toISOString(), to: now.toISOString() });
    const tooLong = await agent.get('/api/admin/activity/stats?bucket=hour&from=2026-01-01&to=2026-03-01');
    expect(tooLong.status).toBe(400);
    expect((tooLong.body as { message: string }).message).toBe('Invalid query: a range by hour spans at most 31 days');
    expect((await agent.get('/api/admin/activity/stats?bucket=week')).status).toBe(400);
  });

  it('caps the CSV at 100,000 rows and says so in a header', async () => {
    await gateway.db.knex.raw(
      `INSERT INTO audit_events (at, actor_type, operation, status) SELECT timestamptz '2026-01-01' + n * interval '1 second', 'system', 'bulk.test', 200 FROM generate_series(1, 100001) AS n`,
    );
    const response = await agent.get('/api/admin/activity.csv?q=bulk.test');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-total-count')).toBe('100001');
    expect(response.headers.get('x-roster-truncated')).toBe('true');
    const lines = response.text.split('\r\n');
    expect(lines.length).toBe(100_002); // header, 100,000 rows, and the empty string after the last CRLF
    expect(lines[1]).toMatch(/^2026-01-02T03:46:41\.000Z,system,/);
    // 100,001 rows written and exported: a generous bound, the default 30 s ran out on a busy machine.
  }, 120_000);
});

describe('activity of admins', () => {
  let gateway: Gateway;
  let agent: Agent;
  beforeAll(async () => {
    ({ gateway, agent } = await startWithAdmin());
  });
  afterAll(async () => gateway?.close());

  it('names the admin who made a change', async () => {
    expect((await agent.patch('/api/admin/settings', { usersDeletableByAdmins: true })).status).toBe(200);
    const response = await agent.get('/api/admin/activity?q=admin.settings');
    expect(response.status).toBe(200);
    const [event] = (response.body as { items: Array<{ actorType: string; adminEmail: string | null; operation: string }> }).items;
    expect(event).toMatchObject({ actorType: 'admin', adminEmail: ADMIN_EMAIL, operation: 'admin.settings.update' });
  });
});
