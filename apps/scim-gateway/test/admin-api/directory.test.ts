import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, ISO, insertProvider, startWithAdmin, type Gateway } from './harness.js';

interface Page<T> {
  items: T[];
  total: number;
}
interface UserItem {
  id: string;
  userName: string;
  active: boolean;
}

describe('directory browsing', () => {
  let gateway: Gateway;
  let agent: Agent;
  let clientId: string;
  let providerId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ({ gateway, agent } = await startWithAdmin());
    const { knex } = gateway.db;
    providerId = await insertProvider(gateway, 'Corporate IdP');
    clientId = (await gateway.services.scimClients.createScimClient({ name: 'HR sync', authProviderId: providerId, authMethod: 'static_token' })).id;
    const people = [
      { user_name: 'ada@example.com', display_name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace', active: true, email: 'ada@example.com', client: true },
      { user_name: 'alan', display_name: 'Alan Turing', given_name: 'Alan', family_name: 'Turing', active: false, email: 'alan.turing@example.org', client: true },
      { user_name: 'grace', display_name: 'Grace Hopper', given_name: 'Grace', family_name: 'Hopper', active: true, email: 'grace@navy.example', client: false },
      { user_name: 'Bob_100%', display_name: null, given_name: null, family_name: null, active: true, email: 'bob@example.com', client: false },
    ];
    for (const person of people) {
      const [row] = (await knex('users')
        .insert({
          user_name: person.user_name,
          display_name: person.display_name,
          given_name: person.given_name,
          family_name: person.family_name,
          active: person.active,
          lock_reason: person.active ? null : 'deletion refused',
          emails_lower: [person.email.toLowerCase()],
          data: JSON.stringify({ userName: person.user_name, emails: [{ value: person.email, type: 'work', primary: true }], title: 'Engineer' }),
          created_by_client_id: person.client ? clientId : null,
        })
        .returning('id')) as Array<{ id: string }>;
      ids[person.user_name] = row!.id;
    }
    const [engineering] = (await knex('groups').insert({ display_name: 'Engineering', data: JSON.stringify({ displayName: 'Engineering' }), created_by_client_id: clientId }).returning('id')) as Array<{ id: string }>;
    const [empty] = (await knex('groups').insert({ display_name: 'Empty', data: '{}' }).returning('id')) as Array<{ id: string }>;
    ids.engineering = engineering!.id;
    ids.empty = empty!.id;
    await knex('group_members').insert([ids['ada@example.com'], ids.alan, ids.grace].map((user_id) => ({ group_id: ids.engineering, user_id })));
    await knex('user_provider_links').insert({ user_id: ids['ada@example.com'], provider_id: providerId, external_id: 'ext-ada' });
    await gateway.services.audit.record({ actorType: 'scim_client', clientId, operation: 'scim.user.create', resourceType: 'User', resourceId: ids['ada@example.com'], status: 201, durationMs: 12, requestId: 'req-1' });
  });
  afterAll(async () => gateway?.close());

  const names = (page: Page<UserItem>) => page.items.map((user) => user.userName);

  it('lists users by user name with {items, total}, paged by limit and offset', async () => {
    const all = await agent.get('/api/admin/users');
    expect(all.status).toBe(200);
    expect(names(all.body as Page<UserItem>)).toEqual(['ada@example.com', 'alan', 'Bob_100%', 'grace']);
    expect((all.body as Page<UserItem>).total).toBe(4);
    expect((all.body as Page<UserItem>).items[0]).toEqual({
      id: ids['ada@example.com'],
      userName: 'ada@example.com',
      displayName: 'Ada Lovelace',
      givenName: 'Ada',
      familyName: 'Lovelace',
      externalId: null,
      active: true,
      lockReason: null,
      emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
      createdByClientId: clientId,
      createdByClientName: 'HR sync',
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    const page = await agent.get('/api/admin/users?limit=2&offset=1');
    expect(page.body).toEqual({ items: [expect.objectContaining({ userName: 'alan' }), expect.objectContaining({ userName: 'Bob_100%' })], total: 4 });
  });

  it('searches user name, display name, given and family name, full name and emails; LIKE wildcards are literal', async () => {
    const search = async (q: string) => names((await agent.get(`/api/admin/users?q=${encodeURIComponent(q)}`)).body as Page<UserItem>);
    expect(await search('lovelace')).toEqual(['ada@example.com']);
    expect(await search('Alan Tur')).toEqual(['alan']);
    expect(await search('NAVY.example')).toEqual(['grace']);
    expect(await search('hopp')).toEqual(['grace']);
    expect(await search('100%')).toEqual(['Bob_100%']);
    expect(await search('%')).toEqual(['Bob_100%']);
    expect(await search('_')).toEqual(['Bob_100%']);
  });

  it('filters by active (and the status alias) and by provisioning client', async () => {
    expect(names((await agent.get('/api/admin/users?active=false')).body as Page<UserItem>)).toEqual(['alan']);
    expect(names((await agent.get('/api/admin/users?status=locked')).body as Page<UserItem>)).toEqual(['alan']);
    expect(names((await agent.get('/api/admin/users?active=true')).body as Page<UserItem>)).toEqual(['ada@example.com', 'Bob_100%', 'grace']);
    expect(names((await agent.get(`/api/admin/users?clientId=${clientId}`)).body as Page<UserItem>)).toEqual(['ada@example.com', 'alan']);
    expect(names((await agent.get(`/api/admin/users?clientId=${clientId}&active=true`)).body as Page<UserItem>)).toEqual(['ada@example.com']);
  });

  it('refuses bad list parameters with 400 naming them', async () => {
    const bad = await agent.get('/api/admin/users?limit=501&active=maybe&clientId=nope&sort=name');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      code: 'invalid_input',
      message: 'Invalid query: sort is not a known field (expected q, limit, offset, active, status, clientId) (and 3 more)',
      details: {
        issues: [
          { path: 'sort', message: 'is not a known field (expected q, limit, offset, active, status, clientId)' },
          { path: 'limit', message: 'must be between 1 and 500' },
          { path: 'active', message: 'must be true or false' },
          { path: 'clientId', message: 'must be a UUID' },
        ],
      },
    });
    const repeated = await agent.get('/api/admin/users?q=a&q=b');
    expect(repeated.status).toBe(400);
    expect((repeated.body as { message: string }).message).toBe('Invalid query: q must be given once');
  });

  it('shows one user with attributes, groups, provider links and recent activity', async () => {
    const response = await agent.get(`/api/admin/users/${ids['ada@example.com']}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: ids['ada@example.com'],
      userName: 'ada@example.com',
      attributes: { userName: 'ada@example.com', emails: [{ value: 'ada@example.com', type: 'work', primary: true }], title: 'Engineer' },
      groups: [{ id: ids.engineering, displayName: 'Engineering' }],
      groupCount: 1,
      providerLinks: [{ providerId, providerName: 'Corporate IdP', providerKind: 'oidc', externalId: 'ext-ada' }],
      recentActivity: [
        {
          id: expect.any(Number),
          at: expect.stringMatching(ISO),
          actorType: 'scim_client',
          clientId,
          clientName: 'HR sync',
          adminId: null,
          operation: 'scim.user.create',
          resourceType: 'User',
          resourceId: ids['ada@example.com'],
          status: 201,
          durationMs: 12,
          requestId: 'req-1',
          detail: null,
        },
      ],
    });
  });

  it('answers 404 for unknown and malformed user and group ids, never 500', async () => {
    for (const path of [
      '/api/admin/users/00000000-0000-4000-8000-000000000000',
      '/api/admin/users/not-a-uuid',
      "/api/admin/users/1'%20or%201=1",
      '/api/admin/groups/00000000-0000-4000-8000-000000000000',
      '/api/admin/groups/xyz',
      '/api/admin/groups/00000000-0000-4000-8000-000000000000/members',
      '/api/admin/groups/xyz/members',
    ]) {
      const response = await agent.get(path);
      expect(response.status, path).toBe(404);
      expect((response.body as { code: string }).code).toBe('not_found');
    }
  });

  it('lists groups with member counts and searches them', async () => {
    const response = await agent.get('/api/admin/groups');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      items: [
        { id: ids.empty, displayName: 'Empty', externalId: null, memberCount: 0, createdByClientId: null, createdByClientName: null, createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) },
        { id: ids.engineering, displayName: 'Engineering', externalId: null, memberCount: 3, createdByClientId: clientId, createdByClientName: 'HR sync', createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) },
      ],
      total: 2,
    });
    expect(((await agent.get('/api/admin/groups?q=engin')).body as Page<{ displayName: string }>).items.map((g) => g.displayName)).toEqual(['Engineering']);
  });

  it('shows one group without members, and its members paged and searchable', async () => {
    const group = await agent.get(`/api/admin/groups/${ids.engineering}`);
    expect(group.status).toBe(200);
    expect(group.body).toMatchObject({ id: ids.engineering, displayName: 'Engineering', memberCount: 3, attributes: { displayName: 'Engineering' } });
    const members = await agent.get(`/api/admin/groups/${ids.engineering}/members?limit=2`);
    expect(members.body).toEqual({
      items: [
        { id: ids['ada@example.com'], userName: 'ada@example.com', displayName: 'Ada Lovelace', active: true },
        { id: ids.alan, userName: 'alan', displayName: 'Alan Turing', active: false },
      ],
      total: 3,
    });
    const searched = await agent.get(`/api/admin/groups/${ids.engineering}/members?q=hopper&offset=0`);
    expect(searched.body).toEqual({ items: [{ id: ids.grace, userName: 'grace', displayName: 'Grace Hopper', active: true }], total: 1 });
    expect((await agent.get(`/api/admin/groups/${ids.empty}/members`)).body).toEqual({ items: [], total: 0 });
  });
});
