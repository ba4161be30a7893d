import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, migrateLatest, type Database } from '@roster/db';
import { createScratchPostgresDatabase } from '@roster/db/testing';
import { ADMIN_ENV, bearer, call, killAllGateways, startGatewayProcess, TEST_ADMIN, waitFor, type GatewayProcess, type HttpResponse } from './support.js';

// Issue 20, item 8b: SIGTERM must not drop requests the kernel already accepted. 20 concurrent
// `GET /Users?count=1000` sent 10 ms before SIGTERM: every one is answered 200; /readyz answers 503 at once while
// the listener still accepts for ROSTER_SHUTDOWN_GRACE_MS (a request sent then is answered too); then the
// process exits 0. A real process (main.ts) on each database: the embedded one always, PostgreSQL when
// TEST_DATABASE_URL is set.

const GRACE_MS = 5000;
const USERS = 1000;

interface Prepared {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A migrated database holding an authentication provider and USERS users, for the process to open. */
async function seed(database: Database): Promise<void> {
  await migrateLatest(database.knex);
  await database.knex('auth_providers').insert({ name: 'Shutdown SAML provider', kind: 'saml', metadata: '{}' });
  await database.knex.raw(`INSERT INTO users (user_name, display_name, data) SELECT 'shutdown-' || g || '@example.com', 'Shutdown ' || g, '{}'::jsonb FROM generate_series(1, ${USERS}) AS g`);
}

async function prepareEmbedded(): Promise<Prepared> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-shutdown-'));
  const database = await createDatabase({ dataDir: dir });
  await seed(database);
  await database.close();
  return { env: { ROSTER_DATA_DIR: dir }, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function preparePostgres(serverUrl: string): Promise<Prepared> {
  const scratch = await createScratchPostgresDatabase(serverUrl);
  const database = await createDatabase({ url: scratch.url, poolMax: 2 });
  await seed(database);
  await database.close();
  return { env: { DATABASE_URL: scratch.url }, cleanup: scratch.drop };
}

/** A static-token SCIM client, made through the admin API (the process holds the embedded database). */
async function createClient(url: string): Promise<string> {
  const session = await call(`${url}/api/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: TEST_ADMIN });
  expect(session.status).toBe(200);
  const headers = { cookie: (session.headers.get('set-cookie') ?? '').split(';')[0]!, 'x-csrf-token': (session.body as { csrfToken: string }).csrfToken, 'content-type': 'application/json' };
  const providers = await call(`${url}/api/admin/auth-providers`, { headers });
  const providerId = (providers.body as { items: Array<{ id: string }> }).items[0]!.id;
  const created = await call(`${url}/api/admin/scim-clients`, { method: 'POST', headers, body: { name: 'Shutdown IdP', authProviderId: providerId, authMethod: 'static_token' } });
  expect(created.status).toBe(201);
  return (created.body as { token: string }).token;
}

const databases: Array<[string, (() => Promise<Prepared>) | undefined]> = [
  ['the embedded database', prepareEmbedded],
  ['PostgreSQL', process.env.TEST_DATABASE_URL ? () => preparePostgres(process.env.TEST_DATABASE_URL!) : undefined],
];

afterAll(async () => {
  await killAllGateways();
});

describe.each(databases)('SIGTERM on %s', (_name, prepare) => {
  it.skipIf(!prepare)(
    'answers every request sent just before the signal, turns /readyz 503 at once, keeps accepting during the grace period, then exits 0',
    async () => {
      const prepared = await prepare!();
      let gateway: GatewayProcess | undefined;
      try {
        gateway = await startGatewayProcess({ ...prepared.env, ...ADMIN_ENV, ROSTER_SHUTDOWN_GRACE_MS: String(GRACE_MS), ROSTER_CLIENT_MAX_IN_FLIGHT: '100' });
        const token = await createClient(gateway.url);
        const url = gateway.url;
        expect((await call(`${url}/scim_v2/Users?count=1`, { headers: bearer(token) })).status).toBe(200);

        // Each on its own connection (fetch would reuse a few): they wait in the accept queue, as behind a balancer.
        const sent: Array<Promise<HttpResponse | Error>> = Array.from({ length: 20 }, () =>
          call(`${url}/scim_v2/Users?count=${USERS}`, { headers: { ...bearer(token), connection: 'close' }, timeoutMs: 60_000 }).catch((error: Error) => error),
        );
        await new Promise((resolve) => setTimeout(resolve, 10));
        gateway.child.kill('SIGTERM');

        // Not ready any more, while the listener still answers.
        const readiness = await waitFor(
          '/readyz to answer 503',
          async () => {
            const response = await call(`${url}/readyz`, { timeoutMs: 5000 });
            return response.status === 503 ? response : undefined;
          },
          GRACE_MS,
          20,
        );
        expect(readiness.body).toEqual({ status: 'shutting down' });
        // A request arriving during the grace period is still served.
        expect((await call(`${url}/scim_v2/Users?count=1`, { headers: bearer(token) })).status).toBe(200);

        const answers = await Promise.all(sent);
        const outcomes = answers.map((answer) => (answer instanceof Error ? `${answer.name}: ${answer.message} ${String((answer.cause as Error | undefined)?.message ?? '')}` : answer.status));
        expect(outcomes).toEqual(Array.from({ length: 20 }, () => 200));
        for (const answer of answers) expect(((answer as HttpResponse).body as { Resources: unknown[] }).Resources).toHaveLength(USERS);

        expect(await gateway.exited).toBe(0);
        expect(gateway.output()).toContain('"msg":"not ready any more; still accepting during the grace period"');
      } finally {
        await gateway?.kill();
        await prepared.cleanup();
      }
    },
    120_000,
  );
});
