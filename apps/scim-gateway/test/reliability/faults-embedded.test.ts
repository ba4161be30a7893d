import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, migrateLatest } from '@roster/db';
import {
  ADMIN_ENV,
  bearer,
  call,
  GROUP_SCHEMA,
  killAllGateways,
  startGatewayProcess,
  USER_SCHEMA,
  type GatewayProcess,
} from './support.js';

// Issue 6, faults of one process on the embedded database: a SIGKILLed process leaves a data directory that
// opens again with every committed write (and a stale lock file that is taken over), and SIGTERM lets in-flight
// requests finish, refuses new ones and exits cleanly. Runs in the embedded pass (TEST_DATABASE_URL unset).

const enabled = !process.env.TEST_DATABASE_URL;
if (!enabled) console.log('reliability/faults-embedded: skipped (runs in the embedded pass, without TEST_DATABASE_URL)');

const SHUTDOWN_TIMEOUT_MS = 15_000;

describe.skipIf(!enabled)('faults of a gateway process on the embedded database', () => {
  let base: string;
  let dataDir: string;

  const start = (): Promise<GatewayProcess> => startGatewayProcess({ ROSTER_DATA_DIR: dataDir, ...ADMIN_ENV, ROSTER_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) }, { readyTimeoutMs: 90_000 });

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-embedded-'));
    dataDir = path.join(base, 'data');
    // Seed an authentication provider directly (the process cannot share the directory), then hand it over.
    const seed = await createDatabase({ dataDir });
    try {
      await migrateLatest(seed.knex);
      const [provider] = (await seed.knex('auth_providers').insert({ name: 'Embedded SAML provider', kind: 'saml', metadata: '{}' }).returning('id')) as Array<{ id: string }>;
      expect(provider).toBeDefined();
    } finally {
      await seed.close();
    }
  }, 120_000);

  afterAll(async () => {
    await killAllGateways();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('a SIGKILLed process leaves a stale lock that the next one takes over, and every committed write is there', async () => {
    let gateway = await start();
    // The test holds no connection to the directory while the process owns it: the admin API creates the client.
    const session = await call(`${gateway.url}/api/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: { email: ADMIN_ENV.ROSTER_ADMIN_EMAIL, password: ADMIN_ENV.ROSTER_ADMIN_PASSWORD } });
    expect(session.status).toBe(200);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
    const csrf = (session.body as { csrfToken: string }).csrfToken;
    const providers = await call(`${gateway.url}/api/admin/auth-providers`, { headers: { cookie } });
    const providerId = (providers.body as { items: Array<{ id: string }> }).items[0]!.id;
    const created = await call(`${gateway.url}/api/admin/scim-clients`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: { name: 'Embedded IdP', authProviderId: providerId, authMethod: 'static_token' },
    });
    expect(created.status).toBe(201);
    const token = (created.body as { token: string }).token;

    const committed: string[] = [];
    for (let i = 0; i < 20; i++) {
      const response = await call(`${gateway.url}/scim_v2/Users`, { method: 'POST', headers: bearer(token), body: { schemas: [USER_SCHEMA], userName: `committed-${i}@example.com` } });
      expect(response.status).toBe(201);
      committed.push((response.body as { id: string }).id);
    }
    const group = await call(`${gateway.url}/scim_v2/Groups`, { method: 'POST', headers: bearer(token), body: { schemas: [GROUP_SCHEMA], displayName: 'Survivors', members: committed.map((value) => ({ value })) } });
    expect(group.status).toBe(201);

    await gateway.kill();
    const lock = path.join(dataDir, 'roster.lock');
    expect(fs.existsSync(lock)).toBe(true);
    expect(fs.readFileSync(lock, 'utf8')).toBe(String(gateway.child.pid));

    gateway = await start();
    for (const id of committed) expect((await call(`${gateway.url}/scim_v2/Users/${id}`, { headers: bearer(token) })).status).toBe(200);
    const survivors = await call(`${gateway.url}/scim_v2/Groups/${(group.body as { id: string }).id}`, { headers: bearer(token) });
    expect((survivors.body as { members: unknown[] }).members).toHaveLength(20);
    expect(fs.readFileSync(lock, 'utf8')).toBe(String(gateway.child.pid));

    // A second process on the same directory is refused while the first lives.
    const port = gateway.port + 1;
    await expect(startGatewayProcess({ ROSTER_DATA_DIR: dataDir }, { port, readyTimeoutMs: 30_000 })).rejects.toThrow(/in use by another Roster process/);
    await gateway.kill();
  }, 240_000);
});
