import { randomUUID } from 'node:crypto';
import { Model, UniqueViolationError, ValidationError, transaction } from 'objection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, migrateLatest, type Database } from '@roster/db';
import { createScratchPostgresDatabase } from '@roster/db/testing';
import { DirectoryChangeModel, directoryChangesTable } from './directory-changes.js';
import { GroupMemberModel } from './group-members.js';
import { GroupModel } from './groups.js';
import { UserModel, usersTable } from './users.js';

// Objection 3.1.5 on both databases Roster runs on (docs/stack-notes.md): the embedded one (knex-pglite, one
// fixed connection) always, PostgreSQL when TEST_DATABASE_URL names a server. Queries are bound per call
// (`Model.query(knex)`), never through the global `Model.knex()`, so two databases in one process stay apart.

interface Target {
  name: string;
  open(): Promise<{ db: Database; drop(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: 'embedded (knex-pglite)',
    open: async () => {
      const db = await createDatabase({ dataDir: null });
      return { db, drop: async () => {} };
    },
  },
];
const serverUrl = process.env.TEST_DATABASE_URL;
if (serverUrl) {
  targets.push({
    name: 'PostgreSQL (pg)',
    open: async () => {
      const scratch = await createScratchPostgresDatabase(serverUrl);
      return { db: await createDatabase({ url: scratch.url, poolMax: 3 }), drop: scratch.drop };
    },
  });
}

const U = usersTable.columns;

describe.each(targets)('Objection models on $name', (target) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await target.open());
    await migrateLatest(db.knex);
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('inserts and reads a user: uuid default, jsonb object, text[] array, timestamptz as a Date', async () => {
    const inserted = await UserModel.query(db.knex).insert({ user_name: 'ada', data: { nickName: 'Ada' }, emails_lower: ['ada@example.com'] });
    const id = (inserted as unknown as { id: string }).id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const read = (await UserModel.query(db.knex).findById(id)) as unknown as Record<string, unknown>;
    expect(read).toMatchObject({ id, user_name: 'ada', active: true, data: { nickName: 'Ada' }, emails_lower: ['ada@example.com'], version: 1 });
    expect(read.created_at).toBeInstanceOf(Date);
    expect(typeof read.seq).toBe('number');
  });

  it('filters, orders and patches through the column constants, and counts the rows patched and deleted', async () => {
    await UserModel.query(db.knex).insert([{ user_name: 'b-user' }, { user_name: 'c-user' }]);
    const names = (await UserModel.query(db.knex).whereIn(U.userName, ['c-user', 'b-user']).orderBy(U.userName)).map((row) => (row as unknown as Record<string, unknown>)[U.userName]);
    expect(names).toEqual(['b-user', 'c-user']);
    expect(await UserModel.query(db.knex).patch({ [U.active]: false }).where(U.userName, 'b-user')).toBe(1);
    expect(await UserModel.query(db.knex).delete().where(U.userName, 'c-user')).toBe(1);
    expect(await UserModel.query(db.knex).delete().where(U.userName, 'nobody')).toBe(0);
  });

  it('relates members through group_members and fetches the graph both ways (separate queries and joins)', async () => {
    const group = await GroupModel.query(db.knex).insert({ display_name: `Staff ${randomUUID()}` });
    const user = await UserModel.query(db.knex).insert({ user_name: `member-${randomUUID()}` });
    const groupId = (group as unknown as { id: string }).id;
    const userId = (user as unknown as { id: string }).id;
    await group.$relatedQuery('members', db.knex).relate(userId);
    expect(await GroupMemberModel.query(db.knex).findById([groupId, userId])).toBeDefined();

    const fetched = (await UserModel.query(db.knex).findById(userId).withGraphFetched('groups')) as unknown as { groups: Array<{ id: string }> };
    expect(fetched.groups.map((g) => g.id)).toEqual([groupId]);
    const joined = (await GroupModel.query(db.knex).findById(groupId).withGraphJoined('members')) as unknown as { members: Array<{ id: string }> };
    expect(joined.members.map((m) => m.id)).toEqual([userId]);
  });

  it('pages with a total (count(*) is a number on both drivers), inserts a graph and returns every column', async () => {
    const prefix = `page-${randomUUID()}`;
    await UserModel.query(db.knex).insert([1, 2, 3].map((n) => ({ user_name: `${prefix}-${n}` })));
    const page = await UserModel.query(db.knex).where(U.userName, 'like', `${prefix}-%`).orderBy(U.userName).page(0, 2);
    expect(page.total).toBe(3);
    expect(page.results).toHaveLength(2);

    const graph = (await GroupModel.query(db.knex).insertGraph({ display_name: `Graph ${prefix}`, members: [{ user_name: `${prefix}-graph` }] } as never)) as unknown as { id: string; members: Array<{ id: string }> };
    const members = await GroupMemberModel.query(db.knex).where(GroupMemberModel.columns.groupId, graph.id);
    expect(members.map((m) => (m as unknown as { user_id: string }).user_id)).toEqual([graph.members[0]!.id]);

    const [returned] = (await UserModel.query(db.knex).patch({ [U.displayName]: 'Shown' }).where(U.userName, `${prefix}-1`).returning('*')) as unknown as Array<Record<string, unknown>>;
    expect(returned).toMatchObject({ user_name: `${prefix}-1`, display_name: 'Shown', version: 1 });
  });

  it('runs a transaction that commits, and one that rolls back', async () => {
    await transaction(db.knex, async (trx) => {
      await UserModel.query(trx).insert({ user_name: 'committed' });
    });
    await expect(
      transaction(db.knex, async (trx) => {
        await UserModel.query(trx).insert({ user_name: 'rolled-back' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const names = (await UserModel.query(db.knex).whereIn(U.userName, ['committed', 'rolled-back'])).map((row) => (row as unknown as Record<string, unknown>)[U.userName]);
    expect(names).toEqual(['committed']);
  });

  it('refuses a value of the wrong type before any SQL (jsonSchema), and maps a unique violation to UniqueViolationError', async () => {
    await expect(UserModel.query(db.knex).insert({ user_name: 42 })).rejects.toBeInstanceOf(ValidationError);
    await UserModel.query(db.knex).insert({ user_name: 'Unique' });
    const error = await UserModel.query(db.knex).insert({ user_name: 'UNIQUE' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect((error as InstanceType<typeof UniqueViolationError>).constraint).toBe('users__lower_user_name');
  });

  it('reads a change-log row: bigint position as a number, the xid8 transaction id as a decimal string', async () => {
    await db.knex(directoryChangesTable.table).insert({ kind: 'user.created', resource_type: 'User', resource_id: randomUUID(), actor_type: 'system' });
    const [row] = (await DirectoryChangeModel.query(db.knex).orderBy(directoryChangesTable.columns.position, 'desc').limit(1)) as unknown as Array<Record<string, unknown>>;
    expect(typeof row!.position).toBe('number');
    expect(row!.tx_id).toMatch(/^\d+$/);
  });
});

it('binds no model to a global knex (every query names its database)', () => {
  expect(() => Model.knex()).not.toThrow();
  expect(Model.knex()).toBeUndefined();
});
