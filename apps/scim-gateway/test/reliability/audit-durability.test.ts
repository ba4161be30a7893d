import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, migrateLatest, type Database } from '@roster/db';
import { createScratchPostgresDatabase } from '@roster/db/testing';
import { ADMIN_ENV, bearer, call, createClientThroughAdminApi, killAllGateways, startGatewayProcess, TEST_ADMIN, USER_SCHEMA, type GatewayProcess } from './support.js';

// Issue 17, audit that cannot be lost: a SCIM write's change record and audit event commit with the write. A
// gateway process killed with SIGKILL right after it answered 201 leaves the user, its change record and its
// audit event in the database; before, the event waited up to 20 ms in memory and died with the process.
// Runs on PostgreSQL (a scratch database on TEST_DATABASE_URL's server) and on the embedded database with an
// on-disk data directory (the pass without TEST_DATABASE_URL).

interface Written {
  users: number;
  changes: Array<{ kind: string; request_id: string }>;
  audit: Array<{ operation: string; status: number; request_id: string; resource_id: string }>;
}

async function writtenFor(knex: Database['knex'], userId: string): Promise<Written> {
  const [users] = (await knex('users').where('id', userId).count<Array<{ n: number | string }>>('* as n')) as Array<{ n: number | string }>;
  const changes = (await knex('directory_changes').select('kind', 'request_id').where('resource_id', userId).orderBy('position')) as Written['changes'];
  const audit = (await knex('audit_events').select('operation', 'status', 'request_id', 'resource_id').where('resource_id', userId)) as Written['audit'];
  return { users: Number(users?.n ?? 0), changes, audit };
}

/** POST /Users, then SIGKILL the process as soon as the 201 has arrived: nothing after the response runs. */
async function createThenKill(gateway: GatewayProcess, token: string): Promise<{ id: string; requestId: string }> {
  const requestId = `kill-9-${Date.now()}`;
  const response = await call(`${gateway.url}/scim_v2/Users`, {
    method: 'POST',
    headers: { ...bearer(token), 'x-request-id': requestId },
    body: { schemas: [USER_SCHEMA], userName: `${requestId}@example.com`, externalId: requestId },
  });
  gateway.child.kill('SIGKILL');
  expect(response.status, response.text).toBe(201);
  await gateway.exited;
  return { id: (response.body as { id: string }).id, requestId };
}

function expectEverythingWritten(written: Written, requestId: string, userId: string): void {
  expect(written.users).toBe(1);
  expect(written.changes).toEqual([
    { kind: 'user.created', request_id: requestId },
    { kind: 'link.changed', request_id: requestId },
  ]);
  expect(written.audit).toEqual([{ operation: 'scim.user.create', status: 201, request_id: requestId, resource_id: userId }]);
}

afterAll(async () => {
  await killAllGateways();
});

describe.runIf(Boolean(process.env.TEST_DATABASE_URL))('kill -9 right after a 201 (PostgreSQL)', () => {
  let scratch: { url: string; drop(): Promise<void> } | undefined;
  let db: Database | undefined;
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('leaves the user, its change records and its audit event committed', async () => {
    scratch = await createScratchPostgresDatabase(process.env.TEST_DATABASE_URL!);
    const gateway = await startGatewayProcess({ DATABASE_URL: scratch.url, ...ADMIN_ENV });
    db = await createDatabase({ url: scratch.url, poolMax: 2 });
    const { token } = await createClientThroughAdminApi(gateway.url, db.knex, 'Killed IdP');
    const { id, requestId } = await createThenKill(gateway, token);
    expectEverythingWritten(await writtenFor(db.knex, id), requestId, id);
  }, 120_000);
});

describe.runIf(!process.env.TEST_DATABASE_URL)('kill -9 right after a 201 (embedded database on disk)', () => {
  let base: string | undefined;
  afterAll(() => {
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('leaves the user, its change records and its audit event committed', async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-kill9-'));
    const dataDir = path.join(base, 'data');
    // The process cannot share the directory: seed the provider first, then hand the directory over.
    const seed = await createDatabase({ dataDir });
    try {
      await migrateLatest(seed.knex);
      await seed.knex('auth_providers').insert({ name: 'Embedded SAML provider', kind: 'saml', metadata: '{}' });
    } finally {
      await seed.close();
    }
    const gateway = await startGatewayProcess({ ROSTER_DATA_DIR: dataDir, ...ADMIN_ENV }, { readyTimeoutMs: 90_000 });
    const { token } = await createClientThroughApiOnly(gateway.url);
    const { id, requestId } = await createThenKill(gateway, token);
    const reopened = await createDatabase({ dataDir });
    try {
      expectEverythingWritten(await writtenFor(reopened.knex, id), requestId, id);
    } finally {
      await reopened.close();
    }
  }, 180_000);
});

/** A static-token client through the admin API only (the test must not open the directory the process owns). */
async function createClientThroughApiOnly(url: string): Promise<{ token: string }> {
  const session = await call(`${url}/api/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: TEST_ADMIN });
  expect(session.status).toBe(200);
  const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
  const csrf = (session.body as { csrfToken: string }).csrfToken;
  const providers = await call(`${url}/api/admin/auth-providers`, { headers: { cookie } });
  const providerId = (providers.body as { items: Array<{ id: string }> }).items[0]!.id;
  const created = await call(`${url}/api/admin/scim-clients`, {
    method: 'POST',
    headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
    body: { name: 'Killed embedded IdP', authProviderId: providerId, authMethod: 'static_token' },
  });
  expect(created.status, created.text).toBe(201);
  return { token: (created.body as { token: string }).token };
}
