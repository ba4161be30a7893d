import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createApp, type RosterApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { request, type HttpResponse } from './http.js';

export interface TestGateway {
  url: string;
  scimUrl: string;
  db: TestDatabase;
  roster: RosterApp;
  /** Every log line the gateway wrote, for tests that scan logs. */
  logs: string[];
  /** A static token of a SCIM client created for the test (data scope "all"). */
  token: string;
  clientId: string;
  providerId: string;
  /** An admin account (without password) for admin-side service calls. */
  adminId: string;
  /** Creates another SCIM client with a static token. */
  addClient(options?: { name?: string; dataScope?: 'all' | 'own' }): Promise<{ clientId: string; token: string }>;
  scim(method: string, path: string, body?: unknown, options?: { token?: string | null; headers?: Record<string, string>; raw?: string }): Promise<ScimResponse>;
  close(): Promise<void>;
}

export type ScimResponse = HttpResponse;

let clientCounter = 0;

/** A whole gateway on 127.0.0.1 with a fresh database and one SCIM client holding a static token. */
export async function startTestGateway(env: Record<string, string> = {}, options: { postgres?: NonNullable<Parameters<typeof createTestDatabase>[0]>['postgres'] } = {}): Promise<TestGateway> {
  const db = await createTestDatabase({ postgres: options.postgres });
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({ PORT: String(port), PUBLIC_URL: url, LOG_LEVEL: 'info', ...env });
  const logger = createLogger(config.logLevel, stream);
  const roster = createApp({ config, knex: db.knex, logger });
  await roster.services.startup();
  server.on('request', roster.app.callback());

  const [provider] = (await db.knex('auth_providers').insert({ name: 'Test SAML provider', kind: 'saml', metadata: '{}' }).returning('id')) as Array<{ id: string }>;
  const providerId = provider!.id;
  const [admin] = (await db.knex('admins').insert({ email: 'test-admin@example.com' }).returning('id')) as Array<{ id: string }>;

  async function addClient(options: { name?: string; dataScope?: 'all' | 'own' } = {}) {
    const created = await roster.services.scimClients.createScimClient({
      name: options.name ?? `Test client ${++clientCounter}`,
      authProviderId: providerId,
      authMethod: 'static_token',
      dataScope: options.dataScope ?? 'all',
    });
    return { clientId: created.id, token: created.token! };
  }
  const first = await addClient({ name: 'Primary test client' });

  async function scim(method: string, path: string, body?: unknown, options: { token?: string | null; headers?: Record<string, string>; raw?: string } = {}): Promise<ScimResponse> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const token = options.token === undefined ? first.token : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    return request(`${url}/scim_v2${path}`, { method, headers, body: payload, contentType: 'application/scim+json' });
  }

  return {
    url,
    scimUrl: `${url}/scim_v2`,
    db,
    roster,
    logs,
    token: first.token,
    clientId: first.clientId,
    providerId,
    adminId: admin!.id,
    addClient,
    scim,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await roster.services.shutdown();
      await db.destroy();
    },
  };
}
