import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenBucketLimiter } from '../../src/middleware/rate-limit.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { bearer, call, ERROR_SCHEMA, findSecretsIn, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA, waitFor } from './support.js';

// Issue 6, access: rate limiting per SCIM client, separation of the SCIM and admin surfaces, one client never
// acting as another, "own" data scope for reads and writes, and a scan of the whole run's logs for secrets.

const ADMIN_EMAIL = 'reliability-admin@example.com';
const ADMIN_PASSWORD = 'correct horse battery staple 6';
const RATE = { perSecond: 1, burst: 3 };

let gw: TestGateway;
/** Every secret this file handles: none may appear in the gateway's logs. */
const secrets = new Set<string>([ADMIN_PASSWORD]);
let admin: { cookie: string; csrf: string };

async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const response = await call(`${gw.url}/api/admin/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  });
  expect(response.status).toBe(200);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0]!;
  const csrf = (response.body as { csrfToken: string }).csrfToken;
  secrets.add(cookie.split('=')[1]!);
  secrets.add(csrf);
  return { cookie, csrf };
}

async function newClient(dataScope: 'all' | 'own' = 'all'): Promise<{ clientId: string; token: string }> {
  const created = await gw.addClient({ dataScope });
  secrets.add(created.token);
  return created;
}

beforeAll(async () => {
  gw = await startTestGateway({ ROSTER_ADMIN_EMAIL: ADMIN_EMAIL, ROSTER_ADMIN_PASSWORD: ADMIN_PASSWORD });
  secrets.add(gw.token);
  admin = await signIn();
});

afterAll(async () => {
  await gw?.close();
});

describe('token bucket', () => {
  it('allows a burst, then one request per 1/rate seconds, per key', () => {
    let at = 0;
    const limiter = createTokenBucketLimiter({ perSecond: 2, burst: 3, now: () => at });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBeCloseTo(0.5);
    expect(limiter.take('b')).toBe(0); // another client has its own bucket
    at += 499;
    expect(limiter.take('a')).toBeGreaterThan(0);
    at += 2;
    expect(limiter.take('a')).toBe(0);
    at += 10_000; // refills up to the burst, never beyond
    expect([0, 1, 2, 3].map(() => limiter.take('a'))).toEqual([0, 0, 0, expect.any(Number)]);
  });

  it('forgets idle clients once it holds many buckets', () => {
    let at = 0;
    const limiter = createTokenBucketLimiter({ perSecond: 10, burst: 10, now: () => at });
    for (let i = 0; i < 10_000; i++) limiter.take(`client-${i}`);
    at += 5_000;
    limiter.take('one more');
    expect(limiter.size()).toBe(1);
  });
});

describe('rate limiting per SCIM client', () => {
  // A gateway of its own with a tiny bucket, so the other tests are not throttled.
  let limitedGw: TestGateway;
  beforeAll(async () => {
    limitedGw = await startTestGateway({ ROSTER_RATE_LIMIT_PER_SECOND: String(RATE.perSecond), ROSTER_RATE_LIMIT_BURST: String(RATE.burst) });
  });
  afterAll(async () => {
    if (limitedGw) {
      const found = findSecretsIn(limitedGw.logs.join(''), [limitedGw.token, ...secrets]);
      await limitedGw.close();
      expect(found).toEqual([]);
    }
  });
  const newLimitedClient = async () => {
    const created = await limitedGw.addClient();
    secrets.add(created.token);
    return created;
  };
  it('answers 429 with Retry-After and a SCIM error once the burst is spent, records it in the activity log, and leaves other clients alone', async () => {
    const limited = await newLimitedClient();
    const other = await newLimitedClient();
    const statuses: number[] = [];
    for (let i = 0; i < RATE.burst; i++) statuses.push((await limitedGw.scim('GET', '/Users?count=1', undefined, { token: limited.token })).status);
    expect(statuses).toEqual([200, 200, 200]);

    const refused = await limitedGw.scim('GET', '/Users?count=1', undefined, { token: limited.token, headers: { 'x-request-id': 'rate-limited-1' } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    expect(refused.body).toEqual({
      schemas: [ERROR_SCHEMA],
      status: '429',
      detail: 'too many requests from this SCIM client: at most 1 per second (bursts of 3); retry after 1 s',
    });

    expect((await limitedGw.scim('GET', '/Users?count=1', undefined, { token: other.token })).status).toBe(200);

    const event = await waitFor(
      'the audit event of the refused request',
      async () => (await limitedGw.db.knex('audit_events').where('request_id', 'rate-limited-1').first()) as Record<string, unknown> | undefined,
      60_000,
    );
    expect(event).toMatchObject({ client_id: limited.clientId, status: 429 });

    // After Retry-After seconds the client is served again (a wait of at least that long: load only lengthens it).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await limitedGw.scim('GET', '/Users?count=1', undefined, { token: limited.token })).status).toBe(200);
  });

  it('shows the refusals on /metrics by client and status', async () => {
    const limited = await newLimitedClient();
    for (let i = 0; i <= RATE.burst; i++) await limitedGw.scim('GET', '/Groups?count=1', undefined, { token: limited.token });
    const metrics = await call(`${limitedGw.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.text).toContain(`roster_http_requests_total{route="/scim_v2/Groups",method="GET",status="429",client="${limited.clientId}"} 1`);
    expect(metrics.text).toContain(`roster_http_requests_total{route="/scim_v2/Groups",method="GET",status="200",client="${limited.clientId}"} 3`);
    // Every request before the scrape has been answered (the refused ones too): only the scrape is in flight.
    expect(metrics.text).toMatch(/^roster_http_requests_in_flight 1$/m);
  });
});

describe('activity log', () => {
  it('records failed SCIM requests (404, 400) with the client, status and error detail', async () => {
    const missing = await gw.scim('GET', '/Users/00000000-0000-0000-0000-000000000000', undefined, { headers: { 'x-request-id': 'failed-404' } });
    expect(missing.status).toBe(404);
    const invalid = await gw.scim('POST', '/Users', { schemas: [USER_SCHEMA] }, { headers: { 'x-request-id': 'failed-400' } });
    expect(invalid.status).toBe(400);
    const events = await waitFor(
      'two audit events',
      async () => {
        const rows = (await gw.db.knex('audit_events').whereIn('request_id', ['failed-404', 'failed-400']).orderBy('request_id')) as Array<Record<string, unknown>>;
        return rows.length === 2 ? rows : undefined;
      },
      5000,
    );
    expect(events.map((event) => [event.request_id, event.status, event.client_id])).toEqual([
      ['failed-400', 400, gw.clientId],
      ['failed-404', 404, gw.clientId],
    ]);
    expect(JSON.stringify(events[1]!.detail)).toContain((missing.body as { detail: string }).detail);
  });
});

describe('the SCIM and admin surfaces are separate', () => {
  it('a SCIM credential never opens the admin API', async () => {
    const client = await newClient();
    for (const path of ['/api/admin/scim-clients', '/api/admin/settings', '/api/admin/users', '/api/admin/session']) {
      const response = await call(`${gw.url}${path}`, { headers: bearer(client.token) });
      expect(response.status, path).toBe(401);
    }
    const write = await call(`${gw.url}/api/admin/settings`, {
      method: 'PATCH',
      headers: { ...bearer(client.token), 'content-type': 'application/json' },
      body: { usersDeletableByAdmins: true },
    });
    expect([401, 403]).toContain(write.status);
    expect((await gw.roster.services.settings.get()).usersDeletableByAdmins).toBe(false);
  });

  it('an admin session never opens the SCIM API', async () => {
    const control = await call(`${gw.url}/api/admin/settings`, { headers: { cookie: admin.cookie } });
    expect(control.status).toBe(200); // the session itself is valid
    for (const [method, path] of [
      ['GET', '/Users'],
      ['POST', '/Users'],
      ['GET', '/Groups'],
    ] as const) {
      const response = await call(`${gw.scimUrl}${path}`, {
        method,
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
        ...(method === 'POST' ? { body: { schemas: [USER_SCHEMA], userName: 'via-admin-cookie@example.com' } } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="roster"/);
    }
    expect(await gw.db.knex('users').whereRaw('lower(user_name) = ?', ['via-admin-cookie@example.com']).first()).toBeUndefined();
  });

  it('the CSRF token or session cookie used as a bearer token is refused', async () => {
    for (const value of [admin.csrf, admin.cookie.split('=')[1]!]) {
      expect((await gw.scim('GET', '/Users', undefined, { token: value })).status).toBe(401);
    }
  });
});

describe('one client never acts as another', () => {
  it('writes are attributed to the client whose credential was sent, in the resource and the activity log', async () => {
    const a = await newClient();
    const b = await newClient();
    const created = await gw.scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'attributed@example.com' }, { token: a.token, headers: { 'x-request-id': 'attr-1' } });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const row = (await gw.db.knex('users').where('id', id).first()) as { created_by_client_id: string };
    expect(row.created_by_client_id).toBe(a.clientId);
    const event = await waitFor('audit event', async () => (await gw.db.knex('audit_events').where('request_id', 'attr-1').first()) as Record<string, unknown> | undefined, 60_000);
    expect(event.client_id).toBe(a.clientId);
    expect(event.client_id).not.toBe(b.clientId);
  });

  it('a credential altered in one character, or one client\'s token with another\'s prefix, is refused', async () => {
    const a = await newClient();
    const last = a.token.at(-1)!;
    const altered = a.token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
    expect((await gw.scim('GET', '/Users', undefined, { token: altered })).status).toBe(401);
    expect((await gw.scim('GET', '/Users', undefined, { token: `${a.token}x` })).status).toBe(401);
    expect((await gw.scim('GET', '/Users', undefined, { token: a.token.slice(0, 20) })).status).toBe(401);
  });

  it('a deleted client\'s credential stops working at once in this process', async () => {
    const a = await newClient();
    expect((await gw.scim('GET', '/Users', undefined, { token: a.token })).status).toBe(200);
    const deleted = await call(`${gw.url}/api/admin/scim-clients/${a.clientId}`, { method: 'DELETE', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf } });
    expect(deleted.status).toBe(204);
    expect((await gw.scim('GET', '/Users', undefined, { token: a.token })).status).toBe(401);
  });
});

describe('"own" data scope: one client cannot read or change what another provisioned', () => {
  let mine: { clientId: string; token: string };
  let theirs: { clientId: string; token: string };
  let userId: string;
  let groupId: string;
  let theirGroupId: string;
  let theirUserId: string;

  beforeAll(async () => {
    mine = await newClient('own');
    theirs = await newClient('own');
    const user = await gw.scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'own-scope@example.com', externalId: 'own-1' }, { token: mine.token });
    expect(user.status).toBe(201);
    userId = (user.body as { id: string }).id;
    const group = await gw.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Own scope group', members: [{ value: userId }] }, { token: mine.token });
    expect(group.status).toBe(201);
    groupId = (group.body as { id: string }).id;
    const theirUser = await gw.scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'their-user@example.com' }, { token: theirs.token });
    theirUserId = (theirUser.body as { id: string }).id;
    const theirGroup = await gw.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Their group' }, { token: theirs.token });
    expect(theirGroup.status).toBe(201);
    theirGroupId = (theirGroup.body as { id: string }).id;
  });

  it('reads: the other client does not see the resources by id, list, filter or .search', async () => {
    expect((await gw.scim('GET', `/Users/${userId}`, undefined, { token: mine.token })).status).toBe(200);
    expect((await gw.scim('GET', `/Users/${userId}`, undefined, { token: theirs.token })).status).toBe(404);
    expect((await gw.scim('GET', `/Groups/${groupId}`, undefined, { token: theirs.token })).status).toBe(404);
    const listed = await gw.scim('GET', '/Users?count=1000', undefined, { token: theirs.token });
    expect((listed.body as { Resources: Array<{ id: string }> }).Resources.map((r) => r.id)).toEqual([theirUserId]);
    const filtered = await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "own-scope@example.com"')}`, undefined, { token: theirs.token });
    expect((filtered.body as { totalResults: number }).totalResults).toBe(0);
    const byExternal = await gw.scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "own-1"')}`, undefined, { token: theirs.token });
    expect((byExternal.body as { totalResults: number }).totalResults).toBe(0);
    const groups = await gw.scim('GET', '/Groups?count=1000', undefined, { token: theirs.token });
    expect((groups.body as { Resources: Array<{ id: string }> }).Resources.map((r) => r.id)).toEqual([theirGroupId]);
    const searched = await gw.scim('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "own"' }, { token: theirs.token });
    expect((searched.body as { totalResults: number }).totalResults).toBe(0);
  });

  it('writes: PUT, PATCH and DELETE by the other client are 404 and change nothing', async () => {
    const before = await gw.db.knex('users').where('id', userId).first();
    const put = await gw.scim('PUT', `/Users/${userId}`, { schemas: [USER_SCHEMA], userName: 'hijacked@example.com' }, { token: theirs.token });
    expect(put.status).toBe(404);
    const patch = await gw.scim('PATCH', `/Users/${userId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] }, { token: theirs.token });
    expect(patch.status).toBe(404);
    const groupPatch = await gw.scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'remove', path: 'members' }] }, { token: theirs.token });
    expect(groupPatch.status).toBe(404);
    expect((await gw.scim('DELETE', `/Users/${userId}`, undefined, { token: theirs.token })).status).toBe(404);
    expect((await gw.scim('DELETE', `/Groups/${groupId}`, undefined, { token: theirs.token })).status).toBe(404);
    expect(await gw.db.knex('users').where('id', userId).first()).toEqual(before);
    expect(await gw.db.knex('group_members').where('group_id', groupId).count<{ count: number }[]>({ count: '*' })).toEqual([{ count: 1 }]);
  });

  it('writes: the other client cannot pull a foreign user into its own group, nor take its userName by uniqueness probing without a 409', async () => {
    const add = await gw.scim(
      'PATCH',
      `/Groups/${theirGroupId}`,
      { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }] },
      { token: theirs.token },
    );
    expect(add.status).toBeGreaterThanOrEqual(400);
    expect(add.status).toBeLessThan(500);
    expect(await gw.db.knex('group_members').where({ group_id: theirGroupId, user_id: userId }).first()).toBeUndefined();
    // userName stays unique across the whole directory: a clash is reported, but the other resource is not revealed.
    const clash = await gw.scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'own-scope@example.com' }, { token: theirs.token });
    expect(clash.status).toBe(409);
    expect(clash.text).not.toContain(userId);
  });

  it('bulk operations of the other client are held to the same scope', async () => {
    const bulk = await gw.scim(
      'POST',
      '/Bulk',
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          { method: 'PATCH', path: `/Users/${userId}`, data: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] } },
          { method: 'DELETE', path: `/Groups/${groupId}` },
        ],
      },
      { token: theirs.token },
    );
    expect(bulk.status).toBe(200);
    expect((bulk.body as { Operations: Array<{ status: string }> }).Operations.map((op) => op.status)).toEqual(['404', '404']);
    expect(((await gw.db.knex('users').where('id', userId).first()) as { active: boolean }).active).toBe(true);
    expect(await gw.db.knex('groups').where('id', groupId).first()).toBeDefined();
  });
});

describe('logs', () => {
  it('contain no token, secret, password, session cookie, CSRF token or JWT after the whole run', async () => {
    // A JWT-shaped bearer and a password in a SCIM body must not be echoed into the log either.
    const jwt = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyb2JvdCIsImF1ZCI6InJvc3RlciJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
    secrets.add(jwt);
    expect((await gw.scim('GET', '/Users', undefined, { token: jwt })).status).toBe(401);
    const password = 'Sup3r-Secret-Passw0rd-in-a-body';
    secrets.add(password);
    await gw.scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'with-password@example.com', password });
    await call(`${gw.url}/api/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: { email: ADMIN_EMAIL, password: `${ADMIN_PASSWORD}-wrong` } });
    secrets.add(`${ADMIN_PASSWORD}-wrong`);
    await gw.roster.services.scimAudit.drain();
    const text = gw.logs.join('');
    expect(text).toContain('"msg":"request"');
    expect(findSecretsIn(text, secrets)).toEqual([]);
    // Nor in the activity log.
    const audit = JSON.stringify(await gw.db.knex('audit_events').select('*'));
    expect(findSecretsIn(audit, secrets)).toEqual([]);
  });
});
