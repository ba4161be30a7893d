import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// group_members.group_id loses its foreign key; user_id keeps its own. The key's check runs once per inserted
// membership and locks the group's row each time (FOR KEY SHARE, PostgreSQL "Explicit Locking"): ten PATCHes
// adding 1,000 members each to one group took 10,000 exclusive locks on that row's buffer and queued on it
// (docs/benchmarks.md, finding 10). What the key guaranteed now holds by a rule every writer follows
// (packages/domain/src/directory/groups.ts): a membership is inserted only by a transaction that created the
// group or holds a lock on its row that a DELETE waits for, and deleting a group deletes its memberships in the
// same statement.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, 'ALTER TABLE group_members DROP CONSTRAINT IF EXISTS group_members_group_id_fkey;');
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    DELETE FROM group_members gm WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = gm.group_id);
    ALTER TABLE group_members ADD CONSTRAINT group_members_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE;
  `);
}
