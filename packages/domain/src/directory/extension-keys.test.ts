import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { urnKeysOf } from './extension-keys.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

// Documents chosen to trip a scanner: URNs as values, in nested objects and arrays, escaped quotes and
// backslashes before a colon, keys that only start like a URN, upper case, non-ASCII, empty objects.
const DOCUMENTS: Record<string, unknown>[] = [
  {},
  { name: { givenName: 'Ada' }, emails: [{ value: 'ada@example.com', primary: true }] },
  { [ENTERPRISE]: { employeeNumber: '7', manager: { value: 'x' } }, title: 'Engineer' },
  { title: 'urn:not:a:key', nested: { 'urn:inner:key': 1 }, list: [{ 'urn:in:array': true }, 'urn:x'] },
  { 'URN:Acme:Schemas:2.0:User': { badge: 1 }, 'urnish': 2, 'urn-like': 3 },
  { 'say "urn:x": ': 'a "quoted" \\ value: "urn:y"', [ENTERPRISE]: {}, 'urn:acme:b': [], 'urn:acme:a': null },
  { 'ünïcode': 'é', 'urn:ex:ümlaut': { 'k"': '\\"' }, z: [[], [{}], '}]{['] },
];

describe('the URN keys of a stored document', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.destroy());

  it('are the top-level keys starting with urn: (any case), in the order of the JSON text', () => {
    expect(urnKeysOf('{}')).toEqual([]);
    expect(urnKeysOf(JSON.stringify({ title: 'urn:x', a: { 'urn:b': 1 } }))).toEqual([]);
    expect(urnKeysOf(JSON.stringify({ a: 1, [ENTERPRISE]: { x: 'urn:y' }, 'URN:z': 2 }))).toEqual([ENTERPRISE, 'URN:z']);
  });

  it('agree with jsonb_object_keys on the text PostgreSQL writes for each document', async () => {
    for (const document of DOCUMENTS) {
      const row = (await db.knex
        .select(db.knex.raw('?::jsonb::text AS text', [JSON.stringify(document)]), db.knex.raw("ARRAY(SELECT k FROM jsonb_object_keys(?::jsonb) AS k WHERE k ILIKE 'urn:%') AS keys", [JSON.stringify(document)]))
        .first()) as { text: string; keys: string[] | string };
      const expected = Array.isArray(row.keys) ? row.keys : row.keys === '{}' ? [] : row.keys.slice(1, -1).split(',');
      expect(urnKeysOf(row.text), row.text).toEqual(expected);
    }
  });
});
