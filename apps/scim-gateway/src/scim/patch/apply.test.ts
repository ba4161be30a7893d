import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scimErrorOf } from '../errors.testing.js';
import type { JsonObject } from '../resource/values.js';
import { buildSchemaSet, withSchemas } from '../schemas/index.js';
import { addsOrRemovesListedMembers, applyGroupPatch, applyUserPatch, parsePatchRequest, type MemberChanges } from './index.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

interface FixtureCase {
  name: string;
  type?: 'User' | 'Group';
  before: JsonObject;
  request: unknown;
  after: JsonObject;
  members?: MemberChanges;
}

function fixture(name: string): FixtureCase[] {
  const text = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  return (JSON.parse(text) as { cases: FixtureCase[] }).cases;
}

function patchUser(before: JsonObject, ...operations: unknown[]) {
  return applyUserPatch(before, parsePatchRequest({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations }));
}

function patchGroup(before: JsonObject, ...operations: unknown[]) {
  return applyGroupPatch(before, parsePatchRequest({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations }));
}

const user: JsonObject = {
  userName: 'bjensen@example.com',
  active: true,
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
};

describe('recorded identity-provider PATCH requests', () => {
  for (const testCase of fixture('entra-user-patch.json')) {
    it(`Entra user: ${testCase.name}`, () => {
      const result = applyUserPatch(testCase.before, parsePatchRequest(testCase.request));
      expect(result.data).toEqual(testCase.after);
      expect(result.changed).toBe(true);
    });
  }
  for (const testCase of fixture('entra-group-patch.json')) {
    it(`Entra group: ${testCase.name}`, () => {
      const result = applyGroupPatch(testCase.before, parsePatchRequest(testCase.request));
      expect(result.data).toEqual(testCase.after);
      expect(result.members).toEqual(testCase.members);
    });
  }
  for (const testCase of fixture('okta-patch.json')) {
    it(`Okta ${testCase.type}: ${testCase.name}`, () => {
      const operations = parsePatchRequest(testCase.request);
      if (testCase.type === 'Group') {
        const result = applyGroupPatch(testCase.before, operations);
        expect(result.data).toEqual(testCase.after);
        expect(result.members).toEqual(testCase.members);
      } else {
        const result = applyUserPatch(testCase.before, operations);
        expect(result.data).toEqual(testCase.after);
        expect(result.changed).toBe(!isDeepEqual(testCase.before, testCase.after));
      }
    });
  }
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

describe('add (RFC 7644 §3.5.2.1)', () => {
  it('appends to a multi-valued attribute', () => {
    const result = patchUser(user, { op: 'add', path: 'emails', value: [{ value: 'b@other.org', type: 'other' }] });
    expect(result.data['emails']).toEqual([...(user['emails'] as unknown[]), { value: 'b@other.org', type: 'other' }]);
    expect(result.changed).toBe(true);
  });

  it('treats adding a value that is already there as a no-op (case-insensitive where caseExact is false)', () => {
    const result = patchUser(user, { op: 'add', path: 'emails', value: [{ value: 'BJensen@example.com', type: 'work' }] });
    expect(result.data).toEqual(user);
    expect(result.changed).toBe(false);
  });

  it('merges into a complex attribute', () => {
    const result = patchUser(user, { op: 'add', path: 'name', value: { middleName: 'Jane' } });
    expect(result.data['name']).toEqual({ givenName: 'Barbara', familyName: 'Jensen', middleName: 'Jane' });
  });

  it('takes a path-less object with dotted, URN-qualified and extension-object keys', () => {
    const result = patchUser(user, {
      op: 'add',
      value: {
        'name.honorificPrefix': 'Ms.',
        [`${ENTERPRISE}:costCenter`]: '4130',
        [ENTERPRISE]: { division: 'Theme Park' },
        title: 'Tour Guide',
      },
    });
    expect(result.data['name']).toEqual({ givenName: 'Barbara', familyName: 'Jensen', honorificPrefix: 'Ms.' });
    expect(result.data[ENTERPRISE]).toEqual({ costCenter: '4130', division: 'Theme Park' });
    expect(result.data['title']).toBe('Tour Guide');
  });

  it('adds to the extension through its URN as the path', () => {
    const result = patchUser(user, { op: 'add', path: ENTERPRISE, value: { department: 'Tours' } });
    expect(result.data[ENTERPRISE]).toEqual({ department: 'Tours' });
  });

  it('matches op and attribute names case-insensitively', () => {
    const result = patchUser(user, { OP: 'ADD', PATH: 'NAME.GIVENNAME', VALUE: 'Babs' });
    expect(result.data['name']).toEqual({ givenName: 'Babs', familyName: 'Jensen' });
  });

  it('adding null adds nothing', () => {
    expect(patchUser(user, { op: 'add', path: 'title', value: null }).changed).toBe(false);
  });

  it('refuses value keys of schemas the resource does not have with invalidValue (unknownExtensions "reject"; never dropped silently)', () => {
    const error = scimErrorOf(() => patchUser(user, { op: 'add', value: { 'urn:ietf:params:scim:schemas:extension:microsoft:2.0:User:tenant': 'x' } }));
    expect(error).toMatchObject({ status: 400, scimType: 'invalidValue', detail: expect.stringContaining('urn:ietf:params:scim:schemas:extension:microsoft:2.0:User is not an extension schema') });
  });

  it('refuses attributes of schemas the resource does not have, naming the URN (unknownExtensions "reject")', () => {
    const error = scimErrorOf(() => patchUser(user, { op: 'add', path: 'urn:ietf:params:scim:schemas:extension:microsoft:2.0:User:tenant', value: 'x' }));
    expect(error).toMatchObject({ status: 400, scimType: 'invalidPath', detail: expect.stringContaining('urn:ietf:params:scim:schemas:extension:microsoft:2.0:User is not an extension schema') });
  });

  it('keeps them verbatim with unknownExtensions "keep", and removes them again', () => {
    const keep = buildSchemaSet([], { unknownExtensions: 'keep' });
    const added = withSchemas(keep, () => patchUser(user, { op: 'add', path: 'urn:ietf:params:scim:schemas:extension:microsoft:2.0:User:tenant', value: { any: ['shape'] } }));
    expect(added.data['urn:ietf:params:scim:schemas:extension:microsoft:2.0:User']).toEqual({ tenant: { any: ['shape'] } });
    const removed = withSchemas(keep, () => patchUser(added.data, { op: 'remove', path: 'urn:ietf:params:scim:schemas:extension:microsoft:2.0:User:tenant' }));
    expect(removed.data).toEqual(user);
  });

  it('refuses a path under a schema the resource does not have with invalidPath', () => {
    for (const path of ['urn:ietf:params:scim:schemas:extension:microsoft:2.0:User:tenant', 'urn:x:__proto__:polluted']) {
      expect(() => patchUser(user, { op: 'add', path, value: 'x' })).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidPath' }));
    }
  });
});

describe('replace (RFC 7644 §3.5.2.3)', () => {
  it('replaces a simple attribute and reads string booleans', () => {
    const result = patchUser(user, { op: 'Replace', path: 'active', value: 'FALSE' });
    expect(result.data['active']).toBe(false);
  });

  it('replaces all values of a multi-valued attribute', () => {
    const result = patchUser(user, { op: 'replace', path: 'emails', value: [{ value: 'new@example.com' }] });
    expect(result.data['emails']).toEqual([{ value: 'new@example.com' }]);
  });

  it('replaces the matching values of a value filter', () => {
    const result = patchUser(user, { op: 'replace', path: 'emails[type eq "home"]', value: { value: 'b@home.org', type: 'home' } });
    expect(result.data['emails']).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }, { value: 'b@home.org', type: 'home' }]);
  });

  it('sets a sub-attribute of the matching values only', () => {
    const result = patchUser(user, { op: 'replace', path: 'emails[type eq "work"].value', value: 'barbara@example.com' });
    expect(result.data['emails']).toEqual([
      { value: 'barbara@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
  });

  it('creates the element a filter describes when none matches (Entra quirk)', () => {
    const result = patchUser({ userName: 'x' }, { op: 'replace', path: 'emails[type eq "work"].value', value: 'x@example.com' });
    expect(result.data['emails']).toEqual([{ type: 'work', value: 'x@example.com' }]);
  });

  it('answers noTarget when a filter matches nothing and describes no element', () => {
    expect(scimErrorOf(() => patchUser(user, { op: 'replace', path: 'emails[value co "nobody"].type', value: 'other' }))).toEqual({
      status: 400,
      scimType: 'noTarget',
      detail: 'operation 0: no value of emails matches the filter of the path',
    });
    expect(scimErrorOf(() => patchUser(user, { op: 'replace', path: 'emails[type eq "other"]', value: { value: 'a@b.c' } }))).toMatchObject({
      scimType: 'noTarget',
    });
  });

  it('merges a path-less object (Okta deactivation)', () => {
    const result = patchUser(user, { op: 'replace', value: { active: false } });
    expect(result.data).toEqual({ ...user, active: false });
  });

  it('makes the value it marks primary the only primary one (RFC 7644 §3.5.2)', () => {
    const result = patchUser(user, { op: 'add', path: 'emails', value: [{ value: 'new@example.com', primary: true }] });
    expect(result.data['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: false },
      { value: 'babs@jensen.org', type: 'home' },
      { value: 'new@example.com', primary: true },
    ]);
  });

  it('refuses one operation that marks two values primary', () => {
    expect(
      scimErrorOf(() => patchUser(user, { op: 'replace', path: 'emails', value: [{ value: 'a@x.org', primary: true }, { value: 'b@x.org', primary: true }] })),
    ).toEqual({ status: 400, scimType: 'invalidValue', detail: 'operation 0: emails: at most one value may have "primary": true (RFC 7643 §2.4), 2 do' });
  });

  it('reports no change when the value is the same', () => {
    const result = patchUser(user, { op: 'replace', path: 'userName', value: 'bjensen@example.com' });
    expect(result.changed).toBe(false);
  });

  it('replacing with null unassigns', () => {
    expect(patchUser(user, { op: 'replace', path: 'name', value: null }).data['name']).toBeUndefined();
  });

  it('re-checks types: userName replaced by a number is invalidValue', () => {
    expect(scimErrorOf(() => patchUser(user, { op: 'replace', path: 'userName', value: 42 }))).toEqual({
      status: 400,
      scimType: 'invalidValue',
      detail: 'operation 0: userName must be a string, got a number',
    });
  });

  it('refuses an empty userName', () => {
    expect(scimErrorOf(() => patchUser(user, { op: 'replace', path: 'userName', value: '' })).detail).toBe('operation 0: userName must not be empty');
  });

  it('refuses readOnly attributes with mutability, but ignores id and meta inside a value', () => {
    expect(scimErrorOf(() => patchUser(user, { op: 'replace', path: 'id', value: 'x' }))).toEqual({
      status: 400,
      scimType: 'mutability',
      detail: 'operation 0: id is readOnly (RFC 7643 §2.2)',
    });
    expect(scimErrorOf(() => patchUser(user, { op: 'add', path: 'groups', value: [{ value: 'g' }] })).scimType).toBe('mutability');
    expect(scimErrorOf(() => patchUser(user, { op: 'replace', path: `${ENTERPRISE}:manager.displayName`, value: 'x' })).detail).toBe(
      'operation 0: manager.displayName is readOnly (RFC 7643 §2.2)',
    );
    const result = patchUser(user, { op: 'replace', value: { id: 'x', meta: { version: 'W/"1"' }, schemas: ['x'], title: 'Boss' } });
    expect(result.data).toEqual({ ...user, title: 'Boss' });
  });

  it('answers invalidPath for unknown attributes and sub-attributes', () => {
    expect(scimErrorOf(() => patchUser(user, { op: 'replace', path: 'emial', value: 'x' }))).toEqual({
      status: 400,
      scimType: 'invalidPath',
      detail: 'operation 0: "emial" is not an attribute of a User',
    });
    expect(scimErrorOf(() => patchUser(user, { op: 'replace', path: 'emails[type eq "work"].nope', value: 'x' })).detail).toBe(
      'operation 0: "emails[type eq "work"].nope": emails has no sub-attribute "nope"',
    );
  });

  it('validates every path before applying anything', () => {
    const error = scimErrorOf(() => patchUser(user, { op: 'replace', path: 'userName', value: 42 }, { op: 'replace', path: 'nope', value: 1 }));
    expect(error.detail).toBe('operation 1: "nope" is not an attribute of a User');
  });
});

describe('remove (RFC 7644 §3.5.2.2)', () => {
  it('removes an attribute and a sub-attribute', () => {
    const result = patchUser(user, { op: 'remove', path: 'name.givenName' }, { op: 'remove', path: 'active' });
    expect(result.data['name']).toEqual({ familyName: 'Jensen' });
    expect(result.data['active']).toBeUndefined();
  });

  it('removes the values a filter matches', () => {
    const result = patchUser(user, { op: 'remove', path: 'emails[type eq "home"]' });
    expect(result.data['emails']).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }]);
  });

  it('removes exactly the listed values of a multi-valued attribute', () => {
    const result = patchUser(user, { op: 'remove', path: 'emails', value: [{ value: 'babs@jensen.org' }] });
    expect(result.data['emails']).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }]);
  });

  it('removing something absent is a no-op', () => {
    const result = patchUser(user, { op: 'remove', path: 'title' }, { op: 'remove', path: 'emails[type eq "other"]' });
    expect(result.changed).toBe(false);
  });

  it('refuses removing a required attribute', () => {
    expect(scimErrorOf(() => patchUser(user, { op: 'remove', path: 'userName' }))).toEqual({
      status: 400,
      scimType: 'mutability',
      detail: 'operation 0: userName is required and cannot be removed',
    });
    expect(scimErrorOf(() => patchGroup({ displayName: 'G' }, { op: 'remove', path: 'displayName' })).scimType).toBe('mutability');
  });

  it('removes the whole extension through its URN', () => {
    const result = patchUser({ ...user, [ENTERPRISE]: { department: 'x' } }, { op: 'remove', path: ENTERPRISE });
    expect(result.data).toEqual(user);
  });
});

describe('group members', () => {
  const group = { displayName: 'Tour Guides' };

  it('describes member changes without touching data', () => {
    const result = patchGroup(group, { op: 'add', path: 'members', value: [{ value: 'u1' }, { value: 'u2', type: 'user' }, { value: 'u1' }] });
    expect(result.changed).toBe(false);
    expect(result.members).toEqual({ replaceAll: false, add: [{ value: 'u1' }, { value: 'u2', type: 'User' }], remove: [] });
  });

  it('removes or-ed value filters', () => {
    const result = patchGroup(group, { op: 'remove', path: 'members[value eq "u1" or value eq "u2"]' });
    expect(result.members).toEqual({ replaceAll: false, add: [], remove: ['u1', 'u2'] });
  });

  it('replace of members replaces all', () => {
    const result = patchGroup(group, { op: 'add', path: 'members', value: [{ value: 'u0' }] }, { op: 'replace', path: 'members', value: [{ value: 'u3' }] });
    expect(result.members).toEqual({ replaceAll: true, add: [{ value: 'u3' }], remove: [] });
  });

  it('remove of members without a value removes all', () => {
    const result = patchGroup(group, { op: 'remove', path: 'members' });
    expect(result.members).toEqual({ replaceAll: true, add: [], remove: [] });
  });

  it('adding then removing a member cancels out, and the later add wins over an earlier remove', () => {
    const result = patchGroup(
      group,
      { op: 'add', path: 'members', value: [{ value: 'u1' }] },
      { op: 'remove', path: 'members[value eq "u1"]' },
      { op: 'remove', path: 'members[value eq "u2"]' },
      { op: 'add', value: { members: [{ value: 'u2' }] } },
    );
    expect(result.members).toEqual({ replaceAll: false, add: [{ value: 'u2' }], remove: ['u1'] });
  });

  it('refuses other member filters, member sub-attributes and nested groups', () => {
    expect(scimErrorOf(() => patchGroup(group, { op: 'remove', path: 'members[display eq "x"]' }))).toEqual({
      status: 400,
      scimType: 'invalidPath',
      detail: 'operation 0: members can only be selected by value, as members[value eq "id"] (several joined with or)',
    });
    expect(scimErrorOf(() => patchGroup(group, { op: 'replace', path: 'members[value eq "x"].value', value: 'y' })).scimType).toBe('mutability');
    expect(scimErrorOf(() => patchGroup(group, { op: 'add', path: 'members[value eq "x"]', value: { value: 'y' } })).detail).toBe(
      'operation 0: a filter on members can only select members to remove; add members as a list of {"value": id}',
    );
    expect(scimErrorOf(() => patchGroup(group, { op: 'add', path: 'members', value: [{ value: 'g', type: 'Group' }] })).detail).toBe(
      'operation 0: members[0]: nested groups are not supported; a member must be a User',
    );
  });

  it('tells the operations that can only add members or remove listed ones, before the group is read', () => {
    const listedOnly = (operation: unknown) =>
      parsePatchRequest({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [operation] }).every(addsOrRemovesListedMembers);
    expect(listedOnly({ op: 'Add', path: 'members', value: [{ value: 'u1' }] })).toBe(true);
    expect(listedOnly({ op: 'Remove', path: 'members', value: [{ value: 'u1' }] })).toBe(true);
    expect(listedOnly({ op: 'Remove', path: 'members', value: [] })).toBe(true);
    expect(listedOnly({ op: 'remove', path: 'members[value eq "u1" or value eq "u2"]' })).toBe(true);
    expect(listedOnly({ op: 'add', path: 'urn:ietf:params:scim:schemas:core:2.0:Group:members', value: [{ value: 'u1' }] })).toBe(true);
    // Replacing or emptying the member list, or touching anything else, needs the group locked exclusively.
    expect(listedOnly({ op: 'replace', path: 'members', value: [{ value: 'u1' }] })).toBe(false);
    expect(listedOnly({ op: 'remove', path: 'members' })).toBe(false);
    expect(listedOnly({ op: 'remove', path: 'members', value: null })).toBe(false);
    expect(listedOnly({ op: 'add', value: { members: [{ value: 'u1' }] } })).toBe(false);
    expect(listedOnly({ op: 'replace', path: 'displayName', value: 'Tour Guides' })).toBe(false);
    expect(listedOnly({ op: 'add', path: 'members[value eq "u1"]', value: { value: 'u1' } })).toBe(false);
    expect(listedOnly({ op: 'replace', path: 'members[value eq "u1"].display', value: 'x' })).toBe(false);
    expect(listedOnly({ op: 'add', path: 'urn:example:2.0:Group:members', value: [{ value: 'u1' }] })).toBe(false);
  });

  it('does not let a User patch members', () => {
    expect(scimErrorOf(() => patchUser(user, { op: 'add', path: 'members', value: [{ value: 'x' }] })).scimType).toBe('invalidPath');
  });
});
