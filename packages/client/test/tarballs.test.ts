import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The packages as a new application developer gets them: built, packed with `pnpm pack` (workspace ranges
// become real ones), installed with plain `npm install ./x.tgz` into an empty project in a temporary
// directory outside the repository, then used from TypeScript (module nodenext, strict, library types
// checked) and from plain JavaScript. npm may reach the registry for knex, pg, PGlite and jose; it prefers
// its cache (--prefer-offline) so a warm CI runner needs no network. With TEST_DATABASE_URL the installed
// packages also migrate a scratch PostgreSQL database and read it through a role holding exactly the GRANTs
// docs/applications.md documents (and, refused, through roles missing one of them).

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGES = ['db', 'domain', 'auth', 'client'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-tarballs-'));
const packs = path.join(work, 'packs');
const project = path.join(work, 'app');

function run(command: string, args: string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

// What the application does, in TypeScript; the JavaScript version is the same without the types.
const CHECK_TS = `
import { createRosterClient, RosterApiError, createSetVerifier, startEventPoller, type SignInResolution, type LockReason } from '@roster/client';
import { openReadOnlyDirectory, ReadOnlyDirectoryError, type SignInStatus } from '@roster/domain/read';
import { createDirectoryReader, createSignInResolver, IDENTITY_MAPPING_PRESETS } from '@roster/domain';
import { createDatabase, migrateLatest } from '@roster/db';
import { createIdTokenVerifier } from '@roster/auth';

const reason: LockReason = 'deactivated_by_provider';
const status: SignInStatus = 'found';
const client = createRosterClient({ baseUrl: 'http://127.0.0.1:9', credentials: { token: 'roster_ast_x' } });
const nothing: SignInResolution = { status: 'unknown' };
console.log('types', reason, status, nothing.status, typeof client.resolveSignIn, typeof RosterApiError, typeof createSetVerifier, typeof startEventPoller, typeof createIdTokenVerifier);
console.log('presets', IDENTITY_MAPPING_PRESETS.map((preset) => preset.name).join(','));
for (const dataDir of [process.argv[2]!, process.argv[3]!]) {
  try {
    await openReadOnlyDirectory({ dataDir });
    console.log('opened');
  } catch (error) {
    console.log('refused', error instanceof ReadOnlyDirectoryError, (error as Error).message);
  }
}
const db = await createDatabase({ dataDir: null });
await migrateLatest(db.knex);
console.log('reader', await createDirectoryReader(db.knex).findUserByUserName('nobody'));
const [provider] = await db.knex('auth_providers').insert({ name: 'Keycloak', kind: 'oidc' }).returning('id');
console.log('resolution', JSON.stringify(await createSignInResolver(db.knex).resolveByClaims(provider.id, { sub: 'x' })));
await db.close();
`;

// PostgreSQL, from the installed packages: `create` makes a scratch database (@roster/db/testing), migrates it
// (@roster/db), seeds Ada in Analysts through a Keycloak-mapped provider (@roster/domain), takes every right
// from PUBLIC on the database and its schema (so only the documented GRANTs can let a role in), and runs each
// role's statements; `drop` drops the database, then the roles.
const PG_ADMIN_JS = `
import fs from 'node:fs';
import { createDatabase, migrateLatest } from '@roster/db';
import { createScratchPostgresDatabase } from '@roster/db/testing';
import { groupRepository, userRepository } from '@roster/domain';

const [command, serverUrl, ...rest] = process.argv.slice(2);
if (command === 'create') {
  const roles = JSON.parse(fs.readFileSync(rest[0], 'utf8'));
  const scratch = await createScratchPostgresDatabase(serverUrl);
  const database = decodeURIComponent(new URL(scratch.url).pathname.slice(1));
  console.log(JSON.stringify({ database, url: scratch.url }));
  const db = await createDatabase({ url: scratch.url, poolMax: 1 });
  try {
    await migrateLatest(db.knex);
    const [provider] = await db.knex('auth_providers').insert({ name: 'Keycloak', kind: 'oidc', identity_mapping: JSON.stringify({ claim: 'sub', attribute: 'externalId' }) }).returning('id');
    const [client] = await db.knex('scim_clients').insert({ name: 'Keycloak SCIM', auth_provider_id: provider.id, auth_method: 'static_token' }).returning('id');
    const user = await userRepository.insert(db.knex, {
      columns: { user_name: 'ada@example.com', external_id: 'kc-ada', display_name: null, given_name: null, family_name: null, active: true, emails_lower: [] },
      data: { userName: 'ada@example.com', externalId: 'kc-ada', active: true },
      createdByClientId: client.id,
      linkProviderId: provider.id,
    });
    const group = await groupRepository.insert(db.knex, { columns: { display_name: 'Analysts', external_id: null }, data: { displayName: 'Analysts' }, createdByClientId: null });
    await groupRepository.addMembers(db.knex, group.id, [user.id]);
    await db.knex.raw(\`REVOKE ALL ON DATABASE "\${database}" FROM PUBLIC\`);
    await db.knex.raw('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    for (const role of roles) for (const statement of role.statements) await db.knex.raw(statement.replaceAll('__DATABASE__', database));
    console.log(JSON.stringify({ providerId: provider.id }));
  } finally {
    await db.close();
  }
} else if (command === 'drop') {
  const [database, ...roles] = rest;
  const db = await createDatabase({ url: serverUrl, poolMax: 1 });
  try {
    if (database) await db.knex.raw(\`DROP DATABASE IF EXISTS "\${database}" WITH (FORCE)\`);
    for (const role of roles) await db.knex.raw(\`DROP ROLE IF EXISTS "\${role}"\`);
  } finally {
    await db.close();
  }
}
`;

// What an application reading Roster's PostgreSQL does: open with the read-only role, read, resolve, try a
// write; then open with each role that misses one GRANT.
const CHECK_PG_TS = `
import { openReadOnlyDirectory, ReadOnlyDirectoryError } from '@roster/domain/read';

const [readerUrl, providerId, ...refusedUrls] = process.argv.slice(2) as [string, string, ...string[]];
const roster = await openReadOnlyDirectory({ databaseUrl: readerUrl });
try {
  const user = await roster.directory.findUserByUserName('ADA@example.com');
  console.log('user', user?.userName, user?.active);
  console.log('groups', (await roster.directory.groupsOfUser(user!.id)).map((group) => group.display).join(','));
  const resolution = await roster.signIn.resolveByClaims(providerId, { sub: 'kc-ada' });
  console.log('resolution', resolution.status, resolution.user?.userName, resolution.groups?.map((group) => group.display).join(','));
  try {
    await roster.database.knex('users').where({ id: user!.id }).update({ active: false });
    console.log('write allowed');
  } catch (error) {
    console.log('write refused', (error as { code?: string }).code, (error as Error).message.split(' - ').pop());
  }
} finally {
  await roster.close();
}
for (const url of refusedUrls) {
  try {
    await (await openReadOnlyDirectory({ databaseUrl: url })).close();
    console.log('opened');
  } catch (error) {
    console.log('refused', error instanceof ReadOnlyDirectoryError, (error as Error).message);
  }
}
`;

/** The read-only role's SQL block of a Markdown file. */
function grantsOf(file: string): string {
  const match = /```sql\n(CREATE ROLE roster_reader[\s\S]*?)```/.exec(fs.readFileSync(path.join(repo, file), 'utf8'));
  if (!match) throw new Error(`${file} has no read-only role block`);
  return match[1]!;
}

/** The documented statements for one role (`omit`: one GRANT taken out), the database name left to fill in. */
function statementsFor(documented: string, role: string, password: string, omit?: 'connect' | 'usage' | 'group_members'): string[] {
  return documented
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '')
    .filter((statement) => !(omit === 'connect' && statement.startsWith('GRANT CONNECT')) && !(omit === 'usage' && statement.startsWith('GRANT USAGE')))
    .map((statement) => (omit === 'group_members' ? statement.replace('group_members, ', '') : statement))
    .map((statement) => statement.replaceAll('roster_reader', role).replace("PASSWORD '...'", `PASSWORD '${password}'`).replace('DATABASE roster ', 'DATABASE __DATABASE__ '));
}

function javascript(source: string): string {
  return source
    .replace(/, type \w+/g, '')
    .replace(/const (\w+): \w+ =/g, 'const $1 =')
    .replace(/!/g, '')
    .replace(/\(error as Error\)/g, 'error');
}

describe('packed packages', () => {
  let held: string;
  let missing: string;

  beforeAll(() => {
    run('pnpm', ['exec', 'turbo', 'run', 'build', ...PACKAGES.map((name) => `--filter=@roster/${name}`), '--output-logs=errors-only'], repo, 600_000);
    fs.mkdirSync(packs);
    for (const name of PACKAGES) run('pnpm', ['--filter', `@roster/${name}`, 'pack', '--pack-destination', packs], repo);
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'sign-in-consumer', private: true, type: 'module' }));
    const tarballs = fs.readdirSync(packs).map((file) => path.join(packs, file));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], project, 600_000);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-dev', 'typescript@5.9.3', '@types/node@20.19.43'], project, 600_000);
    // An embedded data directory held by a live process (the lock Roster writes, with this test's pid).
    held = path.join(work, 'held');
    fs.mkdirSync(held);
    fs.writeFileSync(path.join(held, 'PG_VERSION'), '17\n');
    fs.writeFileSync(path.join(held, 'roster.lock'), String(process.pid));
    missing = path.join(work, 'missing');
  }, 1_200_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('declare real dependency ranges, ship dist with types, and no source condition', () => {
    for (const name of PACKAGES) {
      const manifest = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', '@roster', name, 'package.json'), 'utf8')) as Record<string, unknown>;
      const dependencies = Object.values((manifest.dependencies ?? {}) as Record<string, string>);
      expect(dependencies.filter((range) => range.startsWith('workspace:'))).toEqual([]);
      expect(JSON.stringify(manifest.exports)).not.toContain('source');
      expect(fs.existsSync(path.join(project, 'node_modules', '@roster', name, 'dist', 'index.d.ts'))).toBe(true);
      expect(fs.existsSync(path.join(project, 'node_modules', '@roster', name, 'README.md'))).toBe(true);
      expect(fs.existsSync(path.join(project, 'node_modules', '@roster', name, 'src'))).toBe(false);
    }
  });

  function expectOutput(stdout: string): void {
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('types deactivated_by_provider found unknown function function function function function');
    expect(lines[1]).toBe('presets keycloak,entra_id,okta,generic_oidc,generic_saml');
    expect(lines[2]).toMatch(/^refused true the embedded data directory .*held is held by the running Roster process \d+; .*HTTP API/);
    expect(lines[3]).toMatch(/^refused true the embedded data directory .*missing does not exist/);
    expect(lines[4]).toBe('reader undefined');
    expect(lines[5]).toBe('resolution {"status":"unknown"}');
    // Refused means untouched: the missing directory was not created.
    expect(fs.existsSync(missing)).toBe(false);
  }

  it('work from TypeScript with module nodenext (library types checked too)', () => {
    fs.writeFileSync(path.join(project, 'check.ts'), CHECK_TS);
    fs.writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out' }, files: ['check.ts'] }),
    );
    run(path.join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], project);
    expectOutput(run('node', ['out/check.js', held, missing], project, 120_000).stdout);
  }, 300_000);

  it('work from plain JavaScript', () => {
    fs.writeFileSync(path.join(project, 'check.mjs'), javascript(CHECK_TS));
    expectOutput(run('node', ['check.mjs', held, missing], project, 120_000).stdout);
  }, 300_000);

  it.skipIf(!process.env.TEST_DATABASE_URL)('migrate PostgreSQL and read it through a role with exactly the documented GRANTs, which may not write', () => {
    const serverUrl = process.env.TEST_DATABASE_URL!;
    const documented = grantsOf('docs/applications.md');
    expect(grantsOf('packages/domain/README.md')).toBe(documented);
    // A unique role name per run: roles belong to the whole server, not to the scratch database.
    const suffix = randomBytes(4).toString('hex');
    const password = randomBytes(12).toString('hex');
    const reader = `roster_reader_${suffix}`;
    const partial = [
      { role: `${reader}_noconnect`, omit: 'connect' as const, message: (database: string, role: string) => `the database role ${role} may not connect to ${database}: GRANT CONNECT ON DATABASE ${database} TO ${role}` },
      { role: `${reader}_nousage`, omit: 'usage' as const, message: (_database: string, role: string) => `the database role ${role} may not use the schema public: GRANT USAGE ON SCHEMA public TO ${role}` },
      { role: `${reader}_noselect`, omit: 'group_members' as const, message: (_database: string, role: string) => `the database role ${role} may not read group_members: GRANT SELECT ON group_members TO ${role}` },
    ];
    const roles = [{ role: reader, statements: statementsFor(documented, reader, password) }, ...partial.map(({ role, omit }) => ({ role, statements: statementsFor(documented, role, password, omit) }))];
    expect(roles[0]!.statements).toEqual([
      `CREATE ROLE ${reader} LOGIN PASSWORD '${password}'`,
      `GRANT CONNECT ON DATABASE __DATABASE__ TO ${reader}`,
      `GRANT USAGE ON SCHEMA public TO ${reader}`,
      `GRANT SELECT ON users, groups, group_members, user_provider_links, auth_providers TO ${reader}`,
    ]);
    fs.writeFileSync(path.join(project, 'pg-admin.mjs'), PG_ADMIN_JS);
    fs.writeFileSync(path.join(project, 'roles.json'), JSON.stringify(roles));
    let database: string | undefined;
    try {
      const created = spawnSync('node', ['pg-admin.mjs', 'create', serverUrl, 'roles.json'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
      // The database's name comes first, so it is dropped even when a later step fails.
      const [first, second] = created.stdout.trim().split('\n');
      database = first ? (JSON.parse(first) as { database: string }).database : undefined;
      if (created.status !== 0 || !second) throw new Error(`pg-admin create failed (${created.status}):\n${created.stdout}\n${created.stderr}`);
      const { url } = JSON.parse(first!) as { url: string };
      const { providerId } = JSON.parse(second) as { providerId: string };
      const as = (role: string) => {
        const roleUrl = new URL(url);
        roleUrl.username = role;
        roleUrl.password = password;
        return roleUrl.toString();
      };

      fs.writeFileSync(path.join(project, 'check-pg.ts'), CHECK_PG_TS);
      fs.writeFileSync(
        path.join(project, 'tsconfig.pg.json'),
        JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out' }, files: ['check-pg.ts'] }),
      );
      run(path.join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.pg.json'], project);
      const lines = run('node', ['out/check-pg.js', as(reader), providerId, ...partial.map(({ role }) => as(role))], project, 120_000).stdout.trim().split('\n');
      expect(lines).toEqual([
        'user ada@example.com true',
        'groups Analysts',
        'resolution found ada@example.com Analysts',
        'write refused 42501 permission denied for table users',
        ...partial.map(({ role, message }) => `refused true ${message(database!, role)} (docs/applications.md lists every GRANT)`),
      ]);
    } finally {
      run('node', ['pg-admin.mjs', 'drop', serverUrl, database ?? '', ...roles.map(({ role }) => role)], project, 120_000);
    }
  }, 300_000);
});
