import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimAudit } from '../../src/middleware/scim-audit.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitUntil } from '../support/wait.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let gw: TestGateway;
beforeAll(async () => {
  // Some tests send 20 requests of one client at once: above the cap on requests in flight (8) on PostgreSQL.
  gw = await startTestGateway({ ROSTER_CLIENT_MAX_IN_FLIGHT: '100' });
});
afterAll(async () => gw?.close());

async function createUser(userName: string, extra: Json = {}): Promise<Json> {
  const response = await gw.scim('POST', '/Users', { schemas: [USER], userName, ...extra });
  expect(response.status, response.text).toBe(201);
  return response.body as Json;
}

describe('POST /Users', () => {
  it('creates a user and answers 201 with Location, ETag and the stored resource', async () => {
    const response = await gw.scim('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'ada@example.com',
      externalId: 'ext-ada',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
      password: 'never-stored-1',
      [ENTERPRISE]: { department: 'Engineering', employeeNumber: '42' },
    });
    expect(response.status).toBe(201);
    const body = response.body as Json;
    expect(response.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    expect(response.headers.get('location')).toBe(`${gw.scimUrl}/Users/${body.id}`);
    expect(response.headers.get('etag')).toBe('W/"1"');
    expect(body).toMatchObject({
      schemas: [USER, ENTERPRISE],
      userName: 'ada@example.com',
      externalId: 'ext-ada',
      active: true,
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
      [ENTERPRISE]: { department: 'Engineering', employeeNumber: '42' },
      meta: { resourceType: 'User', location: `${gw.scimUrl}/Users/${body.id}`, version: 'W/"1"' },
    });
    expect(body.password).toBeUndefined();
    expect(JSON.stringify(await gw.db.knex('users').select('data'))).not.toContain('never-stored-1');
  });

  it('refuses a userName that differs only in case with 409 uniqueness', async () => {
    const response = await gw.scim('POST', '/Users', { schemas: [USER], userName: 'ADA@example.com' });
    expect(response.status).toBe(409);
    expect(response.body).toEqual({ schemas: [ERROR], status: '409', scimType: 'uniqueness', detail: expect.stringContaining('userName') });
  });

  it('accepts application/json and a body without Content-Type', async () => {
    const json = await gw.scim('POST', '/Users', { schemas: [USER], userName: 'json@example.com' }, { headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(201);
    const none = await fetch(`${gw.scimUrl}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.token}` },
      body: new Blob([JSON.stringify({ schemas: [USER], userName: 'none@example.com' })]),
    });
    expect(none.status).toBe(201);
  });

  it('answers 400 to malformed JSON and to a missing userName, changing nothing', async () => {
    const before = await gw.db.knex('users').count('* as n');
    const malformed = await gw.scim('POST', '/Users', undefined, { raw: '{"userName": ' });
    expect(malformed.status).toBe(400);
    expect((malformed.body as Json).scimType).toBe('invalidSyntax');
    const missing = await gw.scim('POST', '/Users', { schemas: [USER], displayName: 'No user name' });
    expect(missing.status).toBe(400);
    expect((missing.body as Json).scimType).toBe('invalidValue');
    expect(await gw.db.knex('users').count('* as n')).toEqual(before);
  });

  it('reads booleans given as strings (Entra sends "True")', async () => {
    const user = await createUser('entra-bool@example.com', { active: 'False' });
    expect(user.active).toBe(false);
  });

  it('creates users whose externalId repeats: externalId is not unique (RFC 7643 §3.1)', async () => {
    await createUser('twin1@example.com', { externalId: 'same-ext' });
    await createUser('twin2@example.com', { externalId: 'same-ext' });
  });
});

describe('GET /Users', () => {
  it('finds a user by userName in another case, with exact totals', async () => {
    const response = await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "Ada@Example.COM"')}`);
    expect(response.status).toBe(200);
    const body = response.body as Json;
    expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
    expect(body.totalResults).toBe(1);
    expect(body.itemsPerPage).toBe(1);
    expect(body.startIndex).toBe(1);
    expect(body.Resources[0].userName).toBe('ada@example.com');
  });

  it('answers 200 with zero results for an unknown userName (Entra existence check)', async () => {
    const response = await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "5f0b8c0e-unknown"')}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ totalResults: 0, itemsPerPage: 0, Resources: [] });
  });

  it('filters on enterprise and multi-valued attributes', async () => {
    const byDepartment = await gw.scim('GET', `/Users?filter=${encodeURIComponent(`${ENTERPRISE}:department eq "engineering"`)}`);
    expect((byDepartment.body as Json).Resources.map((user: Json) => user.userName)).toEqual(['ada@example.com']);
    const byEmail = await gw.scim('GET', `/Users?filter=${encodeURIComponent('emails[type eq "work" and value co "ADA@"]')}`);
    expect((byEmail.body as Json).totalResults).toBe(1);
  });

  it('pages with startIndex and count in a stable order, and count=0 returns only the total', async () => {
    for (let index = 0; index < 5; index++) await createUser(`page${index}@example.com`);
    const all = (await gw.scim('GET', '/Users?count=1000')).body as Json;
    const first = (await gw.scim('GET', '/Users?startIndex=1&count=3')).body as Json;
    const second = (await gw.scim('GET', '/Users?startIndex=4&count=3')).body as Json;
    expect(first.Resources.map((user: Json) => user.id)).toEqual(all.Resources.slice(0, 3).map((user: Json) => user.id));
    expect(second.Resources.map((user: Json) => user.id)).toEqual(all.Resources.slice(3, 6).map((user: Json) => user.id));
    expect(second.startIndex).toBe(4);
    const countOnly = (await gw.scim('GET', '/Users?count=0')).body as Json;
    expect(countOnly).toMatchObject({ totalResults: all.totalResults, itemsPerPage: 0, Resources: [] });
    const below = (await gw.scim('GET', '/Users?startIndex=0&count=2')).body as Json;
    expect(below.startIndex).toBe(1);
  });

  it('pages with cursors (RFC 9865) without skipping or repeating', async () => {
    const all = (await gw.scim('GET', '/Users?count=1000')).body as Json;
    const seen: string[] = [];
    let cursor = '';
    for (let guard = 0; guard < 50; guard++) {
      const page = (await gw.scim('GET', `/Users?count=2&cursor=${encodeURIComponent(cursor)}`)).body as Json;
      seen.push(...page.Resources.map((user: Json) => user.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(all.Resources.map((user: Json) => user.id));
    const bad = await gw.scim('GET', '/Users?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect((bad.body as Json).scimType).toBe('invalidCursor');
  });

  it('sorts by any singular attribute, case-insensitively', async () => {
    const body = (await gw.scim('GET', '/Users?sortBy=userName&sortOrder=descending&count=3')).body as Json;
    const names = body.Resources.map((user: Json) => user.userName.toLowerCase());
    expect(names).toEqual([...names].sort().reverse());
  });

  it('sorts by a multi-valued attribute\'s primary value, else its first (RFC 7644 §3.4.2.3)', async () => {
    await createUser('sort-a@example.com', { emails: [{ value: 'zz@example.com' }, { value: 'aa@example.com', primary: true }] });
    await createUser('sort-b@example.com', { emails: [{ value: 'mm@example.com' }, { value: 'bb@example.com' }] });
    const body = (await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName sw "sort-"')}&sortBy=emails`)).body as Json;
    expect(body.Resources.map((user: Json) => user.userName)).toEqual(['sort-a@example.com', 'sort-b@example.com']);
    const reversed = (await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName sw "sort-"')}&sortBy=emails.value&sortOrder=descending`)).body as Json;
    expect(reversed.Resources.map((user: Json) => user.userName)).toEqual(['sort-b@example.com', 'sort-a@example.com']);
  });

  it('answers 400 for non-numeric paging and bad filters, never 500', async () => {
    const count = await gw.scim('GET', '/Users?count=abc');
    expect(count.status).toBe(400);
    const filter = await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
    expect(filter.status).toBe(400);
    expect((filter.body as Json).scimType).toBe('invalidFilter');
    const unknown = await gw.scim('GET', `/Users?filter=${encodeURIComponent('shoeSize gt 3')}`);
    expect(unknown.status).toBe(400);
  });

  it('honours attributes and excludedAttributes', async () => {
    const body = (await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ada@example.com"')}&attributes=userName,name.givenName`)).body as Json;
    expect(Object.keys(body.Resources[0]).sort()).toEqual(['id', 'meta', 'name', 'schemas', 'userName'].sort());
    expect(body.Resources[0].name).toEqual({ givenName: 'Ada' });
  });

  it('answers POST /Users/.search like GET', async () => {
    const response = await gw.scim('POST', '/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'userName sw "page"',
      count: 2,
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ totalResults: 5, itemsPerPage: 2 });
  });
});

describe('GET /Users/:id', () => {
  it('answers 404 with a SCIM error for unknown and malformed ids', async () => {
    for (const id of ['00000000-0000-0000-0000-000000000000', '010101001010101011001010101011']) {
      const response = await gw.scim('GET', `/Users/${id}`);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ schemas: [ERROR], status: '404', detail: `User ${id} not found` });
    }
  });

  it('supports If-None-Match (304) and a doubled slash in the path (Keycloak)', async () => {
    const user = await createUser('etag@example.com');
    const again = await gw.scim('GET', `//Users/${user.id}`, undefined, { headers: { 'if-none-match': 'W/"1"' } });
    expect(again.status).toBe(304);
    const lower = await gw.scim('GET', `/users/${user.id}/`);
    expect(lower.status).toBe(200);
  });
});

describe('PUT and PATCH /Users/:id', () => {
  it('PUT replaces the user and bumps the version; If-Match mismatch is 412', async () => {
    const user = await createUser('put@example.com', { displayName: 'Before', nickName: 'nick' });
    const stale = await gw.scim('PUT', `/Users/${user.id}`, { schemas: [USER], userName: 'put@example.com' }, { headers: { 'if-match': 'W/"9"' } });
    expect(stale.status).toBe(412);
    const response = await gw.scim('PUT', `/Users/${user.id}`, { schemas: [USER], userName: 'put@example.com', displayName: 'After', id: 'ignored' }, { headers: { 'if-match': 'W/"1"' } });
    expect(response.status).toBe(200);
    const body = response.body as Json;
    expect(body).toMatchObject({ id: user.id, displayName: 'After', meta: { version: 'W/"2"' } });
    expect(body.nickName).toBeUndefined();
  });

  it('PATCH with Entra-style capitalised ops, string booleans and a missing work email', async () => {
    const user = await createUser('patch@example.com');
    const response = await gw.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'patch.work@example.com' },
        { op: 'Replace', path: 'active', value: 'False' },
        { op: 'Add', path: `${ENTERPRISE}:manager`, value: { value: user.id } },
      ],
    });
    expect(response.status, response.text).toBe(200);
    const body = response.body as Json;
    expect(body.active).toBe(false);
    expect(body.emails).toEqual([{ type: 'work', value: 'patch.work@example.com' }]);
    expect(body[ENTERPRISE].manager.value).toBe(user.id);
    const found = (await gw.scim('GET', `/Users?filter=${encodeURIComponent('emails.value eq "PATCH.work@example.com"')}`)).body as Json;
    expect(found.totalResults).toBe(1);
  });

  it('PATCH without path (Okta deactivation) and errors naming the operation', async () => {
    const user = await createUser('okta@example.com');
    const response = await gw.scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(response.status).toBe(200);
    expect((response.body as Json).active).toBe(false);
    const bad = await gw.scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }, { op: 'remove' }] });
    expect(bad.status).toBe(400);
    expect((bad.body as Json).detail).toMatch(/^operation 1: /);
    const unchanged = (await gw.scim('GET', `/Users/${user.id}`)).body as Json;
    expect(unchanged.displayName).toBeUndefined();
  });
});

describe('DELETE /Users/:id', () => {
  it('is refused with 403 naming the setting and locks the user, while deletion is off', async () => {
    const user = await createUser('delete-off@example.com');
    const response = await gw.scim('DELETE', `/Users/${user.id}`);
    expect(response.status).toBe(403);
    expect((response.body as Json).detail).toContain('User accounts deletable by admins');
    const after = (await gw.scim('GET', `/Users/${user.id}`)).body as Json;
    expect(after.active).toBe(false);
  });

  it('deletes the user, memberships and links when the setting is on (204, then 404)', async () => {
    await gw.roster.services.settings.update({ usersDeletableByAdmins: true }, gw.adminId);
    const user = await createUser('delete-on@example.com', { externalId: 'ext-del' });
    const group = await gw.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Deleters', members: [{ value: user.id }] });
    expect(group.status).toBe(201);
    expect((await gw.scim('DELETE', `/Users/${user.id}`)).status).toBe(204);
    expect((await gw.scim('GET', `/Users/${user.id}`)).status).toBe(404);
    expect(await gw.db.knex('group_members').where('user_id', user.id)).toEqual([]);
    expect(await gw.db.knex('user_provider_links').where('user_id', user.id)).toEqual([]);
    await gw.roster.services.settings.update({ usersDeletableByAdmins: false }, gw.adminId);
  });
});

describe('provider links and data scope', () => {
  it('links externalId to the calling client\'s authentication provider', async () => {
    const user = await createUser('linked@example.com', { externalId: 'idp-123' });
    const links = await gw.db.knex('user_provider_links').where('user_id', user.id).select('provider_id', 'external_id');
    expect(links).toEqual([{ provider_id: gw.providerId, external_id: 'idp-123' }]);
  });

  it('hides other clients\' resources from a client limited to its own', async () => {
    const own = await gw.addClient({ dataScope: 'own' });
    const other = await createUser('not-yours@example.com');
    expect((await gw.scim('GET', `/Users/${other.id}`, undefined, { token: own.token })).status).toBe(404);
    const created = await gw.scim('POST', '/Users', { schemas: [USER], userName: 'mine@example.com' }, { token: own.token });
    expect(created.status).toBe(201);
    const list = (await gw.scim('GET', '/Users', undefined, { token: own.token })).body as Json;
    expect(list.Resources.map((user: Json) => user.userName)).toEqual(['mine@example.com']);
    expect((await gw.scim('PATCH', `/Users/${other.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }, { token: own.token })).status).toBe(404);
  });
});

describe('audit', () => {
  it('records every write with client, operation, resource, status and request id', async () => {
    const response = await gw.scim('POST', '/Users', { schemas: [USER], userName: 'audited@example.com' }, { headers: { 'x-request-id': 'req-audit-1' } });
    await gw.roster.services.scimAudit.drain();
    const [event] = await gw.db.knex('audit_events').where('request_id', 'req-audit-1');
    expect(event).toMatchObject({ actor_type: 'scim_client', client_id: gw.clientId, operation: 'scim.user.create', resource_type: 'User', resource_id: (response.body as Json).id, status: 201 });
  });

  it('writes the events of concurrent writes by itself within its time bound, each with the time it happened', async () => {
    const before = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        gw.scim('POST', '/Users', { schemas: [USER], userName: `batched${n}@example.com` }, { headers: { 'x-request-id': `req-batch-${n}` } }),
      ),
    );
    const after = Date.now();
    expect(responses.map((response) => response.status)).toEqual(Array.from({ length: 20 }, () => 201));
    // No drain(): the batch is written within its time bound by itself.
    const events = await waitUntil('the 20 audit events', async () => {
      const rows = (await gw.db.knex('audit_events').whereLike('request_id', 'req-batch-%')) as Array<{ request_id: string; at: Date; resource_id: string }>;
      return rows.length >= 20 ? rows : undefined;
    });
    expect(events.map((event) => event.request_id).sort()).toEqual(Array.from({ length: 20 }, (_, n) => `req-batch-${n}`).sort());
    const ids = new Set(responses.map((response) => (response.body as Json).id));
    expect(events.every((event) => ids.has(event.resource_id))).toBe(true);
    // The time of the request, not of the INSERT that followed up to 20 ms after the last response.
    for (const event of events) {
      expect(new Date(event.at).getTime()).toBeGreaterThanOrEqual(before - 1);
      expect(new Date(event.at).getTime()).toBeLessThanOrEqual(after + 1);
    }
  });

  it('puts the events that wait together into one INSERT', async () => {
    // Its own provisioning log on the gateway's database, so that the requests' timing cannot split the batch:
    // twenty responses decided in one turn of the event loop.
    const log = scimAudit(gw.roster.services.audit, gw.roster.services.logger);
    const statements: string[] = [];
    const listener = (query: { sql: string }): void => void statements.push(query.sql);
    gw.db.knex.on('query', listener);
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, n) => {
          const ctx = { status: 204, method: 'PATCH', path: `/scim_v2/Users/${n}`, state: { requestId: `req-one-insert-${n}`, startedAt: performance.now(), clientId: gw.clientId, audit: { operation: 'scim.user.patch', resourceType: 'User', resourceId: `id-${n}` } } };
          return log.middleware(ctx as unknown as Parameters<typeof log.middleware>[0], async () => undefined);
        }),
      );
      await log.drain();
    } finally {
      gw.db.knex.off('query', listener);
    }
    expect(statements.filter((sql) => /^insert into "?audit_events\b/i.test(sql))).toHaveLength(1);
    const events = await gw.db.knex('audit_events').whereLike('request_id', 'req-one-insert-%').orderBy('id').pluck('resource_id');
    expect(events).toEqual(Array.from({ length: 20 }, (_, n) => `id-${n}`));
  });
});
