import { describe, expect, it } from 'vitest';
import { scimErrorOf } from '../errors.testing.js';
import { buildSchemaSet, withSchemas } from '../schemas/index.js';
import { groupColumns, normalizeGroupInput, normalizeUserInput, userColumns } from './normalize.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe('normalizeUserInput', () => {
  it('stores canonical names, the extension under its URN, and drops what the server owns', () => {
    const { data } = normalizeUserInput({
      schemas: [USER, ENTERPRISE],
      id: 'client-chosen',
      meta: { version: 'W/"x"' },
      USERNAME: 'bjensen',
      externalId: 'BJ-1',
      Name: { GivenName: 'Barbara', unknownPart: 'x' },
      password: 't1meMa$heen',
      groups: [{ value: 'g1' }],
      emails: { value: 'bjensen@example.com', type: 'work' },
      [ENTERPRISE]: { Department: 'Tours', manager: { value: 'm1', displayName: 'Boss' } },
      [`${ENTERPRISE}:costCenter`]: '4130',
      favouriteColour: 'blue',
      title: null,
    });
    expect(data).toEqual({
      userName: 'bjensen',
      externalId: 'BJ-1',
      name: { givenName: 'Barbara' },
      emails: [{ value: 'bjensen@example.com', type: 'work' }],
      [ENTERPRISE]: { department: 'Tours', manager: { value: 'm1' }, costCenter: '4130' },
    });
  });

  it('refuses a URN no extension owns, in schemas or as a key, naming it (unknownExtensions "reject", the default)', () => {
    const tenant = 'urn:ietf:params:scim:schemas:extension:microsoft:2.0:User:tenant';
    expect(scimErrorOf(() => normalizeUserInput({ userName: 'a', schemas: [USER, 'urn:example:unknown'] }))).toMatchObject({ status: 400, scimType: 'invalidValue', detail: expect.stringContaining('urn:example:unknown') });
    expect(scimErrorOf(() => normalizeUserInput({ userName: 'a', [tenant]: 'x' }))).toMatchObject({ status: 400, scimType: 'invalidValue', detail: expect.stringContaining('urn:ietf:params:scim:schemas:extension:microsoft:2.0:User') });
    expect(scimErrorOf(() => normalizeUserInput({ userName: 'a', [ENTERPRISE]: { badge: 'x' } }))).toMatchObject({ status: 400, detail: `${ENTERPRISE}:badge is not an attribute of the extension schema ${ENTERPRISE}` });
  });

  it('keeps such values verbatim under their URN with unknownExtensions "keep"', () => {
    const keep = buildSchemaSet([], { unknownExtensions: 'keep' });
    const { data } = withSchemas(keep, () =>
      normalizeUserInput({
        userName: 'a',
        schemas: [USER, 'urn:example:unknown'],
        'urn:ietf:params:scim:schemas:extension:microsoft:2.0:User:tenant': 'x',
        'urn:example:unknown': { nested: { deep: [1, 'two'] } },
        [ENTERPRISE]: { department: 'Tours', badge: 'B-7' },
      }),
    );
    expect(data).toEqual({
      userName: 'a',
      'urn:ietf:params:scim:schemas:extension:microsoft:2.0:User': { tenant: 'x' },
      'urn:example:unknown': { nested: { deep: [1, 'two'] } },
      [ENTERPRISE]: { department: 'Tours', badge: 'B-7' },
    });
  });

  it('reads booleans given as strings in any case (Entra)', () => {
    const { data } = normalizeUserInput({ userName: 'a', active: 'False', emails: [{ value: 'a@b.c', primary: 'TRUE' }] });
    expect(data['active']).toBe(false);
    expect(data['emails']).toEqual([{ value: 'a@b.c', primary: true }]);
  });

  it('accepts URN-qualified core attributes and dotted keys', () => {
    const { data } = normalizeUserInput({ [`${USER}:userName`]: 'a', 'name.familyName': 'Jensen' });
    expect(data).toEqual({ userName: 'a', name: { familyName: 'Jensen' } });
  });

  it('treats null, empty lists and empty objects as absent', () => {
    const { data } = normalizeUserInput({ userName: 'a', emails: [], name: {}, phoneNumbers: [null], [ENTERPRISE]: {} });
    expect(data).toEqual({ userName: 'a' });
  });

  const cases: Array<[string, unknown, { scimType: string; detail: string }]> = [
    ['a body that is not an object', 'x', { scimType: 'invalidSyntax', detail: 'the request body must be a JSON object, got a string' }],
    ['schemas that is not a list of strings', { userName: 'a', schemas: 'x' }, { scimType: 'invalidSyntax', detail: 'schemas must be an array of schema URN strings, got a string' }],
    ['a missing userName', { displayName: 'x' }, { scimType: 'invalidValue', detail: 'userName is required' }],
    ['an empty userName', { userName: '  ' }, { scimType: 'invalidValue', detail: 'userName must not be empty' }],
    ['a userName that is not a string', { userName: 7 }, { scimType: 'invalidValue', detail: 'userName must be a string, got a number' }],
    ['a too long userName', { userName: 'a'.repeat(513) }, { scimType: 'invalidValue', detail: 'userName is 513 characters long; at most 512 are accepted' }],
    ['a too long string', { userName: 'a', title: 'x'.repeat(65_537) }, { scimType: 'invalidValue', detail: 'title is 65537 characters long; at most 65536 are accepted' }],
    ['a boolean that is not one', { userName: 'a', active: 'yes' }, { scimType: 'invalidValue', detail: 'active must be a boolean, got a string' }],
    ['a complex attribute that is not an object', { userName: 'a', name: 'Barbara' }, { scimType: 'invalidValue', detail: 'name must be an object, got a string' }],
    ['a sub-attribute of the wrong type', { userName: 'a', emails: [{ value: 1 }] }, { scimType: 'invalidValue', detail: 'emails[0].value must be a string, got a number' }],
    ['a nested list', { userName: 'a', emails: [[{ value: 'a' }]] }, { scimType: 'invalidValue', detail: 'emails[0] must be an object, got an array' }],
    ['a complex value in a sub-attribute', { userName: 'a', name: { givenName: { first: 'B' } } }, { scimType: 'invalidValue', detail: 'name.givenName must be a string, got an object' }],
    ['two primary values', { userName: 'a', emails: [{ value: 'a', primary: true }, { value: 'b', primary: 'true' }] }, { scimType: 'invalidValue', detail: 'emails: at most one value may have "primary": true (RFC 7643 §2.4), 2 do' }],
    ['an attribute given twice', { userName: 'a', USERNAME: 'b' }, { scimType: 'invalidValue', detail: 'userName is given more than once (as "userName" and "USERNAME")' }],
    ['an extension attribute given twice', { userName: 'a', [ENTERPRISE]: { department: 'x' }, [`${ENTERPRISE}:department`]: 'y' }, { scimType: 'invalidValue', detail: `${ENTERPRISE}:department is given more than once (as "department" in the ${ENTERPRISE} object and "${ENTERPRISE}:department")` }],
    ['a sub-attribute given twice', { userName: 'a', name: { givenName: 'a', GIVENNAME: 'b' } }, { scimType: 'invalidValue', detail: 'name.givenName is given more than once' }],
    ['a whole attribute and one of its sub-attributes', { userName: 'a', name: { givenName: 'a' }, 'name.familyName': 'b' }, { scimType: 'invalidValue', detail: 'name.familyName is given more than once (as "name" and "name.familyName")' }],
    ['an extension that is not an object', { userName: 'a', [ENTERPRISE]: 'x' }, { scimType: 'invalidValue', detail: `${ENTERPRISE} must be an object, got a string` }],
    ['a binary value that is not base64', { userName: 'a', x509Certificates: [{ value: 'not base64!' }] }, { scimType: 'invalidValue', detail: 'x509Certificates[0].value must be base64 encoded (RFC 7643 §2.3.6)' }],
    ['a multi-valued attribute set through a dotted key', { userName: 'a', 'emails.value': 'x' }, { scimType: 'invalidValue', detail: '"emails.value": emails is multi-valued; give its values as a list of objects' }],
  ];
  for (const [name, body, expected] of cases) {
    it(`refuses ${name}`, () => {
      expect(scimErrorOf(() => normalizeUserInput(body))).toEqual({ status: 400, ...expected });
    });
  }

  it('refuses a body nested too deeply', () => {
    let value: unknown = 'x';
    for (let depth = 0; depth < 20; depth += 1) value = [value];
    expect(scimErrorOf(() => normalizeUserInput({ userName: 'a', custom: value }))).toEqual({
      status: 400,
      scimType: 'invalidValue',
      detail: 'the request body nests objects and arrays deeper than 16 levels',
    });
  });
});

describe('normalizeGroupInput', () => {
  it('separates members from data, ignores readOnly display and unknown schemas, collapses duplicates', () => {
    const result = normalizeGroupInput({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      displayName: 'Tour Guides',
      externalId: 'tg',
      members: [
        { value: 'u1', display: 'Babs', $ref: 'https://example.com/scim_v2/Users/u1', type: 'user' },
        { value: 'u2' },
        { value: 'u1' },
        null,
      ],
    });
    expect(result).toEqual({
      data: { displayName: 'Tour Guides', externalId: 'tg' },
      members: [{ value: 'u1', $ref: 'https://example.com/scim_v2/Users/u1', type: 'User' }, { value: 'u2' }],
    });
  });

  it('has no members when the body has none', () => {
    expect(normalizeGroupInput({ displayName: 'G' })).toEqual({ data: { displayName: 'G' } });
  });

  const cases: Array<[string, unknown, string]> = [
    ['a missing displayName', { members: [] }, 'displayName is required'],
    ['a member without value', { displayName: 'G', members: [{ display: 'x' }] }, 'members[0].value is required: the id of the member'],
    ['a member value that is not a string', { displayName: 'G', members: [{ value: 1 }] }, 'members[0].value must be a string, got a number'],
    ['an empty member value', { displayName: 'G', members: [{ value: '' }] }, 'members[0].value must not be empty'],
    ['a member that is not an object', { displayName: 'G', members: ['u1'] }, 'members[0] must be an object with a "value", got a string'],
    ['a nested group', { displayName: 'G', members: [{ value: 'u1' }, { value: 'g', type: 'Group' }] }, 'members[1]: nested groups are not supported; a member must be a User'],
    ['an unknown member type', { displayName: 'G', members: [{ value: 'd', type: 'Device' }] }, 'members[0].type must be "User", got "Device"'],
    ['a $ref that is not a string', { displayName: 'G', members: [{ value: 'u', $ref: 1 }] }, 'members[0].$ref must be a string, got a number'],
  ];
  for (const [name, body, detail] of cases) {
    it(`refuses ${name}`, () => {
      expect(scimErrorOf(() => normalizeGroupInput(body))).toEqual({ status: 400, scimType: 'invalidValue', detail });
    });
  }
});

describe('column values', () => {
  it('userColumns mirrors the filterable attributes', () => {
    const { data } = normalizeUserInput({
      userName: 'BJensen',
      externalId: 'e1',
      displayName: 'Babs',
      name: { givenName: 'Barbara', familyName: 'Jensen' },
      emails: [{ value: 'BJ@Example.com' }, { value: 'bj@example.com' }, { value: 'b@home.org' }],
    });
    expect(userColumns(data)).toEqual({
      user_name: 'BJensen',
      external_id: 'e1',
      display_name: 'Babs',
      given_name: 'Barbara',
      family_name: 'Jensen',
      active: true,
      emails_lower: ['bj@example.com', 'b@home.org'],
    });
  });

  it('userColumns reads active false and absent attributes as null', () => {
    expect(userColumns({ userName: 'a', active: false })).toEqual({
      user_name: 'a',
      external_id: null,
      display_name: null,
      given_name: null,
      family_name: null,
      active: false,
      emails_lower: [],
    });
  });

  it('groupColumns gives displayName and externalId', () => {
    expect(groupColumns({ displayName: 'G', externalId: 'x' })).toEqual({ display_name: 'G', external_id: 'x' });
    expect(groupColumns({ displayName: 'G' })).toEqual({ display_name: 'G', external_id: null });
  });
});
