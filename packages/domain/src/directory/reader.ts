import type { Knex } from 'knex';
import { groupRepository } from './groups.js';
import { providerLinkRepository } from './links.js';
import { userRepository } from './users.js';
import type { GroupRecord, ResourceRef, UserRecord } from './types.js';

export type SignInMatch =
  | { outcome: 'found'; user: UserRecord }
  | { outcome: 'none' }
  /** More than one active user carries this identity: the sign-in must be refused and reported. */
  | { outcome: 'ambiguous'; userIds: string[] };

/**
 * The read side of the directory for applications that use Roster's database: find users and groups,
 * memberships and provider links. Every method is one or two indexed queries.
 */
export function createDirectoryReader(knex: Knex) {
  return {
    findUserById: (id: string): Promise<UserRecord | undefined> => userRepository.findById(knex, id),
    findUserByUserName: (userName: string): Promise<UserRecord | undefined> => userRepository.findByUserName(knex, userName),
    findGroupById: (id: string): Promise<GroupRecord | undefined> => groupRepository.findById(knex, id),
    groupsOfUser: async (userId: string): Promise<ResourceRef[]> => (await userRepository.groupsOf(knex, [userId])).get(userId) ?? [],
    membersOfGroup: (groupId: string): Promise<ResourceRef[]> => groupRepository.members(knex, groupId),
    providerLinksOfUser: (userId: string) => providerLinkRepository.listForUser(knex, userId),

    /**
     * The account a sign-in through an authentication provider belongs to, found by the identity (externalId)
     * a SCIM client of that provider sent. externalId is not unique (RFC 7643 §3.1): when several active users
     * carry it, the answer is `ambiguous` and the caller must refuse the sign-in.
     */
    async findUserForSignIn(providerId: string, externalId: string): Promise<SignInMatch> {
      const ids = await providerLinkRepository.findActiveUsers(knex, providerId, externalId);
      if (ids.length === 0) return { outcome: 'none' };
      if (ids.length > 1) return { outcome: 'ambiguous', userIds: ids };
      const user = await userRepository.findById(knex, ids[0]!);
      return user ? { outcome: 'found', user } : { outcome: 'none' };
    },
  };
}

export type DirectoryReader = ReturnType<typeof createDirectoryReader>;
