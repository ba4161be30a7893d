// Declared extension attributes (issue 22) under the same check as the core ones (compile-sql.test.ts): the
// compiled SQL, run on a real database, selects exactly what the reference evaluator (evaluate.ts) accepts,
// for string (caseExact or not), integer, decimal, boolean, dateTime and multi-valued complex attributes.
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attribute, multiValued } from '../schemas/define.js';
import { buildSchemaSet, withSchemas } from '../schemas/index.js';
import { compileFilter } from './compile-sql.js';
import { matchesFilter } from './evaluate.js';
import { parseFilter } from './parser.js';

const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
const SET = buildSchemaSet([
  {
    resourceType: 'User',
    required: false,
    schema: {
      id: ACME,
      name: 'User',
      description: '',
      attributes: [
        attribute('costCenter', 'string', ''),
        attribute('code', 'string', '', { caseExact: true }),
        attribute('level', 'integer', ''),
        attribute('ratio', 'decimal', ''),
        attribute('contractor', 'boolean', ''),
        attribute('hiredAt', 'dateTime', ''),
        multiValued('badges', ''),
      ],
    },
  },
]);

const USERS: Array<{ id: string; data: Record<string, unknown> }> = [
  { id: '11111111-1111-4111-8111-111111111111', data: { userName: 'u1', [ACME]: { costCenter: 'CC-10', code: 'Ab', level: 3, ratio: 0.5, contractor: true, hiredAt: '2024-01-31T12:00:00Z', badges: [{ value: 'B-1', type: 'door', primary: true }] } } },
  { id: '22222222-2222-4222-8222-222222222222', data: { userName: 'u2', [ACME]: { costCenter: 'cc-20', code: 'ab', level: 10, ratio: 2.25, contractor: false, hiredAt: '2025-06-01T08:00:00+02:00', badges: [{ value: 'P-7', type: 'parking' }, { value: 'B-2', type: 'door' }] } } },
  { id: '33333333-3333-4333-8333-333333333333', data: { userName: 'u3', [ACME]: { level: 7, costCenter: '' } } },
  { id: '44444444-4444-4444-8444-444444444444', data: { userName: 'u4' } },
];

const FILTERS = [
  `${ACME}:costCenter eq "cc-10"`, `${ACME}:costCenter sw "CC"`, `${ACME}:costCenter co "-2"`, `${ACME}:costCenter ew "0"`, `${ACME}:costCenter pr`,
  `${ACME}:costCenter gt "cc-10"`, `not (${ACME}:costCenter pr)`, `${ACME}:costCenter ne "CC-10"`,
  `${ACME}:code eq "ab"`, `${ACME}:code eq "AB"`, `${ACME}:code lt "b"`,
  `${ACME}:level gt 5`, `${ACME}:level le 3`, `${ACME}:level eq 7`, `${ACME}:ratio ge 0.5`, `${ACME}:ratio lt 1`,
  `${ACME}:contractor eq true`, `${ACME}:contractor eq false`, `${ACME}:contractor pr`,
  `${ACME}:hiredAt gt "2025-01-01T00:00:00Z"`, `${ACME}:hiredAt eq "2025-06-01T06:00:00Z"`, `${ACME}:hiredAt le "2024-01-31T12:00:00Z"`, `${ACME}:hiredAt pr`,
  `${ACME}:badges[type eq "door" and value sw "b-"]`, `${ACME}:badges.value eq "P-7"`, `${ACME}:badges pr`, `${ACME}:badges[primary eq true]`,
  `${ACME}:level gt 1 and (${ACME}:costCenter pr or ${ACME}:contractor eq false)`,
];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.knex('users').insert(USERS.map((user) => ({ id: user.id, user_name: user.data.userName, data: user.data })));
});
afterAll(async () => db?.destroy());

describe('extension attributes: SQL agrees with the reference evaluator', () => {
  it.each(FILTERS)('%s', async (text) => {
    const filter = parseFilter(text);
    const compiled = withSchemas(SET, () => compileFilter('User', filter));
    const rows = (await db.knex('users as r').select('r.id').whereRaw(compiled.sql, compiled.bindings as never).orderBy('r.id')) as Array<{ id: string }>;
    const expected = withSchemas(SET, () => USERS.filter((user) => matchesFilter('User', filter, { id: user.id, ...user.data })).map((user) => user.id));
    expect(rows.map((row) => row.id)).toEqual(expected);
  });
});
