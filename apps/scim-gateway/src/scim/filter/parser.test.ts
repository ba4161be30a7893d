import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../errors.js';
import { thrownScimError } from '../errors.testing.js';
import type { Filter } from './ast.js';
import { compileFilter } from './compile-sql.js';
import { FILTER_LIMITS, parseFilter, parsePatchPath, parseValueFilter } from './parser.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function eq(attribute: string, value: string | number | boolean | null, subAttribute?: string): Filter {
  return { kind: 'compare', path: subAttribute ? { attribute, subAttribute } : { attribute }, op: 'eq', value };
}

describe('parseFilter', () => {
  it.each(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const)('parses the %s operator in any case', (op) => {
    expect(parseFilter(`userName ${op} "x"`)).toEqual({ kind: 'compare', path: { attribute: 'userName' }, op, value: 'x' });
    expect(parseFilter(`userName ${op.toUpperCase()} "x"`)).toEqual({ kind: 'compare', path: { attribute: 'userName' }, op, value: 'x' });
  });

  it('parses pr in any case', () => {
    expect(parseFilter('title pr')).toEqual({ kind: 'present', path: { attribute: 'title' } });
    expect(parseFilter('title PR')).toEqual({ kind: 'present', path: { attribute: 'title' } });
  });

  it('reads strings with JSON escapes, numbers, booleans and null', () => {
    expect(parseFilter('a eq "q\\"uo\\\\te \\u00e9\\n"')).toEqual(eq('a', 'q"uo\\te é\n'));
    expect(parseFilter('a eq -12.5e2')).toEqual(eq('a', -1250));
    expect(parseFilter('a eq 0')).toEqual(eq('a', 0));
    expect(parseFilter('a eq true')).toEqual(eq('a', true));
    expect(parseFilter('a eq false')).toEqual(eq('a', false));
    expect(parseFilter('a eq null')).toEqual(eq('a', null));
  });

  it('binds and tighter than or', () => {
    expect(parseFilter('a eq 1 or b eq 2 and c eq 3')).toEqual({
      kind: 'or',
      filters: [eq('a', 1), { kind: 'and', filters: [eq('b', 2), eq('c', 3)] }],
    });
    expect(parseFilter('a eq 1 and b eq 2 or c eq 3')).toEqual({
      kind: 'or',
      filters: [{ kind: 'and', filters: [eq('a', 1), eq('b', 2)] }, eq('c', 3)],
    });
  });

  it('honours parentheses and keeps chains flat', () => {
    expect(parseFilter('(a eq 1 or b eq 2) and c eq 3')).toEqual({
      kind: 'and',
      filters: [{ kind: 'or', filters: [eq('a', 1), eq('b', 2)] }, eq('c', 3)],
    });
    expect(parseFilter('a eq 1 AND b eq 2 And c eq 3')).toEqual({ kind: 'and', filters: [eq('a', 1), eq('b', 2), eq('c', 3)] });
    expect(parseFilter('((a eq 1))')).toEqual(eq('a', 1));
  });

  it('parses not with or without a space before the parenthesis', () => {
    expect(parseFilter('not (a eq 1)')).toEqual({ kind: 'not', filter: eq('a', 1) });
    expect(parseFilter('NOT(a eq 1 or b pr)')).toEqual({
      kind: 'not',
      filter: { kind: 'or', filters: [eq('a', 1), { kind: 'present', path: { attribute: 'b' } }] },
    });
  });

  it('parses sub-attributes and URN-prefixed paths, keeping the client spelling', () => {
    expect(parseFilter('name.familyName eq "J"')).toEqual(eq('name', 'J', 'familyName'));
    expect(parseFilter(`${ENTERPRISE}:manager.value eq "m"`)).toEqual({
      kind: 'compare',
      path: { uri: ENTERPRISE, attribute: 'manager', subAttribute: 'value' },
      op: 'eq',
      value: 'm',
    });
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "u"')).toEqual({
      kind: 'compare',
      path: { uri: 'urn:ietf:params:scim:schemas:core:2.0:User', attribute: 'userName' },
      op: 'eq',
      value: 'u',
    });
    // An unknown URN is split at its last colon; validation reports it.
    expect(parseFilter('urn:example:custom:1.0:Thing:size gt 3')).toMatchObject({ path: { uri: 'urn:example:custom:1.0:Thing', attribute: 'size' } });
    expect(parseFilter('members.$ref pr')).toEqual({ kind: 'present', path: { attribute: 'members', subAttribute: '$ref' } });
  });

  it('parses value paths with logical inner filters', () => {
    expect(parseFilter('emails[type eq "work" and primary eq true]')).toEqual({
      kind: 'valuePath',
      path: { attribute: 'emails' },
      filter: { kind: 'and', filters: [eq('type', 'work'), eq('primary', true)] },
    });
    expect(parseFilter('userType eq "Employee" and (emails[type eq "work" and not (value ew "@x.org")] or ims[type eq "xmpp"])')).toEqual({
      kind: 'and',
      filters: [
        eq('userType', 'Employee'),
        {
          kind: 'or',
          filters: [
            {
              kind: 'valuePath',
              path: { attribute: 'emails' },
              filter: {
                kind: 'and',
                filters: [eq('type', 'work'), { kind: 'not', filter: { kind: 'compare', path: { attribute: 'value' }, op: 'ew', value: '@x.org' } }],
              },
            },
            { kind: 'valuePath', path: { attribute: 'ims' }, filter: eq('type', 'xmpp') },
          ],
        },
      ],
    });
  });

  it('LENIENCY: reads a bare word as a string and booleans in any case', () => {
    expect(parseFilter('name.familyName eq Employee')).toEqual(eq('name', 'Employee', 'familyName'));
    expect(parseFilter('active eq True')).toEqual(eq('active', true));
    expect(parseFilter('active eq FALSE')).toEqual(eq('active', false));
    expect(parseFilter('emails[type eq work]')).toEqual({ kind: 'valuePath', path: { attribute: 'emails' }, filter: eq('type', 'work') });
    expect(parseFilter('userName eq 12ab')).toEqual(eq('userName', '12ab'));
  });

  it.each([
    ['userName foo "x"', "at 10: expected a comparison operator after 'userName', found 'foo'"],
    ['userName', "at 9: expected a comparison operator after 'userName', found the end of the filter"],
    ['userName eq', "at 12: expected a value after 'eq', found the end of the filter"],
    ['userName eq )', "at 13: expected a value after 'eq', found ')'"],
    ['userName eq "abc', 'at 13: unterminated string: expected a closing \'"\''],
    ['userName eq "a\\qb"', "at 13: invalid escape sequence '\\q' at 15 in a string"],
    ['(a eq 1', "at 8: expected ')' to close the '(' at 1, found the end of the filter"],
    ['a eq 1)', "at 7: expected 'and', 'or' or the end of the filter, found ')'"],
    ['a eq 1 b eq 2', "at 8: expected 'and', 'or' or the end of the filter, found 'b'"],
    ['a eq 1 and', "at 11: expected an attribute path, 'not' or '(', found the end of the filter"],
    ['not a eq 1', "at 5: expected '(' after 'not', found 'a'"],
    ['emails[type eq "work"', "at 22: expected ']' to close the '[' at 7, found the end of the filter"],
    ['emails[type[value eq 1]]', "at 12: a value filter cannot contain another value filter ('[' after 'type')"],
    ['name.familyName.x eq 1', "at 1: expected an attribute path (attribute[.subAttribute]), found 'name.familyName.x'"],
    ["userName' eq 1", "at 1: expected an attribute path (attribute[.subAttribute]), found 'userName''"],
    ['emails[type eq "w"].value eq "x"', "at 20: expected 'and', 'or' or the end of the filter, found '.value'"],
    ['', 'the filter is empty'],
    ['   ', 'the filter is empty'],
    ['a eq 1e999', 'at 6: the number 1e999 is out of range'],
  ])('rejects %j with a positioned message', (text, message) => {
    const error = thrownScimError(() => parseFilter(text));
    expect(error.status).toBe(400);
    expect(error.scimType).toBe('invalidFilter');
    expect(error.detail).toBe(message);
  });

  it('refuses filters beyond the length, comparison and depth limits', () => {
    const long = `userName eq "${'x'.repeat(FILTER_LIMITS.maxLength)}"`;
    expect(thrownScimError(() => parseFilter(long)).detail).toMatch(/at most 4096 are accepted/);
    const many = Array.from({ length: FILTER_LIMITS.maxComparisons + 1 }, (_, i) => `a eq ${i}`).join(' or ');
    expect(thrownScimError(() => parseFilter(many)).detail).toMatch(/more than 100 comparisons/);
    const exactly = Array.from({ length: FILTER_LIMITS.maxComparisons }, (_, i) => `a eq ${i}`).join(' or ');
    expect(parseFilter(exactly)).toMatchObject({ kind: 'or' });
    const deep = `${'('.repeat(FILTER_LIMITS.maxDepth + 1)}a pr${')'.repeat(FILTER_LIMITS.maxDepth + 1)}`;
    expect(thrownScimError(() => parseFilter(deep)).detail).toMatch(/nests deeper than 32 levels/);
    const deepest = `${'not('.repeat(FILTER_LIMITS.maxDepth)}a pr${')'.repeat(FILTER_LIMITS.maxDepth)}`;
    expect(parseFilter(deepest)).toMatchObject({ kind: 'not' });
  });

  it('lexes a long pathological input in linear time', () => {
    const text = `a eq "${'\\\\'.repeat(1000)}` + '\\'; // unterminated escape run: a backtracking regex would explode
    // A backtracking lexer would not take a little longer here but about 2^1000 steps, and a synchronous loop cannot
    // be interrupted in this process: the input is lexed in a child process that is killed at a generous deadline,
    // so the test proves termination without timing anything.
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', `
        const { parseFilter } = await import(${JSON.stringify(new URL('./parser.ts', import.meta.url).href)});
        try { parseFilter(process.env.FILTER_TEXT); console.log('parsed'); } catch (error) { console.log(error.scimType); }`],
      { cwd: fileURLToPath(new URL('../../../', import.meta.url)), env: { ...process.env, FILTER_TEXT: text }, encoding: 'utf8', timeout: 60_000 },
    );
    expect({ signal: child.signal, stderr: child.stderr, stdout: child.stdout.trim() }).toEqual({ signal: null, stderr: '', stdout: 'invalidFilter' });
    expect(thrownScimError(() => parseFilter(text)).scimType).toBe('invalidFilter');
  });
});

describe('parsePatchPath', () => {
  it('parses simple, sub-attribute and URN paths', () => {
    expect(parsePatchPath('displayName')).toEqual({ path: { attribute: 'displayName' } });
    expect(parsePatchPath('name.givenName')).toEqual({ path: { attribute: 'name', subAttribute: 'givenName' } });
    expect(parsePatchPath(`${ENTERPRISE}:manager`)).toEqual({ path: { uri: ENTERPRISE, attribute: 'manager' } });
  });

  it('parses value paths optionally followed by a sub-attribute', () => {
    expect(parsePatchPath('members[value eq "2819c223"]')).toEqual({ path: { attribute: 'members' }, valueFilter: eq('value', '2819c223') });
    expect(parsePatchPath('emails[type eq "work"].value')).toEqual({
      path: { attribute: 'emails' },
      valueFilter: eq('type', 'work'),
      subAttribute: 'value',
    });
  });

  it.each([
    ['', 'the path is empty'],
    ['emails[type eq "work"].value.x', "at 23: expected '.' and a sub-attribute name, or the end of the path, found '.value.x'"],
    ['emails[type eq "work"] x', "at 24: expected '.' and a sub-attribute name, or the end of the path, found 'x'"],
    ['emails[type eq "work"].value extra', "at 30: expected the end of the path, found 'extra'"],
    ['name.givenName[value eq "x"]', "at 15: a value filter applies to an attribute, not to the sub-attribute 'name.givenName'"],
    ['emails[type eq]', "at 15: expected a value after 'eq', found ']'"],
    ['emails x', "at 8: expected '[' or the end of the path, found 'x'"],
  ])('rejects %j with invalidPath', (text, message) => {
    const error = thrownScimError(() => parsePatchPath(text));
    expect(error.scimType).toBe('invalidPath');
    expect(error.detail).toBe(message);
  });

  it('parses a bare value filter with invalidPath errors', () => {
    expect(parseValueFilter('type eq "work"')).toEqual(eq('type', 'work'));
    expect(thrownScimError(() => parseValueFilter('type eq')).scimType).toBe('invalidPath');
  });
});

describe('hostile input (issue 6)', () => {
  const seed = Number(process.env.FILTER_SEED ?? 20261128);
  // Fragments of real filters, so generated text often gets deep into the grammar before going wrong.
  const fragment = fc.constantFrom(
    'userName', 'emails', 'name.givenName', 'groups.value', 'members', 'meta.created', 'active', 'password', `${ENTERPRISE}:manager.value`,
    'urn:', ':', '.', ' ', ' eq ', ' ne ', ' co ', ' gt ', ' pr', ' and ', ' or ', 'not', '(', ')', '[', ']', '"', '"x"', '\\', '\\u00', '\\"',
    '"2026-01-01T00:00:00Z"', 'true', 'False', 'null', '12', '-1.5e3', '1e999', "'", ';', '--', '%', '\u0000', '\ud800',
  );
  const text = fc.oneof(fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join('')), fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 30 }));

  it(`parses, validates and compiles 5,000 random texts to a result or a 400, never anything else (seed ${seed})`, () => {
    fc.assert(
      fc.property(text, fc.constantFrom('User' as const, 'Group' as const), (input, type) => {
        for (const run of [() => compileFilter(type, parseFilter(input), { baseUrl: 'https://x' }), () => parsePatchPath(input)]) {
          try {
            const result = run();
            expect(result).toBeTypeOf('object');
          } catch (error) {
            expect(error).toBeInstanceOf(ScimError);
            expect((error as ScimError).status).toBe(400);
          }
        }
      }),
      { seed, numRuns: 5000 },
    );
  });
});
