import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditUpkeep } from '@roster/domain';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// Issue 20, item 2: unauthenticated requests must not fill the database and the log. Failures are counted per
// (address, client, minute) into one audit row; paths are cut; one log line per aggregate; old audit rows go
// after auditRetentionDays.

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

async function authFailureRows(): Promise<Array<{ status: number; detail: Record<string, unknown> }>> {
  return (await gw.db.knex('audit_events').where('operation', 'auth.failure').select('status', 'detail').orderBy('id')) as Array<{ status: number; detail: Record<string, unknown> }>;
}

/** `total` GETs with a bad token over `parallel` keep-alive connections; resolves with the status counts. */
async function flood(total: number, parallel: number, path: string): Promise<Map<number, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  const url = new URL(`${gw.scimUrl}${path}`);
  const statuses = new Map<number, number>();
  let sent = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const request = http.request(url, { agent, headers: { authorization: `Bearer roster_st_${'x'.repeat(43)}` } }, (response) => {
        statuses.set(response.statusCode!, (statuses.get(response.statusCode!) ?? 0) + 1);
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', reject);
      request.end();
    });
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (sent < total) {
        sent += 1;
        await one();
      }
    }),
  );
  agent.destroy();
  return statuses;
}

describe('failed authentications', () => {
  it('10,000 bad-token requests add at most a few audit rows and log lines, and count every request', async () => {
    const before = await authFailureRows();
    const logLinesBefore = gw.logs.filter((line) => line.includes('SCIM authentication failed')).length;
    const statuses = await flood(10_000, 16, `/Users?filter=${'a'.repeat(8000)}`);
    expect(statuses).toEqual(new Map([[401, 10_000]]));
    await gw.roster.services.authFailures.drain();
    const added = (await authFailureRows()).slice(before.length);
    // One row per minute the flood spanned (two at a minute boundary), each with its count.
    expect(added.length).toBeGreaterThanOrEqual(1);
    expect(added.length).toBeLessThanOrEqual(3);
    expect(added.reduce((sum, row) => sum + Number(row.detail.count), 0)).toBe(10_000);
    for (const row of added) {
      expect(row.status).toBe(401);
      expect(row.detail).toMatchObject({ aggregate: true, surface: 'scim', address: expect.stringContaining('127.0.0.1'), method: 'GET', reasons: { unknown_token: true } });
      expect(String(row.detail.path).length).toBeLessThanOrEqual(512);
    }
    const logLines = gw.logs.filter((line) => line.includes('SCIM authentication failed')).length - logLinesBefore;
    expect(logLines).toBeGreaterThanOrEqual(1);
    expect(logLines).toBeLessThanOrEqual(3);
  }, 120_000);

  it('keeps a separate aggregate per client', async () => {
    const before = (await gw.db.knex('audit_events').max('id as id').first()) as { id: number | null };
    const other = await gw.addClient();
    await gw.db.knex('scim_credentials').where('client_id', other.clientId).update({ expires_at: new Date(Date.now() - 1000) });
    for (let i = 0; i < 2; i++) await gw.scim('GET', '/Users', undefined, { token: other.token });
    await gw.scim('GET', '/Users', undefined, { token: `roster_st_${'q'.repeat(43)}` });
    await gw.roster.services.authFailures.drain();
    const added = (await gw.db.knex('audit_events').where('operation', 'auth.failure').where('id', '>', before.id ?? 0).select('client_id', 'detail')) as Array<{ client_id: string | null; detail: { count: number } }>;
    // The unknown token's failure joins this minute's aggregate of unknown clients; the known client has its own.
    const mine = added.filter((row) => row.client_id === other.clientId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.detail.count).toBe(2);
  });

  it('cuts the path of a failed authenticated request in the provisioning log', async () => {
    const response = await gw.scim('GET', `/Users/${'b'.repeat(5000)}`);
    expect(response.status).toBe(404);
    await gw.roster.services.scimAudit.drain();
    const row = (await gw.db.knex('audit_events').where('operation', 'scim.get').where('status', 404).orderBy('id', 'desc').first('detail')) as { detail: { path: string } };
    expect(row.detail.path.length).toBe(512);
  });
});

describe('audit retention', () => {
  it('deletes rows older than auditRetentionDays, keeps newer ones, and two pruners at once do not collide', async () => {
    const now = new Date();
    const day = 86_400_000;
    const rows = [100, 95, 40, 5].map((age) => ({ at: new Date(now.getTime() - age * day), actor_type: 'system', operation: `test.retention.${age}` }));
    await gw.db.knex('audit_events').insert(rows);
    const upkeep = createAuditUpkeep(gw.db.knex);
    const [first, second] = await Promise.all([upkeep.prune(90, now), upkeep.prune(90, now)]);
    expect(first + second).toBeGreaterThanOrEqual(2);
    const left = (await gw.db.knex('audit_events').whereLike('operation', 'test.retention.%').pluck('operation')) as string[];
    expect(left.sort()).toEqual(['test.retention.40', 'test.retention.5']);
    await upkeep.prune(30, now);
    expect(await gw.db.knex('audit_events').whereLike('operation', 'test.retention.%').pluck('operation')).toEqual(['test.retention.5']);
  });

  it('auditRetentionDays is a setting, 90 by default, 1..3650', async () => {
    const settings = gw.roster.services.settings;
    expect((await settings.get()).auditRetentionDays).toBe(90);
    expect((await settings.update({ auditRetentionDays: 30 }, gw.adminId)).auditRetentionDays).toBe(30);
    await settings.update({ auditRetentionDays: 90 }, gw.adminId);
  });
});
