import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '@roster/db';
import { createScratchPostgresDatabase } from '@roster/db/testing';
import {
  bearer,
  call,
  ERROR_SCHEMA,
  findSecretsIn,
  GROUP_SCHEMA,
  killAllGateways,
  PATCH_SCHEMA,
  startGatewayProcess,
  USER_SCHEMA,
  type GatewayProcess,
  type HttpResponse,
  waitFor,
} from './support.js';

// Issue 6, concurrency: two real Roster processes on one fresh PostgreSQL database, as behind a load balancer.
// Needs PostgreSQL (the embedded database is one process by design): runs only when TEST_DATABASE_URL is set.

const serverUrl = process.env.TEST_DATABASE_URL;
if (!serverUrl) console.log('reliability/multi-process: skipped (set TEST_DATABASE_URL to run the two-process PostgreSQL tests)');

const ADMIN_EMAIL = 'multi-process-admin@example.com';
const ADMIN_PASSWORD = 'two processes, one database';
/** The documented bound (ROSTER_CREDENTIAL_CACHE_MS default) plus scheduling slack on a loaded 2-core machine. */
const REVOCATION_BOUND_MS = 5000;

describe.skipIf(!serverUrl)('two gateway processes on one PostgreSQL database', () => {
  let scratch: { url: string; drop(): Promise<void> };
  let db: Database;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let adminCookie: string;
  let csrf: string;
  let token: string;
  let clientId: string;
  const secrets = new Set<string>([ADMIN_PASSWORD]);

  const scim = (gateway: GatewayProcess, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResponse> =>
    call(`${gateway.url}/scim_v2${path}`, { method, body, headers: { ...bearer(token), ...headers } });
  const admin = (gateway: GatewayProcess, method: string, path: string, body?: unknown): Promise<HttpResponse> =>
    call(`${gateway.url}/api/admin${path}`, { method, body, headers: { cookie: adminCookie, 'x-csrf-token': csrf, 'content-type': 'application/json' } });

  async function createClient(gateway: GatewayProcess, name: string): Promise<{ id: string; token: string }> {
    const [provider] = (await db.knex('auth_providers').select('id').limit(1)) as Array<{ id: string }>;
    const created = await admin(gateway, 'POST', '/scim-clients', { name, authProviderId: provider!.id, authMethod: 'static_token' });
    expect(created.status).toBe(201);
    const body = created.body as { id: string; token: string };
    secrets.add(body.token);
    return body;
  }

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase(serverUrl!);
    // The races below send up to 50 requests of one client at once: above the cap on requests in flight (8).
    const env = { DATABASE_URL: scratch.url, ROSTER_ADMIN_EMAIL: ADMIN_EMAIL, ROSTER_ADMIN_PASSWORD: ADMIN_PASSWORD, ROSTER_CLIENT_MAX_IN_FLIGHT: '100' };
    // The first process migrates the fresh database; the second finds it migrated.
    a = await startGatewayProcess(env);
    b = await startGatewayProcess(env);
    db = await createDatabase({ url: scratch.url, poolMax: 2 });
    await db.knex('auth_providers').insert({ name: 'Multi-process SAML provider', kind: 'saml', metadata: '{}' });
    const session = await call(`${a.url}/api/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    expect(session.status).toBe(200);
    adminCookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
    csrf = (session.body as { csrfToken: string }).csrfToken;
    secrets.add(adminCookie.split('=')[1]!).add(csrf);
    ({ id: clientId, token } = await createClient(a, 'Load-balanced IdP'));
  }, 120_000);

  afterAll(async () => {
    await killAllGateways();
    await db?.close();
    await scratch?.drop();
  });

  it('50 simultaneous POSTs of one userName across both processes: exactly one 201, 49 × 409 uniqueness, one row', async () => {
    const userName = 'race@example.com';
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => scim(i % 2 ? b : a, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: i % 3 ? userName : userName.toUpperCase(), externalId: `race-${i}` })),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(49);
    for (const response of responses.filter((r) => r.status === 409)) {
      expect(response.body).toEqual({ schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness', detail: expect.stringContaining('userName') });
    }
    const rows = await db.knex('users').whereRaw('lower(user_name) = ?', [userName]);
    expect(rows).toHaveLength(1);
  });

  it('concurrent PATCHes adding different members to one group from both processes lose no member', async () => {
    const users: string[] = [];
    for (let i = 0; i < 40; i++) {
      const created = await scim(i % 2 ? b : a, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: `member-${i}@example.com` });
      expect(created.status).toBe(201);
      users.push((created.body as { id: string }).id);
    }
    const group = await scim(a, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Concurrent members' });
    expect(group.status).toBe(201);
    const groupId = (group.body as { id: string }).id;
    const patches = await Promise.all(
      users.map((userId, i) =>
        scim(i % 2 ? b : a, 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }] }),
      ),
    );
    expect(patches.map((response) => response.status).filter((status) => status !== 200 && status !== 204)).toEqual([]);
    const members = (await db.knex('group_members').where('group_id', groupId).pluck('user_id')) as string[];
    expect(members.sort()).toEqual([...users].sort());
    // Both processes see the same group.
    for (const gateway of [a, b]) {
      const fetched = await scim(gateway, 'GET', `/Groups/${groupId}`);
      expect((fetched.body as { members: unknown[] }).members).toHaveLength(40);
    }
  });

  it('concurrent PUTs with the same If-Match from both processes: exactly one wins, the others get 412', async () => {
    const created = await scim(a, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'etag-race@example.com', displayName: 'Original' });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const etag = created.headers.get('etag');
    expect(etag).toBeTruthy();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        scim(i % 2 ? b : a, 'PUT', `/Users/${id}`, { schemas: [USER_SCHEMA], userName: 'etag-race@example.com', displayName: `Writer ${i}` }, { 'if-match': etag! }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 412)).toHaveLength(9);
    const winner = responses.find((response) => response.status === 200)!;
    const stored = await scim(b, 'GET', `/Users/${id}`);
    expect((stored.body as { displayName: string }).displayName).toBe((winner.body as { displayName: string }).displayName);
    expect(stored.headers.get('etag')).toBe(winner.headers.get('etag'));
  });

  it(`a token revoked through one process is refused by the other within ${REVOCATION_BOUND_MS} ms`, async () => {
    const victim = await createClient(a, 'Revoked IdP');
    // Both processes have verified (and cached) the token.
    for (const gateway of [a, b]) expect((await call(`${gateway.url}/scim_v2/Users?count=1`, { headers: bearer(victim.token) })).status).toBe(200);
    const tokens = await admin(a, 'GET', `/scim-clients/${victim.id}/tokens`);
    const tokenId = (tokens.body as { items: Array<{ id: string }> }).items[0]!.id;
    const revoked = await admin(a, 'DELETE', `/scim-clients/${victim.id}/tokens/${tokenId}`);
    expect(revoked.status).toBe(204);
    const revokedAt = Date.now();
    // The process that revoked it refuses it at once.
    expect((await call(`${a.url}/scim_v2/Users?count=1`, { headers: bearer(victim.token) })).status).toBe(401);
    // Judged by when each request was sent, not by when its answer came: on a busy machine an answer may come
    // seconds late, but a request sent after the bound must be refused, and one is refused in the end.
    const answers: Array<{ sentAfterMs: number; status: number }> = [];
    await waitFor(
      'the other process to refuse the revoked token',
      async () => {
        const sentAfterMs = Date.now() - revokedAt;
        const { status } = await call(`${b.url}/scim_v2/Users?count=1`, { headers: bearer(victim.token) });
        answers.push({ sentAfterMs, status });
        return status === 401 ? true : undefined;
      },
      REVOCATION_BOUND_MS + 60_000,
    );
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 401)).toEqual([]);
    expect(answers.filter((answer) => answer.status === 200 && answer.sentAfterMs > REVOCATION_BOUND_MS + 250)).toEqual([]);
  });

  it('every process answers /metrics with request counts for the client and the database pool', async () => {
    for (const gateway of [a, b]) {
      const metrics = await call(`${gateway.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(new RegExp(`roster_http_requests_total\\{route="/scim_v2/Users",method="POST",status="201",client="${clientId}"\\} \\d+`));
      expect(metrics.text).toMatch(/roster_db_pool_max 10/);
      expect(metrics.text).toMatch(/roster_process_resident_memory_bytes \d+/);
    }
  });

  it('neither process logged a token, secret, password, session cookie or JWT', () => {
    for (const gateway of [a, b]) {
      const output = gateway.output();
      expect(output).toContain('"msg":"request"');
      expect(findSecretsIn(output, secrets)).toEqual([]);
    }
  });
});
