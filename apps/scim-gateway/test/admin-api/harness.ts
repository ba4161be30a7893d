import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createApp } from '../../src/app.js';
import { createServices, type Services } from '../../src/services.js';
import { request, type HttpResponse } from '../support/http.js';

// The whole gateway over real HTTP on 127.0.0.1 (port 0) with a fresh test database, a steppable clock and
// the log captured as JSON lines, for the admin API tests.

export class TestClock {
  constructor(private current = new Date('2026-11-28T12:00:00.000Z')) {}
  now = (): Date => new Date(this.current.getTime());
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export type TestResponse = HttpResponse;

export interface Gateway {
  url: string;
  db: TestDatabase;
  config: Config;
  services: Services;
  clock: TestClock;
  logLines: Array<Record<string, unknown>>;
  /** Another gateway process on the same database (e.g. with another PUBLIC_URL). */
  sibling(env: Record<string, string>): Promise<{ url: string; services: Services; close(): Promise<void> }>;
  close(): Promise<void>;
}

async function listen(callback: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(callback);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export async function startGateway(options: { env?: Record<string, string>; db?: TestDatabase } = {}): Promise<Gateway> {
  const db = options.db ?? (await createTestDatabase());
  const clock = new TestClock();
  const logLines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const make = (env: Record<string, string>) => {
    const config = loadConfig({ PUBLIC_URL: 'http://roster.test', LOG_LEVEL: 'info', ...env });
    const logger = createLogger(config.logLevel, sink);
    const services = createServices({ knex: db.knex, config, logger, now: clock.now });
    return { config, services, roster: createApp({ config, knex: db.knex, logger, services }) };
  };
  const main = make(options.env ?? {});
  const server = await listen(main.roster.app.callback());
  const siblings: Array<() => Promise<void>> = [];
  return {
    url: server.url,
    db,
    config: main.config,
    services: main.services,
    clock,
    logLines,
    sibling: async (env) => {
      const other = make(env);
      const started = await listen(other.roster.app.callback());
      siblings.push(started.close);
      return { ...started, services: other.services };
    },
    close: async () => {
      for (const close of siblings) await close();
      await main.services.events.worker.stop();
      await server.close();
      await db.destroy();
    },
  };
}

/** A browser-like client: keeps the session cookie, sends the CSRF token on mutating calls when it has one. */
export class Agent {
  cookie: string | undefined;
  csrfToken: string | undefined;

  constructor(readonly baseUrl: string) {}

  async request(
    method: string,
    path: string,
    options: { json?: unknown; raw?: string; headers?: Record<string, string>; csrf?: boolean } = {},
  ): Promise<TestResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie) headers.cookie = `roster_session=${this.cookie}`;
    if (method !== 'GET' && this.csrfToken && options.csrf !== false) headers['x-csrf-token'] = this.csrfToken;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    // Redirects (the OIDC sign-in steps) are what the tests check, so they are returned, not followed.
    const response = await request(`${this.baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) {
      const match = /^roster_session=([^;]*)/.exec(setCookie);
      if (match) this.cookie = match[1] || undefined;
    }
    return response;
  }

  get(path: string, headers?: Record<string, string>): Promise<TestResponse> {
    return this.request('GET', path, { headers });
  }
  post(path: string, json?: unknown): Promise<TestResponse> {
    return this.request('POST', path, { json: json ?? {} });
  }
  patch(path: string, json: unknown): Promise<TestResponse> {
    return this.request('PATCH', path, { json });
  }
  delete(path: string): Promise<TestResponse> {
    return this.request('DELETE', path);
  }

  async signIn(email: string, password: string): Promise<TestResponse> {
    const response = await this.post('/api/admin/session', { email, password });
    if (response.status === 200) this.csrfToken = (response.body as { csrfToken: string }).csrfToken;
    return response;
  }
}

export const ADMIN_EMAIL = 'root@example.com';
export const ADMIN_PASSWORD = 'correct horse battery';

/** A gateway with one admin (made through ROSTER_ADMIN_EMAIL/PASSWORD at startup) and a signed-in agent. */
export async function startWithAdmin(env: Record<string, string> = {}): Promise<{ gateway: Gateway; agent: Agent }> {
  const gateway = await startGateway({ env: { ROSTER_ADMIN_EMAIL: ADMIN_EMAIL, ROSTER_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env } });
  await gateway.services.startup();
  const agent = new Agent(gateway.url);
  const signedIn = await agent.signIn(ADMIN_EMAIL, ADMIN_PASSWORD);
  if (signedIn.status !== 200) throw new Error(`sign-in failed: ${signedIn.status} ${signedIn.text}`);
  return { gateway, agent };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An OIDC provider row written directly (no discovery), for tests that need SCIM clients. */
export async function insertProvider(gateway: Gateway, name = 'Test IdP'): Promise<string> {
  const [row] = (await gateway.db.knex('auth_providers')
    .insert({ name, kind: 'oidc', issuer: `https://idp.example.com/${encodeURIComponent(name)}`, client_id: 'roster', client_secret: 'provider-secret-value', metadata: JSON.stringify({ issuer: 'https://idp.example.com', jwks_uri: 'https://idp.example.com/jwks' }) })
    .returning('id')) as Array<{ id: string }>;
  return row!.id;
}
