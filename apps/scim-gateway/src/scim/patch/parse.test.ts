import { describe, expect, it } from 'vitest';
import { scimErrorOf } from '../errors.testing.js';
import { PATCH_LIMITS, PATCH_OP_SCHEMA, parsePatchRequest } from './parse.js';

function errorOf(body: unknown): { status: number; scimType: string | undefined; detail: string } {
  return scimErrorOf(() => parsePatchRequest(body));
}

const message = (...operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations: operations });

describe('parsePatchRequest', () => {
  it('reads op names case-insensitively and parses paths', () => {
    const operations = parsePatchRequest(message({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'a@b.c' }, { op: 'REMOVE', path: 'title' }));
    expect(operations).toEqual([
      {
        index: 0,
        op: 'replace',
        pathText: 'emails[type eq "work"].value',
        path: { path: { attribute: 'emails' }, valueFilter: { kind: 'compare', path: { attribute: 'type' }, op: 'eq', value: 'work' }, subAttribute: 'value' },
        value: 'a@b.c',
      },
      { index: 1, op: 'remove', pathText: 'title', path: { path: { attribute: 'title' } }, value: undefined },
    ]);
  });

  it('accepts the message schema in any case and a lower-case operations key', () => {
    expect(parsePatchRequest({ schemas: [PATCH_OP_SCHEMA.toUpperCase()], operations: [{ op: 'add', value: { title: 'x' } }] })).toHaveLength(1);
  });

  it('reads a blank path as no path', () => {
    expect(parsePatchRequest(message({ op: 'replace', path: ' ', value: { title: 'x' } }))[0]?.path).toBeUndefined();
  });

  const cases: Array<[string, unknown, { scimType: string; detail: string }]> = [
    ['a body that is not an object', [], { scimType: 'invalidSyntax', detail: 'the PATCH body must be a JSON object (a PatchOp message, RFC 7644 §3.5.2), got an array' }],
    ['missing schemas', { Operations: [] }, { scimType: 'invalidSyntax', detail: `schemas must contain "${PATCH_OP_SCHEMA}"` }],
    ['schemas without PatchOp', { schemas: ['urn:x'], Operations: [] }, { scimType: 'invalidSyntax', detail: `schemas must contain "${PATCH_OP_SCHEMA}"` }],
    ['missing Operations', { schemas: [PATCH_OP_SCHEMA] }, { scimType: 'invalidSyntax', detail: 'Operations is required: the list of PATCH operations' }],
    ['Operations not an array', { schemas: [PATCH_OP_SCHEMA], Operations: {} }, { scimType: 'invalidSyntax', detail: 'Operations must be an array, got an object' }],
    ['empty Operations', message(), { scimType: 'invalidSyntax', detail: 'Operations must not be empty' }],
    [
      'too many operations',
      { schemas: [PATCH_OP_SCHEMA], Operations: Array.from({ length: PATCH_LIMITS.maxOperations + 1 }, () => ({ op: 'remove', path: 'title' })) },
      { scimType: 'invalidSyntax', detail: 'Operations has 1001 operations; at most 1000 are accepted in one request' },
    ],
    ['an operation that is not an object', message('add'), { scimType: 'invalidSyntax', detail: 'operation 0: must be an object with "op", got a string' }],
    ['a missing op', message({ path: 'title' }), { scimType: 'invalidSyntax', detail: 'operation 0: "op" is required: "add", "remove" or "replace"' }],
    ['an unknown op', message({ op: 'remove', path: 'a' }, { op: 'move', path: 'title' }), { scimType: 'invalidSyntax', detail: 'operation 1: "op" must be "add", "remove" or "replace", got "move"' }],
    ['an op that is not a string', message({ op: 1 }), { scimType: 'invalidSyntax', detail: 'operation 0: "op" must be "add", "remove" or "replace", got a number' }],
    ['a path that is not a string', message({ op: 'remove', path: 3 }), { scimType: 'invalidPath', detail: 'operation 0: "path" must be a string, got a number' }],
    ['a malformed path', message({ op: 'remove', path: 'emails[type eq' }), { scimType: 'invalidPath', detail: "operation 0: at 15: expected a value after 'eq', found the end of the path" }],
    ['remove without a path', message({ op: 'add', value: { title: 'x' } }, { op: 'remove', path: 'title' }, { op: 'remove' }), { scimType: 'noTarget', detail: 'operation 2: remove needs a path (RFC 7644 §3.5.2.2)' }],
    ['add without a value', message({ op: 'add', path: 'title' }), { scimType: 'invalidValue', detail: 'operation 0: add needs a value' }],
    ['replace without a path and without an object', message({ op: 'replace', value: 'x' }), { scimType: 'invalidValue', detail: 'operation 0: replace without a path needs an object value (the attributes to replace), got a string' }],
    ['op given twice in different case', message({ op: 'add', OP: 'remove', path: 'x', value: 1 }), { scimType: 'invalidValue', detail: 'operation 0 has both "op" and "OP"' }],
  ];
  for (const [name, body, expected] of cases) {
    it(`refuses ${name}`, () => {
      expect(errorOf(body)).toEqual({ status: 400, ...expected });
    });
  }

  it('refuses a body nested too deeply', () => {
    let value: unknown = 'x';
    for (let depth = 0; depth < 20; depth += 1) value = { a: value };
    expect(errorOf(message({ op: 'add', value }))).toEqual({
      status: 400,
      scimType: 'invalidValue',
      detail: 'the PATCH body nests objects and arrays deeper than 16 levels',
    });
  });
});
