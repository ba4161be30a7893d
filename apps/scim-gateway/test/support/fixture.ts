import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { AuthProviderModel } from '@roster/domain';
import { createApp, type RosterApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createServices, type AuthTuning, type Services } from '../../src/services.js';
import { Agent } from './agent.js';
import { request, type HttpResponse } from './http.js';

export { Agent } from './agent.js';

// The one way to start a test gateway in-process: the whole Koa app over real HTTP on 127.0.0.1 (port 0), a
// fresh migrated database (embedded, or PostgreSQL under TEST_DATABASE_URL), the log captured, and on request a
// bootstrap admin with a signed-in browser-like Agent and a SCIM client with a static token. Every test that
// talks HTTP to the gateway starts it here (test/support/gateway.ts and test/admin-api/harness.ts are thin
// wrappers kept for their names); tests of whole processes use test/reliability/support.ts instead.

export const ADMIN_EMAIL = 'root@example.com';
export const ADMIN_PASSWORD = 'correct horse battery';

export interface GatewayOptions {
  /** A migrated database to run on; by default a fresh one. `close()` destroys it either way. */
  db?: TestDatabase;
  /**
   * Configuration, as environment variables for loadConfig. Defaults: LOG_LEVEL info, PUBLIC_URL the listening
   * URL, PORT its port.
   */
  env?: Record<string, string>;
  /** The clock the services read (admin sessions, credentials, audit); the real one by default. */
  now?: () => Date;
  /** Authenticator tuning (a short JWKS cooldown for key-rotation tests). */
  auth?: AuthTuning;
  /** Run services.startup() (bootstrap admin, timers) before answering. Default true. */
  startup?: boolean;
  /**
   * Ensure an admin at startup (ROSTER_ADMIN_EMAIL/PASSWORD; `true` means ADMIN_EMAIL/ADMIN_PASSWORD) and sign
   * an Agent in as that admin.
   */
  admin?: boolean | { email: string; password: string };
  /** Create an authentication provider and a SCIM client with a static token for `scim()`. */
  scimClient?: boolean | { name?: string; dataScope?: 'all' | 'own' };
  /** Serve the built admin SPA under /admin. */
  adminDistDir?: string;
}

export interface GatewayFixture {
  url: string;
  scimUrl: string;
  db: TestDatabase;
  config: Config;
  services: Services;
  roster: RosterApp;
  /** The gateway's logger (writing to `logs`), for test apps mounted beside it. */
  logger: Logger;
  /** Every log line the gateway wrote, as written (JSON text). */
  logs: string[];
  /** The same lines parsed. */
  logLines: Array<Record<string, unknown>>;
  /** Signed in as the bootstrap admin (with `admin`). */
  agent: Agent | undefined;
  /** The SCIM client made with `scimClient`: its static token, id and provider. */
  token: string | undefined;
  clientId: string | undefined;
  providerId: string | undefined;
  /** An authentication provider for SCIM clients (made on first use unless `scimClient` made it). */
  ensureProvider(): Promise<string>;
  /** Creates another SCIM client with a static token. */
  addClient(options?: { name?: string; dataScope?: 'all' | 'own' }): Promise<{ clientId: string; token: string }>;
  /** One SCIM request, authenticated with `options.token`, else the fixture client's token (`null`: none). */
  scim(method: string, path: string, body?: unknown, options?: ScimRequestOptions): Promise<HttpResponse>;
  /** Another gateway on the same database, as a second process would be (its own services and caches). */
  sibling(env: Record<string, string>): Promise<{ url: string; services: Services; close(): Promise<void> }>;
  close(): Promise<void>;
}

export interface ScimRequestOptions {
  token?: string | null;
  headers?: Record<string, string>;
  raw?: string;
}

let clientCounter = 0;

async function listen(): Promise<{ server: http.Server; url: string; port: number; close(): Promise<void> }> {
  const server = http.createServer();
  // The server must not close an idle kept-alive connection on its own: the in-process embedded database blocks
  // the event loop for seconds on a big statement, after which the server's 5 s idle timer and the client's next
  // request on that socket race, and the request fails with ECONNRESET (seen under load in the CSV export test).
  // close() ends every connection anyway.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export async function startGatewayFixture(options: GatewayOptions = {}): Promise<GatewayFixture> {
  const db = options.db ?? (await createTestDatabase());
  const logs: string[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        logs.push(line);
        logLines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const admin = options.admin === true ? { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } : options.admin || undefined;
  const adminEnv: Record<string, string> = admin ? { ROSTER_ADMIN_EMAIL: admin.email, ROSTER_ADMIN_PASSWORD: admin.password } : {};
  const closers: Array<() => Promise<void>> = [];

  const make = async (env: Record<string, string>) => {
    const listening = await listen();
    const config = loadConfig({ PORT: String(listening.port), PUBLIC_URL: listening.url, LOG_LEVEL: 'info', ...adminEnv, ...env });
    const logger = createLogger(config.logLevel, sink);
    const services = createServices({ knex: db.knex, config, logger, now: options.now, auth: options.auth });
    const roster = createApp({ config, knex: db.knex, logger, services, adminDistDir: options.adminDistDir });
    listening.server.on('request', roster.app.callback());
    // The listener first, then the services' timers and buffered writes; once only (a sibling may be closed early).
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closed ??= (async () => {
        await listening.close();
        await services.shutdown();
      })());
    closers.unshift(close);
    return { url: listening.url, config, services, roster, logger, close };
  };

  try {
    const main = await make(options.env ?? {});
    if (options.startup !== false || admin) await main.services.startup();

    let providerId: string | undefined;
    const ensureProvider = async (): Promise<string> => {
      // Written directly: a SAML provider made through the service would need metadata to read.
      providerId ??= (await AuthProviderModel.query(db.knex).insert({ name: 'Test SAML provider', kind: 'saml', metadata: {} })).$id() as string;
      return providerId;
    };
    const addClient = async (client: { name?: string; dataScope?: 'all' | 'own' } = {}) => {
      const created = await main.services.scimClients.createScimClient({
        name: client.name ?? `Test client ${++clientCounter}`,
        authProviderId: await ensureProvider(),
        authMethod: 'static_token',
        dataScope: client.dataScope ?? 'all',
      });
      return { clientId: created.id, token: created.token! };
    };
    const first = options.scimClient ? await addClient({ name: 'Primary test client', ...(options.scimClient === true ? {} : options.scimClient) }) : undefined;

    let agent: Agent | undefined;
    if (admin) {
      agent = new Agent(main.url);
      const signedIn = await agent.signIn(admin.email, admin.password);
      if (signedIn.status !== 200) throw new Error(`sign-in failed: ${signedIn.status} ${signedIn.text}`);
    }

    return {
      url: main.url,
      scimUrl: `${main.url}/scim_v2`,
      db,
      config: main.config,
      services: main.services,
      roster: main.roster,
      logger: main.logger,
      logs,
      logLines,
      agent,
      token: first?.token,
      clientId: first?.clientId,
      get providerId() {
        return providerId;
      },
      ensureProvider,
      addClient,
      scim: (method, path, body, requestOptions = {}) => {
        const headers: Record<string, string> = { ...requestOptions.headers };
        const token = requestOptions.token === undefined ? first?.token : requestOptions.token;
        if (token) headers.authorization = `Bearer ${token}`;
        const payload = requestOptions.raw ?? (body === undefined ? undefined : JSON.stringify(body));
        return request(`${main.url}/scim_v2${path}`, { method, headers, body: payload, contentType: 'application/scim+json' });
      },
      sibling: async (env) => {
        const other = await make(env);
        return { url: other.url, services: other.services, close: other.close };
      },
      close: async () => {
        for (const close of closers.splice(0)) await close();
        await db.destroy();
      },
    };
  } catch (error) {
    for (const close of closers.splice(0)) await close().catch(() => {});
    await db.destroy();
    throw error;
  }
}
