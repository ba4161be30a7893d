import { describe, expect, it } from 'vitest';
import { ScimError } from './errors.js';
import { compileSortKey } from './sort.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('compileSortKey', () => {
  it.each([
    ['User', 'userName', 'lower(r.user_name) COLLATE "C"'],
    ['User', 'USERNAME', 'lower(r.user_name) COLLATE "C"'],
    ['User', 'externalId', 'r.external_id COLLATE "C"'],
    ['User', 'name.familyName', 'lower(r.family_name) COLLATE "C"'],
    ['User', 'meta.lastModified', 'r.updated_at'],
    ['User', 'active', 'r.active'],
    ['User', 'id', 'r.id'],
    ['User', 'title', `lower((CASE WHEN jsonb_typeof(r.data->'title') = 'string' THEN r.data->'title' #>> '{}' END)) COLLATE "C"`],
    ['User', `${ENT}:manager.value`, `lower((CASE WHEN jsonb_typeof(r.data->'${ENT}'->'manager'->'value') = 'string' THEN r.data->'${ENT}'->'manager'->'value' #>> '{}' END)) COLLATE "C"`],
    ['Group', 'displayName', 'lower(r.display_name) COLLATE "C"'],
    // RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value, else its first.
    [
      'User',
      'emails',
      `(SELECT lower((CASE WHEN jsonb_typeof(e.v->'value') = 'string' THEN e.v->'value' #>> '{}' END)) COLLATE "C" FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.data->'emails') = 'array' THEN r.data->'emails' ELSE '[]'::jsonb END) WITH ORDINALITY AS e(v, n) ORDER BY (e.v->'primary' = 'true'::jsonb) DESC NULLS LAST, e.n LIMIT 1)`,
    ],
    ['Group', 'meta.created', 'r.created_at'],
  ] as const)('%s sortBy=%s orders by %s', (type, sortBy, sql) => {
    expect(compileSortKey(type, sortBy)).toEqual({ sql, bindings: [] });
  });

  it.each([
    ['User', 'shoeSize', "sortBy: 'shoeSize' is not a User attribute"],
    ['User', 'groups', "sortBy: 'groups' cannot be sorted on; sort by a singular attribute"],
    ['Group', 'members.value', "sortBy: 'members.value' cannot be sorted on; sort by a singular attribute"],
    ['User', 'name', "sortBy: 'name' is complex; sort by one of its sub-attributes"],
    ['User', 'password', "sortBy: 'password' is write-only and cannot be sorted on"],
    ['User', 'emails[type eq "work"]', 'sortBy names an attribute, not a value filter: \'emails[type eq "work"]\''],
    ['User', 'userName; DROP TABLE users', "sortBy: at 1: expected an attribute path (attribute[.subAttribute]), found 'userName;'"],
    ['User', "userName'--", "sortBy: at 1: expected an attribute path (attribute[.subAttribute]), found 'userName'--'"],
    ['User', '', 'sortBy: the path is empty'],
    ['Group', 'userName', "sortBy: 'userName' is not a Group attribute"],
  ] as const)('%s sortBy=%j is refused with 400 invalidValue', (type, sortBy, detail) => {
    let caught: unknown;
    try {
      compileSortKey(type, sortBy);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScimError);
    expect(caught).toMatchObject({ status: 400, scimType: 'invalidValue', detail });
  });
});
