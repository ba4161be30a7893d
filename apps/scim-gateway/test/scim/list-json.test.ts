import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryService } from '@roster/domain';
import { parseListParams } from '../../src/scim/list.js';
import { createUserService } from '../../src/scim/service/users.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// Reads without attributes/excludedAttributes write each user's stored document into the response as
// PostgreSQL wrote it (scim/serialize.ts, userJson); with a projection, and after writes, the resource is
// built as objects (serializeUser). These tests hold the two equal, and lists equal to GET (RFC 7644 §3.4.2).

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

const BODIES: Json[] = [
  { userName: 'only-a-name' },
  { userName: 'with-external', externalId: 'ext "quoted" \\ back' },
  { userName: 'inactive', active: false, displayName: '' },
  {
    userName: 'enterprise',
    externalId: 'e-1',
    name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
    [ENTERPRISE]: { department: 'R&D', employeeNumber: '42', manager: { value: 'someone' } },
  },
  {
    userName: 'escapes',
    displayName: 'tab\there, newline\nthere, \u0001 control, \u2028 separator, </script>',
    title: 'ünïcödé 名前 😀',
    nickName: 'back\\slash and "quotes"',
  },
  {
    userName: 'multi-valued',
    emails: [
      { value: 'a@example.com', type: 'work', primary: true },
      { value: 'b@example.com', type: 'home' },
    ],
    phoneNumbers: [{ value: '+1 555 0100', type: 'work' }],
    addresses: [{ streetAddress: '1 Main St\nFloor 2', locality: 'Springfield', country: 'US', primary: true }],
    x509Certificates: [{ value: 'MIIB' }],
  },
  { userName: 'enterprise-empty', [ENTERPRISE]: {} },
];

async function created(body: Json): Promise<Json> {
  const schemas = body[ENTERPRISE] ? [USER, ENTERPRISE] : [USER];
  const response = await gw.scim('POST', '/Users', { schemas, ...body });
  expect(response.status, response.text).toBe(201);
  return response.body as Json;
}

async function got(path: string): Promise<Json> {
  const response = await gw.scim('GET', path);
  expect(response.status, response.text).toBe(200);
  return response.body as Json;
}

describe('reads written as text hold the same resources as the object path', () => {
  let users: Json[];
  beforeAll(async () => {
    users = [];
    for (const body of BODIES) users.push(await created(body));
    // Groups make `groups` non-empty for some users, in group order.
    const member = (index: number): Json => ({ value: users[index]!.id });
    for (const [name, members] of [
      ['list-json-a', [member(1), member(3)]],
      ['list-json-b', [member(3)]],
    ] as const) {
      const response = await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: name, members });
      expect(response.status, response.text).toBe(201);
    }
  });

  it('serializes every kind of document to the same resource as text and as objects, in lists and by id', async () => {
    const service = createUserService({ directory: createDirectoryService(gw.db.knex, { settings: gw.roster.services.settings }), baseUrl: gw.scimUrl });
    const caller = { clientId: gw.clientId, authProviderId: null, dataScope: 'all' as const };
    const params = parseListParams({ count: '100', filter: 'userName pr' });
    const asObjects = await service.list(caller, params, { withGroups: true });
    const asText = await service.listJson(caller, params);
    expect(asText.total).toBe(asObjects.total);
    expect(asText.resources.map((text) => JSON.parse(text) as unknown)).toEqual(asObjects.resources);
    for (const user of users) {
      const { resource } = await service.get(caller, user.id, { withGroups: true });
      const text = await service.getJson(caller, user.id);
      expect(JSON.parse(text.json), user.userName).toEqual(resource);
      expect(text.location).toBe((resource.meta as Json).location);
      expect(text.etag).toBe((resource.meta as Json).version);
    }
    expect(asObjects.resources.length).toBeGreaterThanOrEqual(users.length);
  });

  it('answers a filtered lookup with exactly the resource GET /Users/:id returns, for every kind of document', async () => {
    for (const user of users) {
      const single = await got(`/Users/${user.id}`);
      const listed = await got(`/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(user.userName)}`)}`);
      expect(listed.totalResults).toBe(1);
      expect(listed.Resources[0], user.userName).toEqual(single);
    }
    // The users who are members list their groups; the document's own keys are not repeated.
    const enterprise = await got(`/Users?filter=${encodeURIComponent('userName eq "enterprise"')}`);
    expect(enterprise.Resources[0].groups.map((group: Json) => group.display)).toEqual(['list-json-a', 'list-json-b']);
    expect(enterprise.Resources[0].schemas).toEqual([USER, ENTERPRISE]);
  });

  it('writes valid JSON with no key twice, whatever the stored document holds', async () => {
    const response = await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName sw ""')}&count=50`);
    expect(response.status).toBe(200);
    // Duplicate keys would survive JSON.parse silently (the last wins): count them in the text itself.
    for (const user of users) {
      const start = response.text.indexOf(`"id":"${user.id}"`);
      expect(start, user.userName).toBeGreaterThan(0);
      const end = response.text.indexOf(`"meta":`, start);
      const text = response.text.slice(start, end);
      for (const key of ['userName', 'active', 'externalId', 'id', 'schemas', 'groups']) {
        expect(text.split(`"${key}":`).length - 1, `${user.userName}: ${key}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('pages by startIndex and by cursor with the same resources as GET /Users/:id', async () => {
    const byId = new Map<string, Json>();
    for (const user of users) byId.set(user.id, await got(`/Users/${user.id}`));
    const first = await got('/Users?count=3');
    const deep = await got('/Users?count=3&startIndex=4');
    const cursorFirst = await got('/Users?count=3&cursor=');
    const cursorNext = await got(`/Users?count=3&cursor=${encodeURIComponent(cursorFirst.nextCursor)}`);
    const seen = [...first.Resources, ...deep.Resources, ...cursorFirst.Resources, ...cursorNext.Resources].filter((resource: Json) => byId.has(resource.id));
    expect(seen.length).toBeGreaterThanOrEqual(users.length);
    for (const resource of seen) expect(resource).toEqual(byId.get(resource.id));
    expect(cursorFirst.nextCursor).toEqual(expect.any(String));
    expect(first.itemsPerPage).toBe(3);
    expect(first.startIndex).toBe(1);
    expect(deep.startIndex).toBe(4);
  });

  it('keeps the object path for a projection: attributes and excludedAttributes still apply', async () => {
    const name = encodeURIComponent('userName eq "enterprise"');
    const only = await got(`/Users?filter=${name}&attributes=name`);
    expect(only.Resources[0].name).toEqual({ givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' });
    expect(only.Resources[0].groups).toBeUndefined();
    expect(only.Resources[0][ENTERPRISE]).toBeUndefined();
    const without = await got(`/Users?filter=${name}&excludedAttributes=groups,name`);
    expect(without.Resources[0].groups).toBeUndefined();
    expect(without.Resources[0].name).toBeUndefined();
    expect(without.Resources[0].userName).toBe('enterprise');
  });
});
