import type { Knex } from '@roster/db';
import { groupRepository, userRepository, type ResourceLoader } from '@roster/domain';
import { serializeGroup, serializeUser } from '../scim/serialize.js';

// `format: "full"` event streams carry the resource as a SCIM GET would return it (RFC 9967 §2.4: "the final
// representation ... such as would be returned in a SCIM protocol response"), read when the SET is built, through
// the same serializer as /scim_v2. A group's members are included as GET /Groups/{id} includes them.
export function createResourceLoader(knex: Knex, scimBaseUrl: string): ResourceLoader {
  // `db`: the caller's transaction when it reads inside one (a poll), else the pool.
  return async (resourceType, id, db = knex) => {
    if (resourceType === 'User') {
      const found = await userRepository.findByIdWithGroups(db, id);
      return found ? serializeUser(found.user, scimBaseUrl, found.groups) : undefined;
    }
    const group = await groupRepository.findById(db, id);
    if (!group) return undefined;
    return serializeGroup(group, scimBaseUrl, await groupRepository.members(db, id));
  };
}
