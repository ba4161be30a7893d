import { describe, expect, it } from 'vitest';
import { ScimError } from '../errors.js';
import { matchesValueFilter } from './evaluate.js';
import { FILTER_LIMITS, parseFilter } from './parser.js';
import { parseDateTime, validateFilter } from './validate.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function refusal(type: 'User' | 'Group', text: string): string {
  try {
    validateFilter(type, parseFilter(text));
  } catch (error) {
    if (error instanceof ScimError) {
      expect(error.status).toBe(400);
      expect(error.scimType).toBe('invalidFilter');
      return error.detail;
    }
    throw error;
  }
  throw new Error(`expected ${text} to be refused`);
}

describe('validateFilter', () => {
  it.each([
    ['User', 'nickname eq "x"'],
    ['User', 'NAME.GIVENNAME eq "x"'],
    ['User', 'EMAILS[TYPE eq "work"]'],
    ['User', `${ENT.toUpperCase()}:MANAGER.VALUE pr`],
    ['User', 'groups.value eq "x"'],
    ['User', 'meta.lastModified gt "2026-01-01T00:00:00+02:00"'],
    ['User', 'active eq "TRUE"'],
    ['User', 'title eq 42'],
    ['Group', 'members[value eq "x" and type eq "User"]'],
  ] as const)('accepts %s: %s (names are case-insensitive, RFC 7643 §2.1)', (type, text) => {
    expect(() => validateFilter(type, parseFilter(text))).not.toThrow();
  });

  it.each([
    ['User', 'shoeSize eq 42', "'shoeSize' is not a User attribute"],
    ['User', 'name.nickname eq "x"', "'nickname' is not a sub-attribute of 'name' (expected one of formatted, familyName, givenName, middleName, honorificPrefix, honorificSuffix)"],
    ['User', 'userName.first eq "x"', "'userName' has no sub-attributes, so 'userName.first' is not a User attribute"],
    ['User', 'urn:example:unknown:1.0:User:size eq 1', "'urn:example:unknown:1.0:User' is not a schema of User resources"],
    ['Group', 'userName eq "x"', "'userName' is not a Group attribute"],
    ['Group', `${ENT}:department eq "x"`, `'${ENT}' is not a schema of Group resources`],
    ['User', 'password eq "secret"', "'password' is write-only and cannot be filtered"],
    ['User', 'active gt true', "'gt' cannot order the boolean attribute 'active': use 'eq' or 'ne'"],
    ['User', 'emails.primary le false', "'le' cannot order the boolean attribute 'emails.primary': use 'eq' or 'ne'"],
    ['User', 'active co "t"', "'co' is a string match and 'active' is a boolean: use eq, ne, gt, ge, lt or le"],
    ['User', 'meta.created sw "2026"', "'sw' is a string match and 'meta.created' is a dateTime: use eq, ne, gt, ge, lt or le"],
    ['User', 'meta.created gt "yesterday"', '\'meta.created\' is a dateTime: "yesterday" is not a date like "2026-01-31T12:00:00Z" (RFC 7643 §2.3.5)'],
    ['User', 'meta.created gt "2026-02-30T00:00:00Z"', '\'meta.created\' is a dateTime: "2026-02-30T00:00:00Z" is not a date like "2026-01-31T12:00:00Z" (RFC 7643 §2.3.5)'],
    ['User', 'meta.created gt 5', "'meta.created' is a dateTime: 5 is not a date like \"2026-01-31T12:00:00Z\" (RFC 7643 §2.3.5)"],
    ['User', 'active eq "yes"', '\'active\' is a boolean: compare it with true or false, not "yes"'],
    ['User', 'name eq "x"', "'name' is a complex attribute: compare one of its sub-attributes (name.formatted, name.familyName, name.givenName, name.middleName, name.honorificPrefix, name.honorificSuffix) or use 'pr'"],
    ['User', 'addresses eq "x"', "'addresses' has no 'value' sub-attribute: compare one of addresses.formatted, addresses.streetAddress, addresses.locality, addresses.region, addresses.postalCode, addresses.country, addresses.type, addresses.primary"],
    ['User', 'emails[kind eq "work"]', "'kind' is not a sub-attribute of 'emails' (emails[kind]); expected one of value, display, type, primary"],
    ['User', 'emails[name.givenName eq "x"]', "inside 'emails[...]' name a sub-attribute of 'emails' (one of value, display, type, primary), not 'name.givenName'"],
    ['User', 'userName[value eq "x"]', "'userName' is not a complex attribute: '[...]' filters the values of a complex attribute"],
    ['User', 'title gt null', "'gt' cannot compare 'title' with null: only 'eq null' and 'ne null' are defined"],
    ['User', 'title eq "a\\u0000b"', "the value compared with 'title' contains U+0000 or an unpaired surrogate, which no attribute can hold"],
    ['User', 'title eq "\\ud800"', "the value compared with 'title' contains U+0000 or an unpaired surrogate, which no attribute can hold"],
  ] as const)('refuses %s: %s', (type, text, detail) => {
    expect(refusal(type, text)).toBe(detail);
  });

  it('rewrites ne, eq null and multi-valued sub-attributes into the resolved form', () => {
    expect(validateFilter('User', parseFilter('title ne "x"'))).toMatchObject({ kind: 'not', filter: { kind: 'compare', op: 'eq', value: 'x' } });
    expect(validateFilter('User', parseFilter('title eq null'))).toMatchObject({ kind: 'not', filter: { kind: 'present' } });
    expect(validateFilter('User', parseFilter('title ne null'))).toMatchObject({ kind: 'present' });
    expect(validateFilter('User', parseFilter('emails eq "a@b"'))).toMatchObject({
      kind: 'any',
      leaf: { attribute: { name: 'emails' } },
      filter: { kind: 'compare', leaf: { element: true, subAttribute: { name: 'value' } }, value: 'a@b' },
    });
    expect(validateFilter('User', parseFilter('active eq "False"'))).toMatchObject({ kind: 'compare', value: false });
    expect(validateFilter('User', parseFilter('title eq 42'))).toMatchObject({ kind: 'compare', value: '42' });
    expect(validateFilter('User', parseFilter('meta.created gt "2026-01-01T02:00:00.123456+02:00"'))).toMatchObject({ value: '2026-01-01T00:00:00.123Z' });
  });
});

describe('parseDateTime', () => {
  it('reads xsd:dateTime with offsets, fractions truncated to milliseconds, UTC when no offset', () => {
    expect(parseDateTime('2026-01-31T12:00:00Z')).toBe(Date.UTC(2026, 0, 31, 12));
    expect(parseDateTime('2026-01-31T12:00:00')).toBe(Date.UTC(2026, 0, 31, 12));
    expect(parseDateTime('2026-01-31T12:00:00.9999-01:30')).toBe(Date.UTC(2026, 0, 31, 13, 30, 0, 999));
    expect(parseDateTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDateTime('9999-12-31T23:59:59.999Z')).toBe(new Date('9999-12-31T23:59:59.999Z').getTime());
    for (const bad of ['2025-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01', 'now', '2026-01-01T00:00:00+25:00', '9999-12-31T23:00:00-05:00', '0001-01-01T00:00:00+01:00']) {
      expect(parseDateTime(bad)).toBeUndefined();
    }
  });
});

describe('matchesValueFilter', () => {
  const work = { value: 'Bjensen@Example.com', type: 'work', primary: true };
  it('matches one value of a multi-valued attribute (PATCH path emails[type eq "work"])', () => {
    expect(matchesValueFilter('User', { attribute: 'emails' }, parseFilter('type eq "work"'), work)).toBe(true);
    expect(matchesValueFilter('User', { attribute: 'emails' }, parseFilter('type eq "home"'), work)).toBe(false);
    expect(matchesValueFilter('User', { attribute: 'emails' }, parseFilter('value eq "bjensen@example.com" and primary eq true'), work)).toBe(true);
    expect(matchesValueFilter('User', { attribute: 'emails' }, parseFilter('not (display pr)'), work)).toBe(true);
    expect(matchesValueFilter('Group', { attribute: 'members' }, parseFilter('value eq "u-1"'), { value: 'u-1' })).toBe(true);
    expect(matchesValueFilter('Group', { attribute: 'members' }, parseFilter('value eq "U-1"'), { value: 'u-1' })).toBe(false);
  });

  it('matches the value of a singular complex attribute', () => {
    expect(matchesValueFilter('User', { attribute: 'name' }, parseFilter('givenName eq "barbara"'), { givenName: 'Barbara' })).toBe(true);
    expect(matchesValueFilter('User', { uri: ENT, attribute: 'manager' }, parseFilter('value pr'), { value: 'm' })).toBe(true);
  });

  it('refuses a value filter that does not fit the attribute with invalidPath', () => {
    expect(() => matchesValueFilter('User', { attribute: 'emails' }, parseFilter('kind eq "work"'), work)).toThrow(
      expect.objectContaining({ scimType: 'invalidPath', detail: expect.stringContaining("'kind' is not a sub-attribute of 'emails'") }) as Error,
    );
    expect(() => matchesValueFilter('User', { attribute: 'userName' }, parseFilter('value eq "x"'), 'x')).toThrow(expect.objectContaining({ scimType: 'invalidPath' }) as Error);
  });
});

describe('the filter cost limit (issue 20, item 5)', () => {
  const limit = FILTER_LIMITS.maxCostlyClauses;
  const clauses = (count: number, clause: (index: number) => string): string => Array.from({ length: count }, (_, index) => clause(index)).join(' or ');

  it(`refuses more than ${limit} costly clauses: the issue's not(... groups[display co ...]) filter, co/ew, and dotted multi-valued paths`, () => {
    expect(refusal('User', `not(${clauses(100, (i) => `groups[display co "g${i}"]`)})`)).toMatch(/too expensive: it has 200 costly clauses/);
    expect(refusal('User', clauses(limit + 1, (i) => `userName co "u${i}"`))).toMatch(/too expensive/);
    expect(refusal('User', clauses(limit + 1, (i) => `displayName ew "u${i}"`))).toMatch(/too expensive/);
    expect(refusal('Group', clauses(limit + 1, (i) => `members.value eq "${i}"`))).toMatch(/too expensive/);
  });

  it(`accepts ${limit} costly clauses, and any number of cheap ones (eq, sw, pr on single-valued attributes)`, () => {
    expect(() => validateFilter('User', parseFilter(clauses(limit, (i) => `userName co "u${i}"`)))).not.toThrow();
    expect(() => validateFilter('User', parseFilter(clauses(limit / 2, (i) => `emails[type eq "work" and value co "u${i}"]`)))).not.toThrow();
    expect(() => validateFilter('User', parseFilter(clauses(FILTER_LIMITS.maxComparisons, (i) => `userName eq "u${i}" `)))).not.toThrow();
    expect(() => validateFilter('User', parseFilter(clauses(50, (i) => `userName sw "u${i}"`)))).not.toThrow();
  });
});
