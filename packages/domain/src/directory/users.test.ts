import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import type { ListQuery } from './types.js';
import { userRepository } from './users.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.destroy());

function columns(userName: string) {
  return { user_name: userName, external_id: null, display_name: null, given_name: null, family_name: null, active: true, emails_lower: [] };
}

describe('userRepository.list: first-page statements kept by query shape', () => {
  it('gives each shape its own statement: the same filter with another order, owner scope or cursor reads what that query asks', async () => {
    // Inserted out of name order, so that the default order (seq) and the name order differ.
    for (const name of ['shape-b', 'shape-c', 'shape-a']) await userRepository.insert(db.knex, { columns: columns(name), data: { userName: name }, createdByClientId: null });
    const where = { sql: '(r.user_name LIKE ?)', bindings: ['shape-%'] };
    const names = async (query: Partial<ListQuery>) => (await userRepository.list(db.knex, { offset: 0, limit: 10, where, ...query })).items.map((user) => user.userName);
    const bySeq = await names({});
    expect(bySeq).toEqual(['shape-b', 'shape-c', 'shape-a']);
    expect(await names({ descending: true })).toEqual(['shape-a', 'shape-c', 'shape-b']);
    expect(await names({ orderBy: { sql: 'r.user_name', bindings: [] } })).toEqual(['shape-a', 'shape-b', 'shape-c']);
    expect(await names({ orderBy: { sql: 'r.user_name', bindings: [] }, descending: true })).toEqual(['shape-c', 'shape-b', 'shape-a']);
    expect(await names({ ownerClientId: '5b0d2f0e-4a57-4f0b-9c4e-0d7f3a0b1c2d' })).toEqual([]);
    const first = (await userRepository.list(db.knex, { offset: 0, limit: 1, where })).items[0]!;
    expect(await names({ afterSeq: first.seq })).toEqual(['shape-c', 'shape-a']);
    expect(await names({ where: { sql: '(r.user_name LIKE ?)', bindings: ['shape-c%'] } })).toEqual(['shape-c']);
    // And the first shape again, after the others: still its own statement.
    expect(await names({})).toEqual(bySeq);
  });
});

describe('userRepository.listDocumentsWithGroups: documents and timestamps as text', () => {
  const shape = { omit: ['userName', 'active'] };

  it('writes created and lastModified exactly as Date.toISOString does, microseconds truncated alike', async () => {
    const stamps = [
      '2026-11-29 23:59:59.9999+00',
      '2026-11-29 23:59:59.999999+00',
      '2026-01-01 00:00:00.0005+00',
      '2026-01-01 00:00:00+00',
      '2024-02-29 12:00:00.123456+05:30',
      '2000-01-01 00:00:00.001-08',
      '1999-12-31 23:59:59.9995+00',
    ];
    const ids: string[] = [];
    for (const [index, stamp] of stamps.entries()) {
      const user = await userRepository.insert(db.knex, { columns: columns(`stamp-${index}`), data: { userName: `stamp-${index}` }, createdByClientId: null });
      await db.knex('users').where('id', user.id).update({ created_at: stamp, updated_at: db.knex.raw(`?::timestamptz + interval '0.000731 second'`, [stamp]) });
      ids.push(user.id);
    }
    const where = { sql: '(r.user_name LIKE ?)', bindings: ['stamp-%'] };
    const objects = (await userRepository.list(db.knex, { offset: 0, limit: 50, where })).items;
    const documents = (await userRepository.listDocumentsWithGroups(db.knex, { offset: 0, limit: 50, where }, shape)).items;
    expect(documents.map((user) => user.id)).toEqual(ids);
    expect(documents.map((user) => [user.created, user.lastModified])).toEqual(objects.map((user) => [user.createdAt.toISOString(), user.updatedAt.toISOString()]));
    expect(documents[0]!.created).toBe('2026-11-29T23:59:59.999Z');
    // In UTC whatever the session's time zone.
    const elsewhere = await db.knex.transaction(async (trx) => {
      await trx.raw("SET LOCAL TIME ZONE 'Asia/Kolkata'");
      return (await userRepository.listDocumentsWithGroups(trx, { offset: 0, limit: 50, where }, shape)).items;
    });
    expect(elsewhere.map((user) => user.created)).toEqual(documents.map((user) => user.created));
  });

  it('leaves the omitted keys out of the document text and lists its schema URN keys', async () => {
    const data = { userName: 'doc-1', active: true, title: 'a "quoted" \\ title', 'urn:example:extension': { level: 2 }, 'urn:example:other,one': { x: 1 } };
    const user = await userRepository.insert(db.knex, { columns: columns('doc-1'), data, createdByClientId: null });
    const other = await userRepository.insert(db.knex, { columns: columns('doc-2'), data: { userName: 'doc-2' }, createdByClientId: null });
    const found = await userRepository.findDocumentByIdWithGroups(db.knex, user.id, shape);
    expect(JSON.parse(found!.documentJson)).toEqual({ title: 'a "quoted" \\ title', 'urn:example:extension': { level: 2 }, 'urn:example:other,one': { x: 1 } });
    expect(found!.extensionKeys).toEqual(Object.keys(JSON.parse(found!.documentJson) as object).filter((key) => key.startsWith('urn:')));
    expect(found!.extensionKeys).toHaveLength(2);
    const bare = await userRepository.findDocumentByIdWithGroups(db.knex, other.id, shape);
    expect(bare!.documentJson).toBe('{}');
    expect(bare!.extensionKeys).toEqual([]);
    expect(await userRepository.findDocumentByIdWithGroups(db.knex, other.id, shape, { ownerClientId: '5b0d2f0e-4a57-4f0b-9c4e-0d7f3a0b1c2d' })).toBeUndefined();
    expect(await userRepository.findDocumentByIdWithGroups(db.knex, 'not-a-uuid', shape)).toBeUndefined();
  });
});
