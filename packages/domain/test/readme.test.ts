import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, migrateLatest } from '@roster/db';
import { createScratchPostgresDatabase, type TestDatabase } from '@roster/db/testing';
import { groupRepository } from '../src/directory/groups.js';
import { userRepository } from '../src/directory/users.js';

// The README's examples, run as written: each ```ts block after an "example" marker is written to a file in this
// package (so `@roster/domain` and `@roster/domain/read` resolve to this package) and run with tsx against a real
// database: PostgreSQL when TEST_DATABASE_URL is set, otherwise an embedded data directory made here and closed
// first. On PostgreSQL they read through a role made by the README's own ```sql block (PUBLIC's rights on the
// database and its schema revoked, so only those GRANTs can let it in). The models snippet reads `knex` and `id`
// that a reader of it has at hand: a preamble opens the one and finds the other.

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.resolve(here, '..');
const tsx = path.resolve(packageDir, '../../node_modules/.bin/tsx');
const readme = fs.readFileSync(path.join(packageDir, 'README.md'), 'utf8');

function block(marker: string, language: 'ts' | 'sql'): string {
  const match = new RegExp(`${marker}\\s*\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no ${language} block after ${marker}`);
  return match[1]!;
}

const readingExample = (): string => block('<!-- example:[^>]*-->', 'ts');
const modelsExample = (): string => block('<!-- example \\(models\\):[^>]*-->', 'ts');
const readOnlyRole = (): string => block('### A read-only PostgreSQL role', 'sql');

const MODELS_PREAMBLE = `import { createDatabase } from '@roster/db';
const db = await createDatabase(process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { dataDir: process.env.ROSTER_DATA_DIR });
const knex = db.knex;
const id = (await knex('users').where({ user_name: 'ada@example.com' }).first()).id as string;
`;
const MODELS_POSTSCRIPT = `
const fetched = await UserModel.query(knex).findById(id).withGraphFetched('groups');
console.log('models', usersTable.columns.userName, usersTable.ref('id'), (fetched as unknown as { groups: Array<{ display_name: string }> }).groups.map((group) => group.display_name).join(','));
await db.close();
`;

async function seed(knex: TestDatabase['knex']): Promise<string> {
  const [provider] = (await knex('auth_providers').insert({ name: 'Keycloak', kind: 'oidc', identity_mapping: JSON.stringify({ claim: 'sub', attribute: 'externalId' }) }).returning('id')) as Array<{ id: string }>;
  const [client] = (await knex('scim_clients').insert({ name: 'Keycloak SCIM', auth_provider_id: provider!.id, auth_method: 'static_token' }).returning('id')) as Array<{ id: string }>;
  const user = await userRepository.insert(knex, {
    columns: { user_name: 'ada@example.com', external_id: 'kc-ada', display_name: null, given_name: null, family_name: null, active: true, emails_lower: [] },
    data: { userName: 'ada@example.com', externalId: 'kc-ada', active: true },
    createdByClientId: client!.id,
    linkProviderId: provider!.id,
  });
  const group = await groupRepository.insert(knex, { columns: { display_name: 'Analysts', external_id: null }, data: { displayName: 'Analysts' }, createdByClientId: null });
  await groupRepository.addMembers(knex, group.id, [user.id]);
  return provider!.id;
}

describe('packages/domain/README.md', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-readme-'));
  const scripts = { reading: path.join(packageDir, `.readme-example-${process.pid}.ts`), models: path.join(packageDir, `.readme-models-${process.pid}.ts`) };
  let env: Record<string, string> = {};
  const cleanup: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    if (process.env.TEST_DATABASE_URL) {
      const scratch = await createScratchPostgresDatabase(process.env.TEST_DATABASE_URL);
      cleanup.push(scratch.drop);
      const db = await createDatabase({ url: scratch.url });
      try {
        await migrateLatest(db.knex);
        const providerId = await seed(db.knex as TestDatabase['knex']);
        // The README's role, under a name of this run (roles belong to the whole server), with a password of its own.
        const database = decodeURIComponent(new URL(scratch.url).pathname.slice(1));
        const role = `roster_reader_${randomBytes(4).toString('hex')}`;
        const password = randomBytes(12).toString('hex');
        await db.knex.raw(`REVOKE ALL ON DATABASE "${database}" FROM PUBLIC`);
        await db.knex.raw('REVOKE ALL ON SCHEMA public FROM PUBLIC');
        cleanup.push(async () => {
          const server = await createDatabase({ url: process.env.TEST_DATABASE_URL!, poolMax: 1 });
          await server.knex.raw(`DROP ROLE IF EXISTS "${role}"`).finally(() => server.close());
        });
        const sql = readOnlyRole().replaceAll('roster_reader', role).replace("PASSWORD '...'", `PASSWORD '${password}'`).replace('DATABASE roster ', `DATABASE "${database}" `);
        for (const statement of sql.split(';').map((text) => text.trim()).filter(Boolean)) await db.knex.raw(statement);
        const url = new URL(scratch.url);
        url.username = role;
        url.password = password;
        env = { DATABASE_URL: url.toString(), ROSTER_PROVIDER_ID: providerId };
      } finally {
        await db.close();
      }
    } else {
      const dataDir = path.join(work, 'data');
      const db = await createDatabase({ dataDir });
      await migrateLatest(db.knex);
      const providerId = await seed(db.knex as TestDatabase['knex']);
      await db.close();
      env = { ROSTER_DATA_DIR: dataDir, ROSTER_PROVIDER_ID: providerId };
    }
    fs.writeFileSync(scripts.reading, readingExample());
    fs.writeFileSync(scripts.models, `${MODELS_PREAMBLE}${modelsExample()}${MODELS_POSTSCRIPT}`);
  });
  afterAll(async () => {
    fs.rmSync(scripts.reading, { force: true });
    fs.rmSync(scripts.models, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
    // The database first: a role cannot be dropped while a database grants it rights.
    for (const step of cleanup) await step();
  });

  const run = (script: string) => spawnSync(tsx, ['--conditions=source', script], { cwd: packageDir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 120_000 });

  it('runs the reading example as written', () => {
    const result = run(scripts.reading);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual(['user ada@example.com true', 'groups Analysts', 'signed in ada@example.com']);
    expect(result.status).toBe(0);
  });

  it('runs the models example as written', () => {
    const result = run(scripts.models);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('models user_name users.id Analysts');
    expect(result.status).toBe(0);
  });
});
