import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createDirectoryReader } from './reader.js';
import { groupRepository } from './groups.js';
import { providerLinkRepository } from './links.js';
import { userRepository } from './users.js';

let db: TestDatabase;
let providerId: string;
beforeAll(async () => {
  db = await createTestDatabase();
  const [provider] = (await db.knex('auth_providers').insert({ name: 'IdP', kind: 'saml' }).returning('id')) as Array<{ id: string }>;
  providerId = provider!.id;
});
afterAll(async () => db?.destroy());

function columns(userName: string, active = true) {
  return { user_name: userName, external_id: null, display_name: null, given_name: null, family_name: null, active, emails_lower: [] };
}

describe('directory reader', () => {
  it('finds users, their groups and group members', async () => {
    const reader = createDirectoryReader(db.knex);
    const alice = await userRepository.insert(db.knex, { columns: columns('Alice'), data: { userName: 'Alice' }, createdByClientId: null });
    const group = await groupRepository.insert(db.knex, { columns: { display_name: 'Team', external_id: null }, data: { displayName: 'Team' }, createdByClientId: null });
    await groupRepository.addMembers(db.knex, group.id, [alice.id]);
    expect((await reader.findUserByUserName('alice'))?.id).toBe(alice.id);
    expect(await reader.groupsOfUser(alice.id)).toEqual([{ value: group.id, display: 'Team' }]);
    expect(await reader.membersOfGroup(group.id)).toEqual([{ value: alice.id, display: 'Alice' }]);
    expect(await reader.findUserById('not-a-uuid')).toBeUndefined();
  });

  it('finds the account for a sign-in, and refuses an identity that several active users carry', async () => {
    const reader = createDirectoryReader(db.knex);
    const bob = await userRepository.insert(db.knex, { columns: columns('Bob'), data: {}, createdByClientId: null });
    await providerLinkRepository.upsert(db.knex, bob.id, providerId, 'ext-bob');
    expect(await reader.findUserForSignIn(providerId, 'ext-bob')).toMatchObject({ outcome: 'found', user: { id: bob.id } });
    expect(await reader.findUserForSignIn(providerId, 'ext-nobody')).toEqual({ outcome: 'none' });

    const twin = await userRepository.insert(db.knex, { columns: columns('Twin'), data: {}, createdByClientId: null });
    await providerLinkRepository.upsert(db.knex, twin.id, providerId, 'ext-bob');
    const ambiguous = await reader.findUserForSignIn(providerId, 'ext-bob');
    expect(ambiguous.outcome).toBe('ambiguous');
    expect(ambiguous.outcome === 'ambiguous' && [...ambiguous.userIds].sort()).toEqual([bob.id, twin.id].sort());

    // A locked (inactive) twin no longer makes the identity ambiguous.
    await userRepository.lock(db.knex, twin.id, 'scim_inactive');
    expect(await reader.findUserForSignIn(providerId, 'ext-bob')).toMatchObject({ outcome: 'found', user: { id: bob.id } });
  });
});
