import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { migrationSource } from '@roster/db';
import { DomainError } from './errors.js';
import { createSchemaExtensionService, extensionIndexes, normalizeExtensionAttributes, validateExtensionUrn } from './schema-extensions.js';
import { createSettingsService } from './settings.js';

let db: TestDatabase;
let admin: string;
beforeAll(async () => {
  db = await createTestDatabase();
  admin = ((await db.knex('admins').insert({ email: 'ext@example.com' }).returning('id')) as Array<{ id: string }>)[0]!.id;
});
afterAll(async () => db?.destroy());

function refusal(work: () => unknown): { message: string; field: unknown } {
  try {
    work();
  } catch (error) {
    if (error instanceof DomainError) return { message: error.message, field: error.details?.field };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('declarations (RFC 7643 §7 characteristics)', () => {
  it('fills the RFC 7643 §2.2 defaults', () => {
    expect(normalizeExtensionAttributes([{ name: 'costCenter', type: 'string' }])).toEqual([
      { name: 'costCenter', type: 'string', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', filterable: false },
    ]);
  });

  it.each([
    [[{ name: '1bad', type: 'string' }], 'attributes[0].name must start with a letter and hold only letters, digits, "-" and "_" (RFC 7643 §2.1)'],
    [[{ name: 'a' }], 'attributes[0] (a).type is required: one of string, boolean, decimal, integer, dateTime, reference, complex'],
    [[{ name: 'a', type: 'reference' }], 'attributes[0] (a): a reference attribute needs referenceTypes, e.g. ["external"] or ["User"] (RFC 7643 §7)'],
    [[{ name: 'a', type: 'complex', subAttributes: [{ name: 'b', type: 'complex', subAttributes: [{ name: 'c', type: 'string' }] }] }], 'attributes[0].subAttributes[0] (b): a sub-attribute cannot be complex; sub-attributes are one level deep (RFC 7643 §2.3.8)'],
    [[{ name: 'a', type: 'string' }, { name: 'A', type: 'string' }], 'attributes[1]: A is declared twice (names are case-insensitive, RFC 7643 §2.1)'],
    [[{ name: 'a', type: 'string', uniqueness: 'global' }], 'attributes[0] (a).uniqueness "global" cannot be enforced by one service provider; use "server"'],
    [[{ name: 'a', type: 'string', multiValued: true, filterable: true }], 'attributes[0] (a): only single-valued string, reference, boolean, integer and decimal attributes can be marked filterable (others are filtered without an index)'],
    [[{ name: 'a', type: 'string', mutability: 'writeOnly', returned: 'default' }], 'attributes[0] (a): a writeOnly attribute must have returned "never" (RFC 7643 §7)'],
    [[{ name: 'a', type: 'string', colour: 'red' }], 'attributes[0].colour is not an attribute characteristic (RFC 7643 §7)'],
  ])('refuses %j: %s', (attributes, message) => {
    expect(refusal(() => normalizeExtensionAttributes(attributes)).message).toBe(message);
  });

  it('takes a URN (RFC 8141) that is not one of the schemas Roster defines', () => {
    expect(validateExtensionUrn('urn:ietf:params:scim:schemas:extension:acme:2.0:User')).toBe('urn:ietf:params:scim:schemas:extension:acme:2.0:User');
    for (const urn of ['acme:User', 'urn:acme', 'urn:x:y:', 'urn:x:y z', 'urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']) {
      expect(refusal(() => validateExtensionUrn(urn)).field, urn).toBe('urn');
    }
  });
});

describe('the service', () => {
  const urn = 'urn:ietf:params:scim:schemas:extension:svc:2.0:Group';

  it('creates, refuses a second declaration of the URN in any case, and keeps the indexes in step with the declaration', async () => {
    const service = createSchemaExtensionService(db.knex);
    const created = await service.create({ urn, resourceType: 'Group', attributes: [{ name: 'region', type: 'string', filterable: true }] }, admin);
    expect(created).toMatchObject({ urn, resourceType: 'Group', required: false, name: 'Group', version: 1 });
    await expect(service.create({ urn: urn.toUpperCase().replace('URN:', 'urn:'), resourceType: 'Group', attributes: [] }, admin)).rejects.toMatchObject({ code: 'conflict' });
    await expect(service.create({ urn: `${urn}:sub`, resourceType: 'Group', attributes: [] }, admin)).rejects.toMatchObject({ code: 'invalid_input', details: { field: 'urn' } });
    const indexNames = async () => ((await db.knex.raw("SELECT indexname FROM pg_indexes WHERE tablename = 'groups' AND indexname LIKE 'groups\\_\\_ext\\_%'")) as { rows: Array<{ indexname: string }> }).rows.map((row) => row.indexname);
    expect(await indexNames()).toEqual(extensionIndexes(created).map((index) => index.name));
    const changed = await service.update(created.id, { attributes: [{ name: 'region', type: 'string' }] }, admin);
    expect(changed.version).toBe(2);
    expect(await indexNames()).toEqual([]);
    await service.delete(created.id, admin);
    await expect(service.get(created.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses to make an attribute unique while stored values repeat, naming it', async () => {
    const service = createSchemaExtensionService(db.knex);
    const created = await service.create({ urn, resourceType: 'Group', attributes: [{ name: 'code', type: 'string' }] }, admin);
    await db.knex('groups').insert([{ display_name: 'g1', data: { [urn]: { code: 'X' } } }, { display_name: 'g2', data: { [urn]: { code: 'x' } } }]);
    await expect(service.update(created.id, { attributes: [{ name: 'code', type: 'string', uniqueness: 'server' }] }, admin)).rejects.toMatchObject({
      code: 'conflict',
      message: `${urn}:code cannot be made unique: stored resources already share a value; make them unique first`,
    });
    // caseExact: "X" and "x" differ.
    await service.update(created.id, { attributes: [{ name: 'code', type: 'string', uniqueness: 'server', caseExact: true }] }, admin);
    await expect(service.delete(created.id, admin)).rejects.toMatchObject({ code: 'conflict', details: { confirmationRequired: true, resourcesWithValues: 2 } });
    await service.delete(created.id, admin, { confirm: true });
    expect(Number(((await db.knex('groups').whereRaw('(data -> ?::text) IS NOT NULL', [urn]).count({ n: '*' })) as Array<{ n: unknown }>)[0]!.n)).toBe(0);
  });
});

describe('unknownExtensions after the upgrade (migration 20261207060100)', () => {
  it('is "reject" on a new install and "keep" on an install that already holds users', async () => {
    expect((await createSettingsService(db.knex).get()).unknownExtensions).toBe('reject');
    const upgraded = await createTestDatabase();
    try {
      await upgraded.knex.raw('DROP TABLE schema_extensions');
      await upgraded.knex('users').insert({ user_name: 'existing' });
      const migration = (await migrationSource.getMigrations([])).find((entry) => migrationSource.getMigrationName(entry) === '20261207060100_create_schema_extensions')!;
      await (await migrationSource.getMigration(migration)).up(upgraded.knex);
      expect((await createSettingsService(upgraded.knex).get()).unknownExtensions).toBe('keep');
    } finally {
      await upgraded.destroy();
    }
  });
});
