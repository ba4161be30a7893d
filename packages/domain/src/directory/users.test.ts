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
