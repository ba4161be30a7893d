import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The packages as a new application developer gets them: built, packed with `pnpm pack` (workspace ranges
// become real ones), installed with plain `npm install ./x.tgz` into an empty project in a temporary
// directory outside the repository, then used from TypeScript (module nodenext, strict, library types
// checked) and from plain JavaScript. npm may reach the registry for knex, pg, PGlite and jose; it prefers
// its cache (--prefer-offline) so a warm CI runner needs no network.

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
});
