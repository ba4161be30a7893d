import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA } from './support.js';

// Issue 20, item 10: a client with data scope "own" must not see another client's resources through a
// membership that a client with scope "all" created across owners: not in its group's `members`, not in its
// users' `groups`, and not by probing with a filter on `members[...]` or `groups[...]`. One test per read path
// (each reads the joined side with its own SQL). Runs on PGlite, and on PostgreSQL with TEST_DATABASE_URL.

let gw: TestGateway;
let mine: { clientId: string; token: string };
let theirs: { clientId: string; token: string };
const ids = { myUser: '', myGroup: '', myLonelyGroup: '', myLonelyUser: '', theirUser: '', theirGroup: '' };

type Resource = { id: string; members?: Array<{ value: string }>; groups?: Array<{ value: string }> };
type List = { totalResults: number; Resources: Resource[] };

async function create(path: string, body: unknown, token: string): Promise<string> {
  const response = await gw.scim('POST', path, body, { token });
  expect(response.status).toBe(201);
  return (response.body as { id: string }).id;
}

async function addMember(groupId: string, userId: string): Promise<void> {
  // The primary client has data scope "all": it may link any user to any group.
  const response = await gw.scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }] });
  expect(response.status).toBeLessThan(300);
}

const memberIds = (resource: Resource): string[] => (resource.members ?? []).map((member) => member.value).sort();
const groupIds = (resource: Resource): string[] => (resource.groups ?? []).map((group) => group.value).sort();
const q = (filter: string): string => encodeURIComponent(filter);

beforeAll(async () => {
  gw = await startTestGateway();
  mine = await gw.addClient({ dataScope: 'own', name: 'Own scope A' });
  theirs = await gw.addClient({ dataScope: 'own', name: 'Own scope B' });
  ids.myUser = await create('/Users', { schemas: [USER_SCHEMA], userName: 'mine@example.com', displayName: 'Mine' }, mine.token);
  ids.myLonelyUser = await create('/Users', { schemas: [USER_SCHEMA], userName: 'mine-lonely@example.com' }, mine.token);
  ids.myGroup = await create('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'My group', members: [{ value: ids.myUser }] }, mine.token);
  ids.myLonelyGroup = await create('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'My lonely group' }, mine.token);
  ids.theirUser = await create('/Users', { schemas: [USER_SCHEMA], userName: 'secret-theirs@example.com', displayName: 'Secret Theirs' }, theirs.token);
  ids.theirGroup = await create('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Secret their group' }, theirs.token);
  // Cross-owner links, made by the "all" client: their user in my groups, my users in their group.
  await addMember(ids.myGroup, ids.theirUser);
  await addMember(ids.myLonelyGroup, ids.theirUser);
  await addMember(ids.theirGroup, ids.myUser);
  await addMember(ids.theirGroup, ids.myLonelyUser);
});

afterAll(async () => {
  await gw?.close();
});

describe("an own-scope client does not see another client's resources through shared memberships", () => {
  it('the links exist: the "all" client sees them', async () => {
    const group = await gw.scim('GET', `/Groups/${ids.myGroup}`);
    expect(memberIds(group.body as Resource)).toEqual([ids.myUser, ids.theirUser].sort());
    const user = await gw.scim('GET', `/Users/${ids.myUser}`);
    expect(groupIds(user.body as Resource)).toEqual([ids.myGroup, ids.theirGroup].sort());
  });

  it("GET /Groups/:id: members holds only the client's own users", async () => {
    const response = await gw.scim('GET', `/Groups/${ids.myGroup}`, undefined, { token: mine.token });
    expect(response.status).toBe(200);
    expect(memberIds(response.body as Resource)).toEqual([ids.myUser]);
    expect(response.text).not.toContain(ids.theirUser);
    expect(response.text).not.toContain('Secret Theirs');
  });

  it("GET /Groups (a list): members holds only the client's own users", async () => {
    const response = await gw.scim('GET', '/Groups?count=100', undefined, { token: mine.token });
    expect(response.status).toBe(200);
    const list = response.body as List;
    expect(list.Resources.map((group) => [group.id, memberIds(group)]).sort()).toEqual(
      [
        [ids.myGroup, [ids.myUser]],
        [ids.myLonelyGroup, []],
      ].sort(),
    );
    expect(response.text).not.toContain(ids.theirUser);
  });

  it("a group's PATCH response (members read in the write's transaction) holds only the client's own users", async () => {
    const response = await gw.scim(
      'PATCH',
      `/Groups/${ids.myGroup}?attributes=members`,
      { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'displayName', value: 'My group, renamed' }] },
      { token: mine.token },
    );
    expect(response.status).toBe(200);
    expect(memberIds(response.body as Resource)).toEqual([ids.myUser]);
  });

  it("GET /Users/:id: groups holds only the client's own groups (full document, and with attributes)", async () => {
    for (const query of ['', '?attributes=groups,userName']) {
      const response = await gw.scim('GET', `/Users/${ids.myUser}${query}`, undefined, { token: mine.token });
      expect(response.status).toBe(200);
      expect(groupIds(response.body as Resource)).toEqual([ids.myGroup]);
      expect(response.text).not.toContain(ids.theirGroup);
      expect(response.text).not.toContain('Secret their group');
    }
  });

  it("GET /Users (a list): groups holds only the client's own groups (full documents, and with attributes)", async () => {
    for (const query of ['?count=100', '?count=100&attributes=groups,userName', `?filter=${q('userName eq "mine@example.com"')}`]) {
      const response = await gw.scim('GET', `/Users${query}`, undefined, { token: mine.token });
      expect(response.status).toBe(200);
      const mineListed = (response.body as List).Resources.find((user) => user.id === ids.myUser)!;
      expect(groupIds(mineListed)).toEqual([ids.myGroup]);
      expect(response.text).not.toContain(ids.theirGroup);
    }
  });

  it("a user's PATCH response (groups read in the write's transaction) holds only the client's own groups", async () => {
    const response = await gw.scim(
      'PATCH',
      `/Users/${ids.myUser}`,
      { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'displayName', value: 'Mine, renamed' }] },
      { token: mine.token },
    );
    expect(response.status).toBe(200);
    expect(groupIds(response.body as Resource)).toEqual([ids.myGroup]);
  });

  it("filters on members[...] and groups[...] cannot probe the other client's resources", async () => {
    const probes: Array<[string, string]> = [
      ['/Groups', `members[display sw "Secret"]`],
      ['/Groups', `members[value eq "${ids.theirUser}"]`],
      ['/Groups', `members.value eq "${ids.theirUser}"`],
      ['/Groups', `members.display co "Theirs"`],
      ['/Users', `groups[display sw "Secret"]`],
      ['/Users', `groups[value eq "${ids.theirGroup}"]`],
      ['/Users', `groups.value eq "${ids.theirGroup}"`],
    ];
    for (const [endpoint, filter] of probes) {
      const response = await gw.scim('GET', `${endpoint}?filter=${q(filter)}`, undefined, { token: mine.token });
      expect(response.status, filter).toBe(200);
      expect((response.body as List).totalResults, filter).toBe(0);
    }
    // The same filters on the client's own side still match.
    const own = await gw.scim('GET', `/Groups?filter=${q(`members[value eq "${ids.myUser}"]`)}`, undefined, { token: mine.token });
    expect((own.body as List).Resources.map((group) => group.id)).toEqual([ids.myGroup]);
  });

  it("replacing a group's members (PUT, PATCH remove of all members) leaves the members the client cannot see", async () => {
    const member = (groupId: string, userId: string) => gw.db.knex('group_members').where({ group_id: groupId, user_id: userId }).first();
    const put = await gw.scim('PUT', `/Groups/${ids.myGroup}`, { schemas: [GROUP_SCHEMA], displayName: 'My group', members: [{ value: ids.myUser }] }, { token: mine.token });
    expect(put.status).toBe(200);
    expect(await member(ids.myGroup, ids.theirUser)).toBeDefined();
    const removeAll = await gw.scim('PATCH', `/Groups/${ids.myLonelyGroup}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'remove', path: 'members' }] }, { token: mine.token });
    expect(removeAll.status).toBeLessThan(300);
    expect(await member(ids.myLonelyGroup, ids.theirUser)).toBeDefined();
    // The client's own members are replaced as asked.
    const emptied = await gw.scim('PUT', `/Groups/${ids.myGroup}`, { schemas: [GROUP_SCHEMA], displayName: 'My group' }, { token: mine.token });
    expect(emptied.status).toBe(200);
    expect(await member(ids.myGroup, ids.myUser)).toBeUndefined();
    expect(await member(ids.myGroup, ids.theirUser)).toBeDefined();
    await addMember(ids.myGroup, ids.myUser);
  });

  it('"members pr" and "groups pr" count only memberships on the client\'s own side', async () => {
    const groups = await gw.scim('GET', `/Groups?filter=${q('members pr')}`, undefined, { token: mine.token });
    expect((groups.body as List).Resources.map((group) => group.id)).toEqual([ids.myGroup]);
    const users = await gw.scim('GET', `/Users?filter=${q('groups pr')}`, undefined, { token: mine.token });
    expect((users.body as List).Resources.map((user) => user.id)).toEqual([ids.myUser]);
  });
});
