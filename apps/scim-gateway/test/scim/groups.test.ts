import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let gw: TestGateway;
const users: Json[] = [];
beforeAll(async () => {
  gw = await startTestGateway();
  for (let index = 0; index < 4; index++) {
    const response = await gw.scim('POST', '/Users', { schemas: [USER], userName: `member${index}@example.com`, displayName: `Member ${index}` });
    users.push(response.body as Json);
  }
});
afterAll(async () => gw?.close());

async function memberIds(groupId: string): Promise<string[]> {
  const body = (await gw.scim('GET', `/Groups/${groupId}`)).body as Json;
  return (body.members ?? []).map((member: Json) => member.value).sort();
}

describe('Groups', () => {
  it('creates a group with members and shows them with $ref and display', async () => {
    const response = await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Engineering', externalId: 'eng', members: [{ value: users[0]!.id }] });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      schemas: [GROUP],
      displayName: 'Engineering',
      externalId: 'eng',
      members: [{ value: users[0]!.id, $ref: `${gw.scimUrl}/Users/${users[0]!.id}`, display: 'Member 0', type: 'User' }],
      meta: { resourceType: 'Group', version: 'W/"1"' },
    });
  });

  it('refuses a duplicate displayName in another case with 409', async () => {
    const response = await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'ENGINEERING' });
    expect(response.status).toBe(409);
    expect((response.body as Json).scimType).toBe('uniqueness');
  });

  it('refuses unknown member ids with 400 invalidValue naming them, and groups as members', async () => {
    const unknown = await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Bad members', members: [{ value: 'nope-1' }, { value: users[1]!.id }] });
    expect(unknown.status).toBe(400);
    expect((unknown.body as Json).scimType).toBe('invalidValue');
    expect((unknown.body as Json).detail).toContain('"nope-1"');
    const nested = await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Nested', members: [{ value: users[1]!.id, type: 'Group' }] });
    expect(nested.status).toBe(400);
    expect((await gw.scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Bad members"')}`)).body).toMatchObject({ totalResults: 0 });
  });

  it('PATCH adds and removes members, answers 204, and treats repeats as no-ops', async () => {
    const group = (await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Patchers' })).body as Json;
    const add = await gw.scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: users[0]!.id }, { value: users[1]!.id }] }],
    });
    expect(add.status).toBe(204);
    expect(add.headers.get('etag')).toBe('W/"2"');
    expect(add.text).toBe('');
    const again = await gw.scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: users[0]!.id }] }] });
    expect(again.status).toBe(204);
    expect(again.headers.get('etag')).toBe('W/"2"');
    // Entra removes members with path `members` and a value array.
    const remove = await gw.scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: [{ value: users[0]!.id }] }] });
    expect(remove.status).toBe(204);
    expect(await memberIds(group.id)).toEqual([users[1]!.id]);
    const filtered = await gw.scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${users[1]!.id}"]` }] });
    expect(filtered.status).toBe(204);
    expect(await memberIds(group.id)).toEqual([]);
    const absent = await gw.scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${users[2]!.id}"]` }] });
    expect(absent.status).toBe(204);
  });

  it('PATCH answers 200 with the group when attributes are asked for, and renames like Okta (value with id)', async () => {
    const group = (await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Okta old' })).body as Json;
    const response = await gw.scim('PATCH', `/Groups/${group.id}?attributes=displayName`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { id: group.id, displayName: 'Okta new' } }],
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: group.id, displayName: 'Okta new' });
    expect((response.body as Json).members).toBeUndefined();
  });

  it('a PATCH that fails validation changes nothing (all or nothing)', async () => {
    const group = (await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Atomic', members: [{ value: users[0]!.id }] })).body as Json;
    const response = await gw.scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: users[1]!.id }] },
        { op: 'add', path: 'members', value: [{ value: '00000000-0000-0000-0000-00000000dead' }] },
      ],
    });
    expect(response.status).toBe(400);
    expect(await memberIds(group.id)).toEqual([users[0]!.id]);
  });

  it('PUT replaces members; a PUT without members empties the group', async () => {
    const group = (await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Keycloak', members: [{ value: users[0]!.id }] })).body as Json;
    const put = await gw.scim('PUT', `/Groups/${group.id}`, {
      schemas: [GROUP],
      displayName: 'Keycloak',
      members: [{ value: users[2]!.id, $ref: `${gw.scimUrl}/Users/${users[2]!.id}` }, { value: users[3]!.id }],
    });
    expect(put.status).toBe(200);
    expect(await memberIds(group.id)).toEqual([users[2]!.id, users[3]!.id].sort());
    const empty = await gw.scim('PUT', `/Groups/${group.id}`, { schemas: [GROUP], displayName: 'Keycloak' });
    expect(empty.status).toBe(200);
    expect(await memberIds(group.id)).toEqual([]);
  });

  it('does not read members when they are excluded, and shows groups on users', async () => {
    const group = (await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Visible', members: [{ value: users[3]!.id }] })).body as Json;
    const excluded = (await gw.scim('GET', `/Groups/${group.id}?excludedAttributes=members`)).body as Json;
    expect(excluded.members).toBeUndefined();
    expect(excluded.displayName).toBe('Visible');
    const user = (await gw.scim('GET', `/Users/${users[3]!.id}`)).body as Json;
    expect(user.groups).toContainEqual({ value: group.id, $ref: `${gw.scimUrl}/Groups/${group.id}`, display: 'Visible', type: 'direct' });
    const byMember = (await gw.scim('GET', `/Groups?filter=${encodeURIComponent(`members.value eq "${users[3]!.id}"`)}&excludedAttributes=members`)).body as Json;
    expect(byMember.Resources.map((item: Json) => item.displayName)).toContain('Visible');
    const byGroup = (await gw.scim('GET', `/Users?filter=${encodeURIComponent(`groups.value eq "${group.id}"`)}`)).body as Json;
    expect(byGroup.Resources.map((item: Json) => item.id)).toEqual([users[3]!.id]);
  });

  it('DELETE removes the group and its memberships, not the users', async () => {
    const group = (await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Doomed', members: [{ value: users[0]!.id }] })).body as Json;
    expect((await gw.scim('DELETE', `/Groups/${group.id}`)).status).toBe(204);
    expect((await gw.scim('GET', `/Groups/${group.id}`)).status).toBe(404);
    const user = await gw.scim('GET', `/Users/${users[0]!.id}`);
    expect(user.status).toBe(200);
    expect(((user.body as Json).groups ?? []).map((ref: Json) => ref.value)).not.toContain(group.id);
    // group_members.group_id has no foreign key: the repository deletes the rows itself.
    expect(await gw.db.knex('group_members').where('group_id', group.id).count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('Bulk', () => {
  it('creates a group whose members are users created in the same request (bulkId references)', async () => {
    const response = await gw.scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: [GROUP], displayName: 'Bulk group', members: [{ value: 'bulkId:u1' }, { value: 'bulkId:u2' }] } },
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { schemas: [USER], userName: 'bulk1@example.com' } },
        { method: 'POST', path: '/Users', bulkId: 'u2', data: { schemas: [USER], userName: 'bulk2@example.com' } },
        { method: 'POST', path: '/Users', bulkId: 'dup', data: { schemas: [USER], userName: 'BULK1@example.com' } },
      ],
    });
    expect(response.status).toBe(200);
    const operations = (response.body as Json).Operations as Json[];
    expect(operations.map((op) => [op.bulkId, op.status])).toEqual([
      ['g1', '201'],
      ['u1', '201'],
      ['u2', '201'],
      ['dup', '409'],
    ]);
    expect(operations[3]!.response).toMatchObject({ status: '409', scimType: 'uniqueness' });
    const groupId = operations[0]!.location.split('/').pop();
    expect((await memberIds(groupId)).length).toBe(2);
  });

  it('creates a run of users together: a bad or taken entry fails alone, the rest get ids and provider links', async () => {
    const operations = Array.from({ length: 50 }, (_, index) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `many${index}`,
      data: { schemas: [USER], userName: `many${index}@example.com`, externalId: `ext-many-${index}` },
    }));
    operations[10]!.data = { schemas: [USER], externalId: 'no-user-name' } as never;
    operations[20]!.data.userName = 'MEMBER0@example.com'; // taken by a user created before the request
    operations[30]!.data.userName = 'many29@EXAMPLE.com'; // taken by an earlier entry of the same request
    Object.assign(operations[40]!.data, {
      name: { givenName: 'Forty', familyName: 'Many' },
      displayName: 'Forty Many',
      active: false,
      emails: [{ value: 'Forty.Work@Example.com', type: 'work', primary: true }, { value: 'forty@home.example.org' }],
    });
    const response = await gw.scim('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: operations });
    expect(response.status).toBe(200);
    const results = (response.body as Json).Operations as Json[];
    expect(results).toHaveLength(50);
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === '201')).toHaveLength(47);
    expect([statuses[10], statuses[20], statuses[30]]).toEqual(['400', '409', '409']);
    expect(results[0]).toEqual({ method: 'POST', bulkId: 'many0', status: '201', location: expect.stringMatching(new RegExp(`^${gw.scimUrl}/Users/[0-9a-f-]{36}$`)), version: 'W/"1"' });
    const id = results[5]!.location.split('/').pop();
    const user = (await gw.scim('GET', `/Users/${id}`)).body as Json;
    expect(user).toMatchObject({ userName: 'many5@example.com', externalId: 'ext-many-5' });
    const links = await gw.db.knex('user_provider_links').where({ user_id: id }).select('provider_id', 'external_id');
    expect(links).toEqual([{ provider_id: gw.providerId, external_id: 'ext-many-5' }]);
    // The columns that filters and sorting read are filled as a single POST fills them.
    const forty = await gw.db.knex('users').where({ user_name: 'many40@example.com' }).first('display_name', 'given_name', 'family_name', 'active', 'emails_lower', 'created_by_client_id');
    expect(forty).toEqual({ display_name: 'Forty Many', given_name: 'Forty', family_name: 'Many', active: false, emails_lower: ['forty.work@example.com', 'forty@home.example.org'], created_by_client_id: gw.clientId });
    const found = (await gw.scim('GET', `/Users?filter=${encodeURIComponent('emails.value eq "FORTY.work@example.com" and active eq false')}`)).body as Json;
    expect(found.Resources.map((resource: Json) => resource.userName)).toEqual(['many40@example.com']);
  });

  it('stops after failOnErrors errors and refuses more than maxOperations with 413', async () => {
    const response = await gw.scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { schemas: [USER] } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: { schemas: [USER], userName: 'never@example.com' } },
      ],
    });
    expect((response.body as Json).Operations).toHaveLength(1);
    expect((await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "never@example.com"')}`)).body).toMatchObject({ totalResults: 0 });
    const tooMany = await gw.scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: 1001 }, (_, index) => ({ method: 'DELETE', path: `/Users/${index}` })),
    });
    expect(tooMany.status).toBe(413);
  });
});

describe('discovery and protocol edges', () => {
  it('serves ServiceProviderConfig without authentication, true to what is implemented', async () => {
    const response = await gw.scim('GET', '/ServiceProviderConfig', undefined, { token: null });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000 },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      pagination: { cursor: true, index: true },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken', primary: true })],
    });
  });

  it('serves ResourceTypes and Schemas', async () => {
    const types = (await gw.scim('GET', '/ResourceTypes', undefined, { token: null })).body as Json;
    expect(types.Resources.map((type: Json) => type.id)).toEqual(['User', 'Group']);
    const user = (await gw.scim('GET', '/ResourceTypes/User', undefined, { token: null })).body as Json;
    expect(user.schemaExtensions).toEqual([{ schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false }]);
    const schema = (await gw.scim('GET', `/Schemas/${USER}`, undefined, { token: null })).body as Json;
    expect(schema.attributes.map((attribute: Json) => attribute.name)).toContain('userName');
    expect((await gw.scim('GET', '/Schemas/urn:nope', undefined, { token: null })).status).toBe(404);
  });

  it('answers /Me with 501 and unknown endpoints with a SCIM 404', async () => {
    const me = await gw.scim('GET', '/Me');
    expect(me.status).toBe(501);
    expect((me.body as Json).status).toBe('501');
    const unknown = await gw.scim('GET', '/Nope');
    expect(unknown.status).toBe(404);
    expect((unknown.body as Json).schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  });

  it('refuses a non-JSON content type with 415', async () => {
    const response = await gw.scim('POST', '/Users', undefined, { raw: '<user/>', headers: { 'content-type': 'application/xml' } });
    expect(response.status).toBe(415);
  });

  it('requires a credential on resource endpoints', async () => {
    const response = await gw.scim('GET', '/Users', undefined, { token: null });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="roster"/);
  });
});

describe('POST /.search at the root', () => {
  it('searches Users and Groups together, paging over both', async () => {
    const all = (await gw.scim('POST', '/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 1000 })).body as Json;
    const users = ((await gw.scim('GET', '/Users?count=0')).body as Json).totalResults;
    const groups = ((await gw.scim('GET', '/Groups?count=0')).body as Json).totalResults;
    expect(all.totalResults).toBe(users + groups);
    expect(all.Resources.filter((resource: Json) => resource.meta.resourceType === 'Group')).toHaveLength(groups);
    const straddling = (await gw.scim('POST', '/.search', { startIndex: users, count: 2 })).body as Json;
    expect(straddling.Resources.map((resource: Json) => resource.meta.resourceType)).toEqual(['User', 'Group']);
    const onlyGroups = (await gw.scim('POST', '/.search', { filter: 'members pr' })).body as Json;
    expect(onlyGroups.Resources.every((resource: Json) => resource.meta.resourceType === 'Group')).toBe(true);
    expect(onlyGroups.totalResults).toBeGreaterThan(0);
  });
});

describe('GET of a large group', () => {
  it('writes more than 1,000 members in slices: the same JSON as one string, chunked instead of with Content-Length', async () => {
    const operations = Array.from({ length: 1001 }, (_, index) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `large${index}`,
      data: { schemas: [USER], userName: `large${index}@example.com`, displayName: index % 2 ? `Large "${index}" \\ ü` : undefined },
    }));
    const bulk = await gw.scim('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: operations.slice(0, 1000) });
    expect(bulk.status).toBe(200);
    const last = await gw.scim('POST', '/Users', operations[1000]!.data);
    expect(last.status).toBe(201);
    const ids = [...((bulk.body as Json).Operations as Json[]).map((result) => String(result.location).split('/').pop()!), (last.body as Json).id as string];
    const create = (displayName: string, members: string[]) => gw.scim('POST', '/Groups', { schemas: [GROUP], displayName, externalId: 'large "ext"', members: members.map((value) => ({ value })) });

    for (const [name, members, sliced] of [
      ['Exactly 1000', ids.slice(0, 1000), false],
      ['Over 1000', ids, true],
    ] as const) {
      const created = await create(name, members);
      expect(created.status, created.text).toBe(201);
      const response = await gw.scim('GET', `/Groups/${(created.body as Json).id}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
      expect(response.headers.get('etag')).toBe('W/"1"');
      expect(response.headers.get('content-length') === null, name).toBe(sliced);
      const body = response.body as Json;
      // Byte for byte what one JSON.stringify writes: no placeholder left, no separator missing or doubled.
      expect(response.text).toBe(JSON.stringify(body));
      expect(body).toMatchObject({ schemas: [GROUP], displayName: name, externalId: 'large "ext"', meta: { resourceType: 'Group', version: 'W/"1"' } });
      expect(body.members).toHaveLength(members.length);
      expect(body.members.map((member: Json) => member.value)).toEqual(members);
      expect(body.members[1]).toEqual({ value: members[1], $ref: `${gw.scimUrl}/Users/${members[1]}`, display: 'Large "1" \\ ü', type: 'User' });
      expect(body.members[0].display).toBe('large0@example.com');
    }

    // Lists: a page whose groups carry more than 1,000 members in all is written resource by resource, each
    // large group in slices; the page of the 1,000-member group alone is one string with Content-Length.
    for (const [filter, names, sliced] of [
      ['displayName eq "Exactly 1000"', ['Exactly 1000'], false],
      ['externalId eq "large \\"ext\\""', ['Exactly 1000', 'Over 1000'], true],
    ] as const) {
      for (const [method, path, payload] of [
        ['GET', `/Groups?filter=${encodeURIComponent(filter)}&sortBy=displayName`, undefined],
        ['POST', '/Groups/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter, sortBy: 'displayName' }],
      ] as const) {
        const response = await gw.scim(method, path, payload);
        expect(response.status, response.text).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
        expect(response.headers.get('content-length') === null, `${method} ${filter}`).toBe(sliced);
        const body = response.body as Json;
        expect(response.text).toBe(JSON.stringify(body));
        expect(body.totalResults).toBe(names.length);
        expect(body.Resources.map((resource: Json) => resource.displayName)).toEqual(names);
        expect(body.Resources.map((resource: Json) => resource.members.length)).toEqual(names.map((name) => (name === 'Exactly 1000' ? 1000 : 1001)));
        expect(body.Resources.at(-1).members.at(-1).value).toBe(ids[names.length === 1 ? 999 : 1000]);
      }
    }
  });
});
