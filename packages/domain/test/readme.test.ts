import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, migrateLatest } from '@roster/db';
import { createScratchPostgresDatabase, type TestDatabase } from '@roster/db/testing';
import { groupRepository } from '../src/directory/groups.js';
import { userRepository } from '../src/directory/users.js';

// The README's example, run as written: its ```ts block after the "example" marker is written to a file in
// this package (so `@roster/domain/read` resolves to this package) and run with tsx against a real database:
// PostgreSQL when TEST_DATABASE_URL is set, otherwise an embedded data directory made here and closed first.

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.resolve(here, '..');
const tsx = path.resolve(packageDir, '../../node_modules/.bin/tsx');

function readmeExample(): string {
  const readme = fs.readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  const match = /<!-- example:[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no example block');
  return match[1]!;
}

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
  const script = path.join(packageDir, `.readme-example-${process.pid}.ts`);
  let env: Record<string, string> = {};
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (process.env.TEST_DATABASE_URL) {
      const scratch = await createScratchPostgresDatabase(process.env.TEST_DATABASE_URL);
      drop = scratch.drop;
      const db = await createDatabase({ url: scratch.url });
      await migrateLatest(db.knex);
      const providerId = await seed(db.knex as TestDatabase['knex']);
      await db.close();
      env = { DATABASE_URL: scratch.url, ROSTER_PROVIDER_ID: providerId };
    } else {
      const dataDir = path.join(work, 'data');
      const db = await createDatabase({ dataDir });
      await migrateLatest(db.knex);
      const providerId = await seed(db.knex as TestDatabase['knex']);
      await db.close();
      env = { ROSTER_DATA_DIR: dataDir, ROSTER_PROVIDER_ID: providerId };
    }
    fs.writeFileSync(script, readmeExample());
  });
  afterAll(async () => {
    fs.rmSync(script, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
    await drop?.();
  });

  it('runs the reading example as written', () => {
    const run = spawnSync(tsx, ['--conditions=source', script], { cwd: packageDir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual(['user ada@example.com true', 'groups Analysts', 'signed in ada@example.com']);
    expect(run.status).toBe(0);
  });
});
