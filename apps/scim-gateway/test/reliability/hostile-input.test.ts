import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BULK_OPERATIONS } from '../../src/routes/bulk.js';
import { FILTER_LIMITS } from '../../src/scim/filter/parser.js';
import { MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES } from '../../src/scim/http.js';
import { PATCH_LIMITS } from '../../src/scim/patch/index.js';
import { MAX_MEMBERS_PER_REQUEST } from '../../src/scim/service/groups.js';
import { startTestGateway, type ScimResponse, type TestGateway } from '../support/gateway.js';
import { ERROR_SCHEMA, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA } from './support.js';

// Issue 6, hostile input over HTTP: every limit answers a clear 4xx SCIM error, injection attempts in filters,
// sortBy, attributes, PATCH paths and ids are harmless, and random JSON bodies never produce a 5xx. The parser,
// compiler and PATCH engine have their own property tests beside them (scim/filter, scim/patch).

/** Text that only a database or a stack trace would put in a response. */
const LEAK = /syntax error at or near|relation "|column "|invalid input syntax|SQLSTATE|violates|duplicate key|knex|node_modules|\.ts:\d+|pg_catalog|unterminated quoted|unterminated dollar/i;

let gw: TestGateway;
let userId: string;
let groupId: string;

function expectClientError(response: ScimResponse, status: number, scimType?: string): void {
  expect(response.status, response.text.slice(0, 300)).toBe(status);
  expect(response.body).toEqual({ schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail: expect.any(String) });
  expect(response.text).not.toMatch(LEAK);
}

function expectHarmless(response: ScimResponse): void {
  expect(response.status, response.text.slice(0, 300)).toBeLessThan(500);
  expect(response.text).not.toMatch(LEAK);
}

beforeAll(async () => {
  gw = await startTestGateway({ ROSTER_RATE_LIMIT_PER_SECOND: '100000', ROSTER_RATE_LIMIT_BURST: '100000' });
  const user = await gw.scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'target@example.com', name: { givenName: 'Tar', familyName: 'Get' } });
  userId = (user.body as { id: string }).id;
  const group = await gw.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Targets', members: [{ value: userId }] });
  groupId = (group.body as { id: string }).id;
});

afterAll(async () => {
  await gw?.close();
});

describe('limits answer clear errors', () => {
  it(`a body over ${MAX_PAYLOAD_BYTES} bytes is 413`, async () => {
    const response = await gw.scim('POST', '/Users', undefined, { raw: `{"schemas":["${USER_SCHEMA}"],"userName":"big","x":"${'a'.repeat(MAX_PAYLOAD_BYTES)}"}` });
    expectClientError(response, 413);
    expect((response.body as { detail: string }).detail).toContain(String(MAX_PAYLOAD_BYTES));
  });

  it(`JSON nested deeper than ${MAX_JSON_DEPTH} levels is 400 invalidSyntax, also when deep enough to overflow a recursive walker`, async () => {
    for (const depth of [MAX_JSON_DEPTH + 1, 100_000]) {
      const raw = `{"schemas":["${USER_SCHEMA}"],"userName":"deep","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const response = await gw.scim('POST', '/Users', undefined, { raw });
      expectClientError(response, 400, 'invalidSyntax');
    }
  });

  it(`a filter over ${FILTER_LIMITS.maxLength} characters or ${FILTER_LIMITS.maxComparisons} comparisons is 400 invalidFilter`, async () => {
    const long = `userName eq "${'a'.repeat(FILTER_LIMITS.maxLength)}"`;
    expectClientError(await gw.scim('GET', `/Users?filter=${encodeURIComponent(long)}`), 400, 'invalidFilter');
    const many = Array.from({ length: FILTER_LIMITS.maxComparisons + 1 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    expect(many.length).toBeLessThan(FILTER_LIMITS.maxLength);
    expectClientError(await gw.scim('GET', `/Users?filter=${encodeURIComponent(many)}`), 400, 'invalidFilter');
    const deep = `${'('.repeat(FILTER_LIMITS.maxDepth + 1)}userName pr${')'.repeat(FILTER_LIMITS.maxDepth + 1)}`;
    expectClientError(await gw.scim('GET', `/Users?filter=${encodeURIComponent(deep)}`), 400, 'invalidFilter');
  });

  it('pathological filters within the limits are answered quickly (no catastrophic backtracking)', async () => {
    const texts = [
      'a'.repeat(FILTER_LIMITS.maxLength - 10),
      `userName eq "${'\\'.repeat(FILTER_LIMITS.maxLength - 20)}`,
      '"'.repeat(FILTER_LIMITS.maxLength),
      `${'userName eq 1e'.repeat(200)}`,
      `emails[${'type eq "a" and '.repeat(60)}value pr]`,
      '-'.repeat(FILTER_LIMITS.maxLength - 1) + 'x',
      `userName eq ${'9'.repeat(4000)}`,
    ];
    for (const text of texts) {
      // The work a request costs, not how long it takes: the gateway runs in this process, so the CPU time the
      // process used while answering bounds its work however busy the machine is (wall time would not). A
      // backtracking lexer or a quadratic parse of these inputs costs seconds to years of CPU.
      const started = process.cpuUsage();
      const response = await gw.scim('GET', `/Users?filter=${encodeURIComponent(text)}`);
      const used = process.cpuUsage(started);
      expect((used.user + used.system) / 1000, `CPU ms for ${text.slice(0, 40)}...`).toBeLessThan(2000);
      expectHarmless(response);
    }
  });

  it(`a PATCH with more than ${PATCH_LIMITS.maxOperations} operations is 400`, async () => {
    const Operations = Array.from({ length: PATCH_LIMITS.maxOperations + 1 }, () => ({ op: 'replace', path: 'displayName', value: 'x' }));
    const response = await gw.scim('PATCH', `/Users/${userId}`, { schemas: [PATCH_SCHEMA], Operations });
    expectClientError(response, 400, 'invalidSyntax');
    expect((response.body as { detail: string }).detail).toContain(String(PATCH_LIMITS.maxOperations));
  });

  it(`more than ${MAX_MEMBERS_PER_REQUEST} members in one request is 400 tooMany`, async () => {
    const members = Array.from({ length: MAX_MEMBERS_PER_REQUEST + 1 }, (_, i) => ({ value: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
    const response = await gw.scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: members }] });
    expectClientError(response, 400, 'tooMany');
  });

  it(`a Bulk request with more than ${MAX_BULK_OPERATIONS} operations is 413`, async () => {
    const Operations = Array.from({ length: MAX_BULK_OPERATIONS + 1 }, (_, i) => ({ method: 'DELETE', path: `/Users/missing-${i}` }));
    const response = await gw.scim('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations });
    expectClientError(response, 413);
  });
});

describe('injection attempts are harmless', () => {
  const filters = [
    `userName eq "x' OR '1'='1"`,
    `userName eq "x\\" or 1=1 --"`,
    `userName eq "target@example.com'; DROP TABLE users; --"`,
    `userName eq "%"`,
    `userName co "_"`,
    `userName sw "\\u0000"`,
    `userName eq "a" or 1 eq 1`,
    `userName; DROP TABLE users eq "x"`,
    `"userName" eq "x"`,
    `data->>'password' eq "x"`,
    `name.givenName) or (1=1 eq "x"`,
    `emails[value eq "x" or 1=1]`,
    `urn:ietf:params:scim:schemas:core:2.0:User:userName') or ('1'='1 eq "x"`,
    `meta.created gt "2020-01-01'::timestamptz or true or '"`,
    `userName eq "\u0000"`,
    `userName eq "${'\\'.repeat(3)}"`,
    `id eq "' or 1=1 --"`,
    `id eq "00000000-0000-0000-0000-000000000000' or '1'='1"`,
  ];

  it('in filters: a 400 or a correct (empty) result, never another user, never database text', async () => {
    for (const filter of filters) {
      const response = await gw.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expectHarmless(response);
      if (response.status === 200) expect((response.body as { totalResults: number }).totalResults, filter).toBe(0);
      const search = await gw.scim('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter });
      expectHarmless(search);
      if (search.status === 200) expect((search.body as { totalResults: number }).totalResults, filter).toBe(0);
    }
  });

  it('in sortBy, sortOrder, attributes, excludedAttributes, startIndex, count and cursor', async () => {
    const queries = [
      'sortBy=userName;DROP TABLE users',
      'sortBy=(select 1)',
      "sortBy=data->>'x'",
      'sortBy=userName desc, id',
      'sortBy=userName&sortOrder=desc;DROP TABLE users',
      'attributes=userName,(select password from admins)',
      "attributes=userName'--",
      'excludedAttributes=*',
      'attributes=urn:x:y:z:a.b.c.d.e.f',
      'startIndex=1;DROP TABLE users',
      'startIndex=-99999999999999999999',
      'count=1e309',
      "cursor=' or 1=1 --",
      'filter=userName%20pr&sortBy=name.givenName%20or%201%3D1',
    ];
    for (const query of queries) {
      const response = await gw.scim('GET', `/Users?${query}`);
      expectHarmless(response);
    }
  });

  it('in ids and resource paths', async () => {
    const ids = [
      "1' OR '1'='1",
      '1; DROP TABLE users',
      '00000000-0000-0000-0000-000000000000 or 1=1',
      '..%2F..%2Fadmins',
      '%00',
      'not-a-uuid',
      encodeURIComponent(`${userId}' --`),
      'x'.repeat(5000),
    ];
    for (const id of ids) {
      for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
        const body = method === 'PUT' ? { schemas: [USER_SCHEMA], userName: 'x@example.com' } : method === 'PATCH' ? { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] } : undefined;
        const response = await gw.scim(method, `/Users/${id}`, body);
        expectHarmless(response);
        expect([400, 404], `${method} ${id}`).toContain(response.status);
      }
    }
  });

  it('in PATCH paths and member references', async () => {
    const paths = [
      `members[value eq "x') or ('1'='1"]`,
      `members[value eq "${userId}" or 1 eq 1]`,
      `emails[type eq "work'; DROP TABLE users; --"].value`,
      `name.givenName'; DROP TABLE users; --`,
      `urn:ietf:params:scim:schemas:core:2.0:User:data->>'x'`,
      `members[value pr].value"`,
    ];
    for (const path of paths) {
      for (const [type, id] of [['Users', userId], ['Groups', groupId]] as const) {
        for (const op of ['remove', 'replace', 'add']) {
          const response = await gw.scim('PATCH', `/${type}/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op, path, ...(op === 'remove' ? {} : { value: 'x' }) }] });
          expectHarmless(response);
        }
      }
    }
    for (const value of ["' or 1=1 --", `${userId}' or '1'='1`, '00000000-0000-0000-0000-000000000000']) {
      const response = await gw.scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value }] }] });
      expectHarmless(response);
    }
  });

  it('left the directory intact', async () => {
    expect((await gw.scim('GET', `/Users/${userId}`)).status).toBe(200);
    expect(await gw.db.knex('users').count<{ count: number }[]>({ count: '*' })).toEqual([{ count: 1 }]);
    expect(await gw.db.knex('group_members').where('group_id', groupId).pluck('user_id')).toEqual([userId]);
    const tables = (await gw.db.knex.raw(`select count(*)::int as n from information_schema.tables where table_name in ('users', 'groups', 'admins', 'scim_credentials')`)) as { rows: Array<{ n: number }> };
    expect(tables.rows[0]!.n).toBe(4);
  });
});

describe('values no column can hold', () => {
  // PostgreSQL's text refuses U+0000 and its jsonb refuses the escape \u0000; an unpaired surrogate is not
  // UTF-8. JSON carries both, so a client can send them; they are the client's error (400), never a 500.
  const unstorable = { nul: 'a\u0000b', surrogate: 'a\ud800b' };

  it.each(Object.entries(unstorable))('%s in a POST or PUT of a user is 400 and stores nothing', async (_kind, value) => {
    const before = await gw.db.knex('users').count<{ count: number }[]>({ count: '*' });
    expectClientError(await gw.scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: `bad${value}@example.com` }), 400, 'invalidValue');
    expectClientError(await gw.scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'bad@example.com', title: value }), 400, 'invalidValue');
    expectClientError(await gw.scim('PUT', `/Users/${userId}`, { schemas: [USER_SCHEMA], userName: 'target@example.com', displayName: value }), 400, 'invalidValue');
    expect(await gw.db.knex('users').count<{ count: number }[]>({ count: '*' })).toEqual(before);
    expect((await gw.scim('GET', `/Users/${userId}`)).body).not.toHaveProperty('displayName');
  });

  it.each(Object.entries(unstorable))('%s in one user of a /Bulk of creations fails that operation alone (400)', async (kind, value) => {
    const names = [0, 1, 2].map((i) => `bulk-${kind}-${i}@example.com`);
    const Operations = names.map((userName, i) => ({
      method: 'POST',
      bulkId: `u${i}`,
      path: '/Users',
      data: { schemas: [USER_SCHEMA], userName, ...(i === 1 ? { name: { givenName: value } } : {}) },
    }));
    const response = await gw.scim('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations });
    expect(response.status).toBe(200);
    expect(response.text).not.toMatch(LEAK);
    const results = (response.body as { Operations: Array<{ bulkId: string; status: string }> }).Operations;
    expect(results.map((result) => [result.bulkId, result.status])).toEqual([['u0', '201'], ['u1', '400'], ['u2', '201']]);
    expect(await gw.db.knex('users').whereIn('user_name', names).orderBy('user_name').pluck('user_name')).toEqual([names[0], names[2]]);
  });
});

describe('random JSON bodies never produce a 5xx', () => {
  // Bodies: arbitrary JSON, and SCIM-shaped objects with arbitrary values under real attribute names.
  const key = fc.constantFrom('schemas', 'userName', 'displayName', 'name', 'emails', 'members', 'active', 'externalId', 'id', 'meta', 'Operations', 'op', 'path', 'value', 'groups', 'phoneNumbers', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', '');
  const schemas = fc.oneof(fc.constantFrom([USER_SCHEMA], [GROUP_SCHEMA], [PATCH_SCHEMA], ['urn:ietf:params:scim:api:messages:2.0:BulkRequest']), fc.jsonValue({ maxDepth: 1 }));
  const scimish = fc.tuple(fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), schemas).map(([fields, chosen]) => ({ ...fields, schemas: chosen }));
  const body = fc.oneof(fc.jsonValue({ maxDepth: 4 }), scimish, scimish);
  const target = fc.constantFrom(
    ['POST', '/Users'],
    ['POST', '/Groups'],
    ['PUT', 'user'],
    ['PATCH', 'user'],
    ['PUT', 'group'],
    ['PATCH', 'group'],
    ['POST', '/Bulk'],
    ['POST', '/Users/.search'],
  );
  const RUNS = 750;

  const property = fc.asyncProperty(target, body, async ([method, path], value) => {
    const resolved = path === 'user' ? `/Users/${userId}` : path === 'group' ? `/Groups/${groupId}` : path;
    const response = await gw.scim(method, resolved, undefined, { raw: JSON.stringify(value) ?? 'null' });
    if (response.status >= 500 || LEAK.test(response.text)) throw new Error(`${method} ${resolved} answered ${response.status}: ${response.text.slice(0, 300)}`);
  });

  it(`${RUNS} cases with the fixed seed 20261128`, async () => {
    await fc.assert(property, { numRuns: RUNS, seed: 20261128 });
  }, 300_000);

  it(`${RUNS} cases with a random seed (printed on failure)`, async () => {
    const seed = Date.now() % 2 ** 31;
    try {
      await fc.assert(property, { numRuns: RUNS, seed });
    } catch (error) {
      throw new Error(`random JSON bodies failed with seed ${seed}: ${(error as Error).message}`, { cause: error });
    }
  }, 300_000);
});
