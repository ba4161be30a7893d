import { describe, expect, it } from 'vitest';
import { parseAttributeList, projectResource, wantsAttribute } from './project.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const meta = { resourceType: 'User', version: 'W/"3"', location: 'http://localhost:8080/scim_v2/Users/u1' };

const served = {
  schemas: [USER, ENTERPRISE],
  id: 'u1',
  externalId: 'e1',
  meta,
  userName: 'bjensen',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  emails: [
    { value: 'bj@example.com', type: 'work', primary: true },
    { value: 'b@home.org', type: 'home' },
  ],
  password: 'must never be served',
  groups: [{ value: 'g1', display: 'Tour Guides', $ref: 'http://localhost:8080/scim_v2/Groups/g1' }],
  [ENTERPRISE]: { department: 'Tours', manager: { value: 'm1', displayName: 'Boss' } },
};

describe('projectResource', () => {
  it('without parameters returns everything but returned:never attributes', () => {
    const { password: _password, ...expected } = served;
    expect(projectResource('User', served, {})).toEqual(expected);
  });

  it('attributes returns only those plus id, meta and schemas', () => {
    expect(projectResource('User', served, { attributes: ['USERNAME', 'name.givenName', 'emails.value'] })).toEqual({
      schemas: [USER],
      id: 'u1',
      meta,
      userName: 'bjensen',
      name: { givenName: 'Barbara' },
      emails: [{ value: 'bj@example.com' }, { value: 'b@home.org' }],
    });
  });

  it('attributes accepts URN-qualified names and the extension URN itself', () => {
    expect(projectResource('User', served, { attributes: [`${ENTERPRISE}:manager`, `${USER}:externalId`] })).toEqual({
      schemas: [USER, ENTERPRISE],
      id: 'u1',
      meta,
      externalId: 'e1',
      [ENTERPRISE]: { manager: { value: 'm1', displayName: 'Boss' } },
    });
    expect(projectResource('User', served, { attributes: [ENTERPRISE] })[ENTERPRISE]).toEqual(served[ENTERPRISE]);
  });

  it('never returns password, even when asked', () => {
    expect(projectResource('User', served, { attributes: ['password'] })).toEqual({ schemas: [USER], id: 'u1', meta });
  });

  it('excludedAttributes removes attributes and sub-attributes but never id', () => {
    expect(projectResource('User', served, { excludedAttributes: ['emails.type', 'groups', 'id', ENTERPRISE, 'name', 'externalId'] })).toEqual({
      schemas: [USER],
      id: 'u1',
      meta,
      userName: 'bjensen',
      emails: [{ value: 'bj@example.com', primary: true }, { value: 'b@home.org' }],
    });
  });

  it('ignores unknown names', () => {
    expect(projectResource('User', served, { attributes: ['nope', 'urn:x:y:z'] })).toEqual({ schemas: [USER], id: 'u1', meta });
    const { password: _password, ...expected } = served;
    expect(projectResource('User', served, { excludedAttributes: ['nope'] })).toEqual(expected);
  });

  it('applies excludedAttributes to what attributes selected', () => {
    expect(projectResource('User', served, { attributes: ['emails'], excludedAttributes: ['emails.primary'] })['emails']).toEqual([
      { value: 'bj@example.com', type: 'work' },
      { value: 'b@home.org', type: 'home' },
    ]);
  });

  it('projects group members', () => {
    const group = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'g1', meta, displayName: 'G', members: [{ value: 'u1', display: 'B' }] };
    expect(projectResource('Group', group, { attributes: ['members.value'] })).toEqual({
      schemas: group.schemas,
      id: 'g1',
      meta,
      members: [{ value: 'u1' }],
    });
  });
});

describe('parseAttributeList', () => {
  it('splits, trims, drops empties and duplicates, and reads repeated parameters', () => {
    expect(parseAttributeList(' userName, name.givenName,,userName ')).toEqual(['userName', 'name.givenName']);
    expect(parseAttributeList(['a,b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(parseAttributeList(undefined)).toEqual([]);
  });
});

describe('wantsAttribute', () => {
  it('tells whether members must be read', () => {
    expect(wantsAttribute('Group', {}, 'members')).toBe(true);
    expect(wantsAttribute('Group', { excludedAttributes: ['members'] }, 'members')).toBe(false);
    expect(wantsAttribute('Group', { excludedAttributes: ['MEMBERS'] }, 'members')).toBe(false);
    expect(wantsAttribute('Group', { excludedAttributes: ['members.display'] }, 'members')).toBe(true);
    expect(wantsAttribute('Group', { attributes: ['displayName'] }, 'members')).toBe(false);
    expect(wantsAttribute('Group', { attributes: ['members.value'] }, 'members')).toBe(true);
    expect(wantsAttribute('Group', { attributes: ['urn:ietf:params:scim:schemas:core:2.0:Group:members'] }, 'members')).toBe(true);
  });

  it('tells whether a user\'s groups must be read', () => {
    expect(wantsAttribute('User', {}, 'groups')).toBe(true);
    expect(wantsAttribute('User', { attributes: ['userName'] }, 'groups')).toBe(false);
    expect(wantsAttribute('User', { excludedAttributes: ['groups'] }, 'groups')).toBe(false);
  });
});
