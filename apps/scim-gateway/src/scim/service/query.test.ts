import { describe, expect, it } from 'vitest';
import { compileFilter } from '../filter/compile-sql.js';
import { parseFilter } from '../filter/parser.js';
import { ScimError } from '../errors.js';
import { compileFilterText } from './query.js';

const BASE = 'https://roster.example.com/scim_v2';

/** What the full path (lexer, parser, validator, compiler) makes of the filter, or the error it raises. */
function fullPath(type: 'User' | 'Group', text: string): unknown {
  try {
    return compileFilter(type, parseFilter(text), { baseUrl: BASE });
  } catch (error) {
    return error instanceof ScimError ? { status: error.status, scimType: error.scimType, detail: error.detail } : error;
  }
}

function shortcut(type: 'User' | 'Group', text: string): unknown {
  try {
    return compileFilterText(type, text, BASE);
  } catch (error) {
    return error instanceof ScimError ? { status: error.status, scimType: error.scimType, detail: error.detail } : error;
  }
}

const VALUES = [
  'bjensen@example.com',
  '',
  ' spaced  out ',
  'quote " inside',
  'back\\slash',
  'tab\tand newline\n',
  'ünïcödé 名前 😀',
  '0',
  '3.14',
  'true',
  'null',
  '2819c223-7f76-453a-919d-413861904646',
  'eq',
  'userName eq "nested"',
  ') or (userName pr',
  'x'.repeat(3000),
  'nul \u0000 inside',
  'lone \ud83d high surrogate',
  'lone \ude00 low surrogate',
];

const SPELLINGS = (attribute: string, literal: string): string[] => [
  `${attribute} eq ${literal}`,
  `${attribute.toUpperCase()} EQ ${literal}`,
  `  ${attribute}   eQ   ${literal}  `,
  `${attribute} eq${literal}`,
  `${attribute}\teq\t${literal}`,
  `urn:ietf:params:scim:schemas:core:2.0:User:${attribute} eq ${literal}`,
  `${attribute} eq ${literal} and active eq true`,
  `${attribute} ne ${literal}`,
  `${attribute} eq ${literal})`,
];

describe('compileFilterText: the equality shortcut', () => {
  for (const type of ['User', 'Group'] as const) {
    for (const attribute of type === 'User' ? ['userName', 'externalId', 'displayName', 'title', 'id', 'name.givenName'] : ['displayName', 'externalId', 'id']) {
      it(`gives what the full path gives for ${type} ${attribute}, value by value and spelling by spelling`, () => {
        for (const value of VALUES) {
          // Written as a client would: JSON escapes, and \u escapes of the same value.
          const literals = [JSON.stringify(value), JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)];
          for (const literal of literals) {
            for (const text of SPELLINGS(attribute, literal)) expect(shortcut(type, text), text).toEqual(fullPath(type, text));
          }
        }
      });
    }
  }

  it('takes the full path, and its errors, for what only looks like an equality', () => {
    for (const text of ['userName eq "unterminated', 'userName eq "bad \\x escape"', 'userName eq "raw \u0001 control"', 'nosuch eq "x"', `userName eq "${'x'.repeat(5000)}"`]) {
      const expected = fullPath('User', text);
      expect(expected).toMatchObject({ status: 400 });
      expect(shortcut('User', text), text).toEqual(expected);
    }
  });

  it('answers the compiled SQL of the attribute with the decoded value as its one binding', () => {
    expect(compileFilterText('User', 'userName eq "A\\"b"', BASE)).toEqual({ sql: '(lower(r.user_name) = lower(?::text))', bindings: ['A"b'] });
  });
});
