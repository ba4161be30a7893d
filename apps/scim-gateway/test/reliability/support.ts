import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from '@roster/db';
import { request, type HttpResponse } from '../support/http.js';

// Helpers for the reliability suite: whole gateway processes (child processes of the test, killed in afterAll
// and on failure), a private PostgreSQL server (never the machine's shared one), HTTP calls with deadlines.

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN_TS = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export type { HttpResponse } from '../support/http.js';

/** One HTTP call with a deadline (every test is bounded in time); JSON in, parsed JSON out when possible. */
export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; raw?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  const payload = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  return request(url, { method: init.method, headers: init.headers, body: payload, contentType: 'application/scim+json', signal: AbortSignal.timeout(init.timeoutMs ?? 30_000) });
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

export interface GatewayProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote (JSON log lines and console output). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Sends SIGKILL if the process still runs, and waits for it to exit. */
  kill(): Promise<void>;
}

const running = new Set<GatewayProcess>();

/**
 * Starts `main.ts` as a real process (tsx loader, workspace sources) on 127.0.0.1 and waits until /readyz says
 * ready. Every process started here is registered; `killAllGateways()` in afterAll ends the ones still running.
 */
export async function startGatewayProcess(env: Record<string, string>, options: { port?: number; readyTimeoutMs?: number } = {}): Promise<GatewayProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: url,
    LOG_LEVEL: 'info',
    ...env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', MAIN_TS], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const gateway: GatewayProcess = {
    url,
    port,
    child,
    output: () => chunks.join(''),
    exited,
    kill: async () => {
      if (!done) child.kill('SIGKILL');
      await exited;
      running.delete(gateway);
    },
  };
  running.add(gateway);
  try {
    const outcome = await waitFor(
      `gateway on port ${port} to be ready`,
      async () => {
        if (done) return 'exited';
        const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
        return response.status === 200 ? 'ready' : undefined;
      },
      options.readyTimeoutMs ?? 60_000,
      200,
    );
    if (outcome === 'exited') throw new Error(`the gateway exited before it was ready: ${gateway.output().slice(-2000)}`);
  } catch (error) {
    await gateway.kill();
    throw new Error(`${(error as Error).message}\n${gateway.output().slice(-3000)}`, { cause: error });
  }
  return gateway;
}

export async function killAllGateways(): Promise<void> {
  await Promise.all([...running].map((gateway) => gateway.kill()));
}

// ---------------------------------------------------------------------------------------------------------
// A private PostgreSQL server: its own data directory and port, started and stopped by the test. The machine's
// shared server on 5432 is never touched.

const PG_BIN = process.env.ROSTER_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export function privatePostgresAvailable(): boolean {
  return fs.existsSync(path.join(PG_BIN, 'initdb')) && fs.existsSync(path.join(PG_BIN, 'pg_ctl'));
}

export interface PrivatePostgres {
  port: number;
  /** postgres:// URL of the `postgres` database (trust auth on loopback). */
  url: string;
  start(): void;
  stop(mode?: 'fast' | 'immediate'): void;
  destroy(): void;
}

function asPostgresUser(command: string): { status: number | null; output: string } {
  const isRoot = process.getuid?.() === 0;
  const result = isRoot
    ? spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', command], { encoding: 'utf8', timeout: 60_000 })
    : spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** initdb into a fresh temporary directory (as the postgres user when running as root) and start the server. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-pg-'));
  const dir = path.join(base, 'data');
  if (process.getuid?.() === 0) {
    spawnSync('chown', ['postgres:postgres', base]);
    fs.chmodSync(base, 0o700);
  }
  const init = asPostgresUser(`${PG_BIN}/initdb -D ${dir} -U postgres --auth=trust --no-sync -E UTF8 >/dev/null`);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.output}`);
  const ctl = (action: string): void => {
    const result = asPostgresUser(
      `${PG_BIN}/pg_ctl -D ${dir} -l ${base}/server.log -w -t 30 ${action === 'start' ? `-o "-c listen_addresses=127.0.0.1 -p ${port} -k ${base} -c fsync=off"` : ''} ${action}`,
    );
    if (result.status !== 0) throw new Error(`pg_ctl ${action} failed: ${result.output}\n${fs.existsSync(`${base}/server.log`) ? fs.readFileSync(`${base}/server.log`, 'utf8').slice(-2000) : ''}`);
  };
  let started = false;
  const server: PrivatePostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => {
      ctl('start');
      started = true;
    },
    stop: (mode = 'fast') => {
      if (!started) return;
      ctl(`-m ${mode} stop`);
      started = false;
    },
    destroy: () => {
      try {
        if (started) ctl('-m immediate stop');
      } catch {
        // Best effort: the directory is removed anyway.
        started = false;
      }
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
  server.start();
  return server;
}

/** Secrets the run used, and patterns no log line may ever contain. */
export function findSecretsIn(text: string, secrets: Iterable<string>): string[] {
  const found: string[] = [];
  for (const secret of secrets) if (secret && text.includes(secret)) found.push(`${secret.slice(0, 6)}...`);
  if (/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./.test(text)) found.push('a JWT-shaped value');
  if (/roster_(?:st|at|cs)_[A-Za-z0-9_-]{20,}/.test(text)) found.push('a roster_ secret-shaped value');
  return found;
}

export const TEST_ADMIN = { email: 'reliability-admin@example.com', password: 'reliability admin password 6' };
export const ADMIN_ENV = { ROSTER_ADMIN_EMAIL: TEST_ADMIN.email, ROSTER_ADMIN_PASSWORD: TEST_ADMIN.password };

/**
 * Signs in as TEST_ADMIN (start the gateway with ADMIN_ENV) and creates a static-token SCIM client through the
 * admin API, with an authentication provider row inserted directly when the database has none.
 */
export async function createClientThroughAdminApi(
  url: string,
  knex: Knex,
  name: string,
): Promise<{ id: string; token: string }> {
  let provider = (await knex('auth_providers').select('id').first()) as { id: string } | undefined;
  if (!provider) [provider] = (await knex('auth_providers').insert({ name: 'Reliability SAML provider', kind: 'saml', metadata: '{}' }).returning('id')) as Array<{ id: string }>;
  const session = await call(`${url}/api/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: TEST_ADMIN });
  if (session.status !== 200) throw new Error(`admin sign-in failed: ${session.status} ${session.text}`);
  const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
  const csrf = (session.body as { csrfToken: string }).csrfToken;
  const created = await call(`${url}/api/admin/scim-clients`, {
    method: 'POST',
    headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
    body: { name, authProviderId: provider!.id, authMethod: 'static_token' },
  });
  if (created.status !== 201) throw new Error(`client creation failed: ${created.status} ${created.text}`);
  return created.body as { id: string; token: string };
}
