import type { Knex } from 'knex';

// The embedded database runs every statement through the extended query protocol, which takes one command
// at a time: migrations written as one script are split at statement ends and run in order.
export async function runStatements(knex: Knex, script: string): Promise<void> {
  const statements = script
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
  for (const statement of statements) await knex.raw(statement);
}
