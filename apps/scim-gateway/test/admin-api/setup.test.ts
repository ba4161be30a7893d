import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { bootstrapAdmins } from '../../src/admin-api/bootstrap.js';
import { Agent, ISO, UUID, startGateway, type Gateway } from './harness.js';

// One database for the file: the first gateway has no admin (setup link flow); the bootstrap tests then
// run gateways configured with ROSTER_ADMIN_EMAIL on the same database.
describe('first admin: setup link and bootstrap admin', () => {
  let db: TestDatabase;
  let gateway: Gateway;
  beforeAll(async () => {
    db = await createTestDatabase();
    gateway = await startGateway({ db });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  function tokenOf(url: string): string {
    return new URL(url).searchParams.get('token')!;
  }

  it('prints a one-time setup link (log warning and console) when no admin exists and none is configured', async () => {
    await gateway.services.startup();
    const warning = gateway.logLines.find((line) => line.level === 40 && String(line.msg).includes('/admin/setup?token='));
    expect(warning?.msg).toMatch(/^No admin exists yet\. Create the first one within an hour at http:\/\/roster\.test\/admin\/setup\?token=[A-Za-z0-9_-]{43}$/);
    const printed: string[] = [];
    const { setupUrl } = await bootstrapAdmins({ config: gateway.config, logger: gateway.services.logger, admins: gateway.services.admins, print: (line) => printed.push(line) });
    // A box on stdout, the link alone on its own line.
    const rule = expect.stringMatching(/^={60,100}$/);
    expect(printed).toEqual([rule, 'Roster: no admin exists yet. Create the first one within an hour at:', '', setupUrl, '', rule]);
    const rows = await db.knex('admin_setup_tokens').select('token_hash', 'used_at');
    // Only the latest link works; the token is stored as its SHA-256.
    expect(rows).toEqual([{ token_hash: expect.stringMatching(/^[0-9a-f]{64}$/), used_at: null }]);
    expect(JSON.stringify(rows)).not.toContain(tokenOf(setupUrl!));
  });

  it('GET /setup tells the SPA that setup is required', async () => {
    const response = await new Agent(gateway.url).get('/api/admin/setup');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ setupRequired: true });
  });

  it('refuses an unknown token, a short password and unknown fields with precise errors', async () => {
    const agent = new Agent(gateway.url);
    const bad = await agent.post('/api/admin/setup', { token: 'not-the-token', email: 'first@example.com', password: 'long enough password' });
    expect(bad.status).toBe(403);
    expect(bad.body).toEqual({ code: 'invalid_setup_token', message: 'The setup link is invalid, already used or expired. Restart Roster to print a new one.' });
    const short = await agent.post('/api/admin/setup', { token: 'x', email: 'first@example.com', password: 'short', extra: 1 });
    expect(short.status).toBe(400);
    expect(short.body).toEqual({
      code: 'invalid_input',
      message: 'Invalid request body: extra is not a known field (expected token, email, password) (and 1 more)',
      details: {
        issues: [
          { path: 'extra', message: 'is not a known field (expected token, email, password)' },
          { path: 'password', message: 'must be at least 12 characters' },
        ],
      },
    });
  });

  it('refuses an expired link (older than one hour)', async () => {
    const printed: string[] = [];
    const { setupUrl } = await bootstrapAdmins({ config: gateway.config, logger: gateway.services.logger, admins: gateway.services.admins, print: (line) => printed.push(line) });
    const agent = new Agent(gateway.url);
    expect((await agent.post('/api/admin/setup/check', { token: tokenOf(setupUrl!) })).body).toEqual({ status: 'valid' });
    expect((await agent.post('/api/admin/setup/check', { token: 'not-the-token' })).body).toEqual({ status: 'unknown' });
    gateway.clock.advance(60 * 60 * 1000 + 1000);
    expect((await agent.post('/api/admin/setup/check', { token: tokenOf(setupUrl!) })).body).toEqual({ status: 'expired' });
    const response = await new Agent(gateway.url).post('/api/admin/setup', { token: tokenOf(setupUrl!), email: 'first@example.com', password: 'long enough password' });
    expect(response.status).toBe(403);
    expect((response.body as { code: string }).code).toBe('invalid_setup_token');
  });

  it('creates the first admin with a valid link, once; then setup is refused and the admin can sign in', async () => {
    const { setupUrl } = await bootstrapAdmins({ config: gateway.config, logger: gateway.services.logger, admins: gateway.services.admins, print: () => {} });
    const agent = new Agent(gateway.url);
    const created = await agent.post('/api/admin/setup', { token: tokenOf(setupUrl!), email: 'First@Example.com', password: 'long enough password' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(UUID), email: 'First@Example.com', createdAt: expect.stringMatching(ISO), lastSignInAt: null });

    // The reused link says so before its form: an admin exists, sign in instead.
    expect((await agent.post('/api/admin/setup/check', { token: tokenOf(setupUrl!) })).body).toEqual({ status: 'setup_complete' });
    const again = await agent.post('/api/admin/setup', { token: tokenOf(setupUrl!), email: 'second@example.com', password: 'long enough password' });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ code: 'setup_complete', message: 'An admin already exists; sign in instead' });
    expect((await agent.get('/api/admin/setup')).body).toEqual({ setupRequired: false });
    expect((await agent.signIn('first@example.com', 'long enough password')).status).toBe(200);

    const audit = await db.knex('audit_events').where('operation', 'admin.admin.setup').select('actor_type', 'admin_id');
    expect(audit).toEqual([{ actor_type: 'admin', admin_id: (created.body as { id: string }).id }]);
    // Once an admin exists, a start prints no link.
    expect(await bootstrapAdmins({ config: gateway.config, logger: gateway.services.logger, admins: gateway.services.admins, print: () => {} })).toEqual({});
  });

  it('creates the configured bootstrap admin at start, and updates its password when the configuration changes', async () => {
    const first = await gateway.sibling({ ROSTER_ADMIN_EMAIL: 'ops@example.com', ROSTER_ADMIN_PASSWORD: 'bootstrap password 1' });
    await first.services.startup();
    await first.services.startup();
    const agent = new Agent(first.url);
    expect((await agent.signIn('ops@example.com', 'bootstrap password 1')).status).toBe(200);
    expect(await db.knex('audit_events').where('operation', 'admin.admin.bootstrap').select('actor_type', 'detail')).toEqual([
      { actor_type: 'system', detail: { email: 'ops@example.com', action: 'created' } },
    ]);

    const restarted = await gateway.sibling({ ROSTER_ADMIN_EMAIL: 'OPS@example.com', ROSTER_ADMIN_PASSWORD: 'bootstrap password 2' });
    await restarted.services.startup();
    // The old password no longer works, and sessions opened with it are gone.
    expect((await agent.get('/api/admin/session')).status).toBe(401);
    expect((await agent.signIn('ops@example.com', 'bootstrap password 1')).status).toBe(401);
    expect((await agent.signIn('ops@example.com', 'bootstrap password 2')).status).toBe(200);
    expect(await db.knex('admins').whereRaw('lower(email) = ?', ['ops@example.com']).count<Array<{ count: number }>>('* as count')).toEqual([{ count: 1 }]);
  });

  it('stores admin passwords as salted scrypt hashes', async () => {
    const rows = (await db.knex('admins').select('password_hash')) as Array<{ password_hash: string }>;
    expect(rows.length).toBe(2);
    for (const row of rows) expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
    expect(rows[0]!.password_hash).not.toBe(rows[1]!.password_hash);
  });
});
