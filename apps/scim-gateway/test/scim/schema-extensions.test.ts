import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensionIndexes, type SchemaExtension } from '@roster/domain';
import { compileFilter } from '../../src/scim/filter/compile-sql.js';
import { parseFilter } from '../../src/scim/filter/parser.js';
import { withSchemas } from '../../src/scim/schemas/index.js';
import { replay, type ReplayFixture } from '../compat/replay.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// Extension schemas declared by an admin (issue 22), end to end over HTTP on the test database (PGlite, or
// PostgreSQL with TEST_DATABASE_URL): Entra- and Okta-shaped replays, filters and sorting compiled to SQL and
// served by the expression index, uniqueness under concurrency, unknown URNs refused or kept.

const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const fixture = (name: string): ReplayFixture => JSON.parse(readFileSync(new URL(`../compat/fixtures/${name}`, import.meta.url), 'utf8')) as ReplayFixture;

const acmeAttributes = [
  { name: 'costCenter', type: 'string', filterable: true, description: 'Cost center' },
  { name: 'employeeType', type: 'string' },
  { name: 'badges', type: 'complex', multiValued: true, subAttributes: [{ name: 'value', type: 'string' }, { name: 'type', type: 'string', canonicalValues: ['door', 'parking'] }] },
  { name: 'badgeNumber', type: 'string', uniqueness: 'server', caseExact: true },
  { name: 'level', type: 'integer', filterable: true },
  { name: 'hiredAt', type: 'dateTime' },
  { name: 'homePage', type: 'reference', referenceTypes: ['external'] },
];

let gw: TestGateway;
let acme: SchemaExtension;

beforeAll(async () => {
  gw = await startTestGateway();
  acme = await gw.roster.services.schemaExtensions.create({ urn: ACME, resourceType: 'User', attributes: acmeAttributes }, gw.adminId);
});
afterAll(async () => gw?.close());

async function createUser(userName: string, extension: Record<string, unknown>): Promise<string> {
  const response = await gw.scim('POST', '/Users', { schemas: [CORE, ACME], userName, [ACME]: extension });
  expect(response.status, response.text).toBe(201);
  return (response.body as { id: string }).id;
}

async function search(filter: string, extra = ''): Promise<string[]> {
  const response = await gw.scim('GET', `/Users?filter=${encodeURIComponent(filter)}${extra}`);
  expect(response.status, response.text).toBe(200);
  return (response.body as { Resources: Array<{ userName: string }> }).Resources.map((user) => user.userName);
}

describe('identity-provider replays with a declared custom extension', () => {
  it('Entra ID: stores and returns the custom attributes, and finds the user by them (fixtures/entra-custom-extension.json)', async () => {
    for (const scenario of fixture('entra-custom-extension.json').scenarios) await replay(gw, scenario);
  });

  it('Okta: create and PUT with the custom namespace (fixtures/okta-custom-extension.json)', async () => {
    for (const scenario of fixture('okta-custom-extension.json').scenarios) await replay(gw, scenario);
  });
});

describe('discovery', () => {
  it('/ResourceTypes lists the declared extension with required, /Schemas describes it', async () => {
    const type = await gw.scim('GET', '/ResourceTypes/User', undefined, { token: null });
    expect((type.body as { schemaExtensions: unknown }).schemaExtensions).toEqual([
      { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false },
      { schema: ACME, required: false },
    ]);
    const schema = await gw.scim('GET', `/Schemas/${ACME}`, undefined, { token: null });
    expect(schema.status).toBe(200);
    const body = schema.body as { id: string; name: string; attributes: Array<Record<string, unknown>> };
    expect(body.id).toBe(ACME);
    expect(body.name).toBe('User');
    expect(body.attributes[0]).toEqual({
      name: 'costCenter',
      type: 'string',
      multiValued: false,
      description: 'Cost center',
      required: false,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
    });
    expect(body.attributes.find((attribute) => attribute.name === 'homePage')).toMatchObject({ type: 'reference', referenceTypes: ['external'] });
  });

  // The structure RFC 7643 §7 gives every schema, checked on everything /Schemas serves (built-in and declared).
  it('every /Schemas attribute has valid RFC 7643 §7 characteristics; references have referenceTypes; sub-attributes one level deep', async () => {
    const response = await gw.scim('GET', '/Schemas', undefined, { token: null });
    const schemas = (response.body as { Resources: Array<{ id: string; name: string; attributes: Array<Record<string, unknown>>; schemas: string[]; meta: { resourceType: string } }> }).Resources;
    expect(schemas.map((schema) => schema.id)).toContain(ACME);
    const problems: string[] = [];
    const check = (attribute: Record<string, unknown>, at: string, depth: number): void => {
      const where = `${at}.${String(attribute.name)}`;
      if (typeof attribute.name !== 'string' || !/^(\$ref|[A-Za-z][A-Za-z0-9_-]*)$/.test(attribute.name)) problems.push(`${where}: name`);
      if (!['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary'].includes(attribute.type as string)) problems.push(`${where}: type`);
      for (const flag of ['multiValued', 'required', 'caseExact']) if (typeof attribute[flag] !== 'boolean') problems.push(`${where}: ${flag}`);
      if (typeof attribute.description !== 'string') problems.push(`${where}: description`);
      if (!['readOnly', 'readWrite', 'immutable', 'writeOnly'].includes(attribute.mutability as string)) problems.push(`${where}: mutability`);
      if (!['always', 'never', 'default', 'request'].includes(attribute.returned as string)) problems.push(`${where}: returned`);
      if (!['none', 'server', 'global'].includes(attribute.uniqueness as string)) problems.push(`${where}: uniqueness`);
      if (attribute.type === 'reference' && !(Array.isArray(attribute.referenceTypes) && attribute.referenceTypes.length > 0)) problems.push(`${where}: referenceTypes`);
      if (attribute.canonicalValues !== undefined && !(Array.isArray(attribute.canonicalValues) && attribute.canonicalValues.every((value) => typeof value === 'string'))) problems.push(`${where}: canonicalValues`);
      if (attribute.type === 'complex') {
        if (depth > 0) problems.push(`${where}: complex sub-attribute`);
        if (!Array.isArray(attribute.subAttributes)) problems.push(`${where}: subAttributes`);
        for (const sub of (attribute.subAttributes as Array<Record<string, unknown>>) ?? []) check(sub, where, depth + 1);
      } else if (attribute.subAttributes !== undefined) {
        problems.push(`${where}: subAttributes on a simple attribute`);
      }
      const known = ['name', 'type', 'multiValued', 'description', 'required', 'caseExact', 'mutability', 'returned', 'uniqueness', 'canonicalValues', 'referenceTypes', 'subAttributes'];
      for (const key of Object.keys(attribute)) if (!known.includes(key)) problems.push(`${where}: unknown characteristic ${key}`);
    };
    for (const schema of schemas) {
      expect(schema.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Schema']);
      expect(schema.meta.resourceType).toBe('Schema');
      for (const attribute of schema.attributes) check(attribute, schema.id, 0);
    }
    expect(problems).toEqual([]);
  });
});

describe('filters and sorting on extension attributes (compiled to SQL)', () => {
  beforeAll(async () => {
    await createUser('f-alpha', { costCenter: 'CC-10', level: 3, hiredAt: '2024-01-31T12:00:00Z', badges: [{ value: 'A1', type: 'door' }] });
    await createUser('f-beta', { costCenter: 'cc-20', level: 10, hiredAt: '2025-06-01T08:00:00+02:00' });
    await createUser('f-gamma', { level: 7 });
  });

  it('compares with the operators and case rules of core attributes', async () => {
    expect(await search(`${ACME}:costCenter eq "cc-10"`)).toEqual(['f-alpha']);
    expect(await search(`${ACME}:costCenter sw "CC-" and userName sw "f-"`, '&sortBy=userName')).toEqual(['f-alpha', 'f-beta']);
    expect(await search(`${ACME}:costCenter pr and userName sw "f-"`, '&sortBy=userName')).toEqual(['f-alpha', 'f-beta']);
    expect(await search(`not (${ACME}:costCenter pr) and userName sw "f-"`)).toEqual(['f-gamma']);
    expect(await search(`${ACME}:level gt 5 and userName sw "f-"`, '&sortBy=userName')).toEqual(['f-beta', 'f-gamma']);
    expect(await search(`${ACME}:hiredAt ge "2025-01-01T00:00:00Z"`)).toEqual(['f-beta']);
    expect(await search(`${ACME}:badges[type eq "door" and value eq "a1"]`)).toEqual(['f-alpha']);
    expect(await search(`${ACME}:badges.value eq "A1"`)).toEqual(['f-alpha']);
  });

  it('sorts by an extension attribute, missing values last', async () => {
    expect(await search('userName sw "f-"', `&sortBy=${encodeURIComponent(`${ACME}:level`)}&sortOrder=descending`)).toEqual(['f-beta', 'f-gamma', 'f-alpha']);
    expect(await search('userName sw "f-"', `&sortBy=${encodeURIComponent(`${ACME}:costCenter`)}`)).toEqual(['f-alpha', 'f-beta', 'f-gamma']);
  });

  it('refuses what the schema rules out, as for core attributes (400 invalidFilter)', async () => {
    const response = await gw.scim('GET', `/Users?filter=${encodeURIComponent(`${ACME}:level co "1"`)}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ scimType: 'invalidFilter' });
    const unknown = await gw.scim('GET', `/Users?filter=${encodeURIComponent(`${ACME}:shoeSize eq "1"`)}`);
    expect(unknown.status).toBe(400);
  });

  it('the eq filter of a filterable attribute is served by its expression index', async () => {
    const set = await gw.roster.services.scimSchemas();
    const compiled = withSchemas(set, () => compileFilter('User', parseFilter(`${ACME}:costCenter eq "cc-10"`)));
    const index = extensionIndexes(acme).find((candidate) => candidate.label === `${ACME}:costCenter`)!;
    // With sequential scans priced out, the planner picks the index if, and only if, the compiled expression
    // is the indexed one.
    const plan = await gw.db.knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      const result = (await trx.raw(`EXPLAIN SELECT r.id FROM users r WHERE ${compiled.sql}`, compiled.bindings as never)) as { rows: Array<{ 'QUERY PLAN': string }> };
      return result.rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain(index.name);
  });
});

describe('uniqueness "server"', () => {
  it('lets exactly one of concurrent creates with the same value through; the others get 409 uniqueness naming the attribute', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 6 }, (_, index) => gw.scim('POST', '/Users', { userName: `unique-${index}`, [ACME]: { badgeNumber: 'BN-1' } })),
    );
    expect(attempts.map((response) => response.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    const refused = attempts.find((response) => response.status === 409)!;
    expect(refused.body).toMatchObject({ scimType: 'uniqueness', detail: `${ACME}:badgeNumber is already in use by another resource` });
    // caseExact: another spelling is another value.
    expect((await gw.scim('POST', '/Users', { userName: 'unique-lower', [ACME]: { badgeNumber: 'bn-1' } })).status).toBe(201);
  });
});

describe('changing a declaration', () => {
  it('adds attributes freely; removing one that holds values asks for confirmation with the count, then removes the values', async () => {
    const service = gw.roster.services.schemaExtensions;
    const id = await createUser('change-1', { employeeType: 'Intern' });
    const added = await service.update(acme.id, { attributes: [...acmeAttributes, { name: 'region', type: 'string' }] }, gw.adminId);
    expect(added.version).toBe(acme.version + 1);
    const without = acmeAttributes.filter((attribute) => attribute.name !== 'employeeType');
    await expect(service.update(acme.id, { attributes: without }, gw.adminId)).rejects.toMatchObject({
      code: 'conflict',
      details: { confirmationRequired: true, changes: [{ attribute: 'employeeType', change: 'removed', resourcesWithValues: 1 }] },
    });
    await service.update(acme.id, { attributes: without }, gw.adminId, { confirm: true });
    const user = await gw.scim('GET', `/Users/${id}`);
    expect(user.body).not.toHaveProperty([ACME]);
    expect((user.body as { schemas: string[] }).schemas).toEqual([CORE]);
    const refused = await gw.scim('POST', '/Users', { userName: 'change-2', [ACME]: { employeeType: 'x' } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ scimType: 'invalidValue', detail: `${ACME}:employeeType is not an attribute of the extension schema ${ACME}` });
  });
});

describe('unknown extensions', () => {
  const OTHER = 'urn:ietf:params:scim:schemas:extension:other:2.0:User';

  it('"reject" (the default of a new install) answers 400 invalidValue naming the URN and stores nothing', async () => {
    expect((await gw.roster.services.settings.get()).unknownExtensions).toBe('reject');
    const response = await gw.scim('POST', '/Users', { userName: 'unknown-1', [OTHER]: { region: 'EU' } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ scimType: 'invalidValue', detail: expect.stringContaining(OTHER) });
    expect(await gw.db.knex('users').where('user_name', 'unknown-1').first()).toBeUndefined();
    const listed = await gw.scim('POST', '/Users', { schemas: [CORE, OTHER], userName: 'unknown-1' });
    expect(listed.status).toBe(400);
  });

  it('"keep" stores the values verbatim, returns them, and an admin declares the extension in one step with the values kept', async () => {
    await gw.roster.services.settings.update({ unknownExtensions: 'keep' }, gw.adminId);
    try {
      const created = await gw.scim('POST', '/Users', { userName: 'unknown-2', [OTHER]: { region: 'EU', floor: 3 }, [`${OTHER}:desk`]: 'D-12' });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({ schemas: [CORE, OTHER], [OTHER]: { region: 'EU', floor: 3, desk: 'D-12' } });
      const service = gw.roster.services.schemaExtensions;
      expect(await service.unrecognized()).toEqual([{ urn: OTHER, resourceType: 'User', resources: 1 }]);
      const declared = await service.declareFromUnrecognized(OTHER, 'User', gw.adminId);
      expect(declared.attributes.map((attribute) => [attribute.name, attribute.type])).toEqual(expect.arrayContaining([['region', 'string'], ['floor', 'integer'], ['desk', 'string']]));
      expect(await service.unrecognized()).toEqual([]);
      expect(await search(`${OTHER}:region eq "eu"`)).toEqual(['unknown-2']);
    } finally {
      await gw.roster.services.settings.update({ unknownExtensions: 'reject' }, gw.adminId);
    }
  });
});

describe('groups, required extensions and /Bulk', () => {
  const TEAM = 'urn:ietf:params:scim:schemas:extension:acme:2.0:Group';
  const HR = 'urn:ietf:params:scim:schemas:extension:hr:2.0:User';

  it('a Group extension is stored, listed in schemas and filterable', async () => {
    await gw.roster.services.schemaExtensions.create({ urn: TEAM, resourceType: 'Group', attributes: [{ name: 'costCenter', type: 'string', filterable: true }] }, gw.adminId);
    const created = await gw.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', TEAM], displayName: 'Finance', [TEAM]: { costCenter: 'F-1' } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', TEAM], [TEAM]: { costCenter: 'F-1' } });
    const found = await gw.scim('GET', `/Groups?filter=${encodeURIComponent(`${TEAM}:costCenter eq "f-1"`)}&excludedAttributes=members`);
    expect((found.body as { Resources: Array<{ displayName: string }> }).Resources.map((group) => group.displayName)).toEqual(['Finance']);
    // A User extension is not a Group's.
    const wrongType = await gw.scim('POST', '/Groups', { displayName: 'Other', [ACME]: { costCenter: '1' } });
    expect(wrongType.status).toBe(400);
  });

  it('a required extension must be present, and its required attributes too (RFC 7643 §6, §2.2)', async () => {
    const hr = await gw.roster.services.schemaExtensions.create({ urn: HR, resourceType: 'User', required: true, attributes: [{ name: 'personnelNumber', type: 'string', required: true }] }, gw.adminId);
    try {
      const type = await gw.scim('GET', '/ResourceTypes/User', undefined, { token: null });
      expect((type.body as { schemaExtensions: unknown[] }).schemaExtensions).toContainEqual({ schema: HR, required: true });
      const missing = await gw.scim('POST', '/Users', { userName: 'hr-1' });
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({ scimType: 'invalidValue', detail: `${HR} is required on every User: its extension schema is declared required` });
      const incomplete = await gw.scim('POST', '/Users', { userName: 'hr-1', [HR]: { other: 'x' } });
      expect(incomplete.status).toBe(400);
      const complete = await gw.scim('POST', '/Users', { userName: 'hr-1', [HR]: { personnelNumber: 'P-1' } });
      expect(complete.status).toBe(201);
      const id = (complete.body as { id: string }).id;
      const removed = await gw.scim('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: `${HR}:personnelNumber` }] });
      expect(removed.status).toBe(400);
    } finally {
      await gw.roster.services.schemaExtensions.delete(hr.id, gw.adminId, { confirm: true });
    }
  });

  it('/Bulk creates users with extension values, refuses an undeclared URN and a taken unique value per operation', async () => {
    const response = await gw.scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', bulkId: 'a', path: '/Users', data: { userName: 'bulk-ext-1', [ACME]: { costCenter: 'B-1' } } },
        { method: 'POST', bulkId: 'b', path: '/Users', data: { userName: 'bulk-ext-2', 'urn:ietf:params:scim:schemas:extension:nope:2.0:User': { x: 1 } } },
        { method: 'POST', bulkId: 'c', path: '/Users', data: { userName: 'bulk-ext-3', [ACME]: { badgeNumber: 'BULK-U' } } },
        { method: 'POST', bulkId: 'd', path: '/Users', data: { userName: 'bulk-ext-4', [ACME]: { badgeNumber: 'BULK-U' } } },
      ],
    });
    expect(response.status).toBe(200);
    const statuses = (response.body as { Operations: Array<{ status: string }> }).Operations.map((operation) => operation.status);
    // The batch insert meets the unique index, and the operations then run one by one (routes/bulk.ts).
    expect(statuses).toEqual(['201', '400', '201', '409']);
    expect(await search(`${ACME}:costCenter eq "b-1"`)).toEqual(['bulk-ext-1']);
  });
});

describe('returned "never" and "request" (RFC 7643 §7)', () => {
  const PRIV = 'urn:ietf:params:scim:schemas:extension:private:2.0:User';

  it('never returns a writeOnly attribute, a "request" one only when attributes names it; keeps an immutable one', async () => {
    const declared = await gw.roster.services.schemaExtensions.create(
      { urn: PRIV, resourceType: 'User', attributes: [{ name: 'pin', type: 'string', mutability: 'writeOnly', returned: 'never' }, { name: 'nickname', type: 'string', returned: 'request' }, { name: 'floor', type: 'integer' }, { name: 'hireId', type: 'string', mutability: 'immutable' }] },
      gw.adminId,
    );
    try {
      const created = await gw.scim('POST', '/Users', { userName: 'private-1', [PRIV]: { pin: '1234', nickname: 'Ace', floor: 3 } });
      expect(created.status, created.text).toBe(201);
      expect((created.body as Record<string, unknown>)[PRIV]).toEqual({ floor: 3 });
      const id = (created.body as { id: string }).id;
      expect(((await gw.scim('GET', `/Users/${id}`)).body as Record<string, unknown>)[PRIV]).toEqual({ floor: 3 });
      const listed = await gw.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "private-1"')}`);
      expect((listed.body as { Resources: Array<Record<string, unknown>> }).Resources[0]![PRIV]).toEqual({ floor: 3 });
      const asked = await gw.scim('GET', `/Users/${id}?attributes=${encodeURIComponent(`${PRIV}:nickname,${PRIV}:pin`)}`);
      expect((asked.body as Record<string, unknown>)[PRIV]).toEqual({ nickname: 'Ace' });
      // immutable (RFC 7643 §2.2): set once, then neither PATCH nor PUT may change it.
      const patchOp = (op: unknown) => gw.scim('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [op] });
      expect((await patchOp({ op: 'add', path: `${PRIV}:hireId`, value: 'H-1' })).status).toBe(200);
      const changed = await patchOp({ op: 'replace', path: `${PRIV}:hireId`, value: 'H-2' });
      expect(changed.status).toBe(400);
      expect(changed.body).toMatchObject({ scimType: 'mutability' });
      expect((await gw.scim('PUT', `/Users/${id}`, { userName: 'private-1', [PRIV]: { floor: 4 } })).status).toBe(400);
      expect((await gw.scim('PUT', `/Users/${id}`, { userName: 'private-1', [PRIV]: { floor: 4, hireId: 'H-1' } })).status).toBe(200);
    } finally {
      await gw.roster.services.schemaExtensions.delete(declared.id, gw.adminId, { confirm: true });
    }
  });
});
