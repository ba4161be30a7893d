import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, ADMIN_EMAIL, ISO, UUID, startWithAdmin, type Gateway } from './harness.js';

describe('admins and settings', () => {
  let gateway: Gateway;
  let agent: Agent;
  let rootId: string;
  beforeAll(async () => {
    ({ gateway, agent } = await startWithAdmin());
    rootId = ((await agent.get('/api/admin/session')).body as { id: string }).id;
  });
  afterAll(async () => gateway?.close());

  it('lists admins as {items, total} without password hashes', async () => {
    const response = await agent.get('/api/admin/admins');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [{ id: rootId, email: ADMIN_EMAIL, createdAt: expect.stringMatching(ISO), lastSignInAt: expect.stringMatching(ISO) }], total: 1 });
  });

  it('adds an admin (201), refuses a duplicate email (409), a short password and a bad email (400 naming both)', async () => {
    const created = await agent.post('/api/admin/admins', { email: 'second@example.com', password: 'second admin password' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(UUID), email: 'second@example.com', createdAt: expect.stringMatching(ISO), lastSignInAt: null });

    const duplicate = await agent.post('/api/admin/admins', { email: 'SECOND@example.com', password: 'another password 12' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toEqual({ code: 'conflict', message: 'An admin with this email already exists', details: { field: 'email' } });

    const invalid = await agent.post('/api/admin/admins', { email: 'not-an-email', password: 'short' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({
      code: 'invalid_input',
      message: 'Invalid request body: email must be an email address (and 1 more)',
      details: { issues: [{ path: 'email', message: 'must be an email address' }, { path: 'password', message: 'must be at least 12 characters' }] },
    });

    const audit = await gateway.db.knex('audit_events').where('operation', 'admin.admin.create').select('actor_type', 'admin_id', 'resource_id');
    expect(audit).toEqual([{ actor_type: 'admin', admin_id: rootId, resource_id: (created.body as { id: string }).id }]);
  });

  it('removes an admin (204), answers 404 for unknown and malformed ids, and never removes the last one (409)', async () => {
    const list = (await agent.get('/api/admin/admins?q=second')).body as { items: Array<{ id: string }>; total: number };
    expect(list.total).toBe(1);
    const removed = await agent.delete(`/api/admin/admins/${list.items[0]!.id}`);
    expect(removed.status).toBe(204);

    const unknown = await agent.delete(`/api/admin/admins/${list.items[0]!.id}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ code: 'not_found', message: 'Admin not found' });
    const malformed = await agent.delete('/api/admin/admins/not-a-uuid');
    expect(malformed.status).toBe(404);
    expect(malformed.body).toEqual({ code: 'not_found', message: 'Resource not found' });

    const last = await agent.delete(`/api/admin/admins/${rootId}`);
    expect(last.status).toBe(409);
    expect(last.body).toEqual({ code: 'last_admin', message: 'The last admin cannot be removed; add another admin first' });
    expect(await gateway.db.knex('audit_events').where('operation', 'admin.admin.delete').count<Array<{ n: number }>>('* as n')).toEqual([{ n: 1 }]);
  });

  it('signs a removed admin out at once', async () => {
    await agent.post('/api/admin/admins', { email: 'third@example.com', password: 'third admin password' });
    const third = new Agent(gateway.url);
    await third.signIn('third@example.com', 'third admin password');
    const { id } = (await third.get('/api/admin/session')).body as { id: string };
    expect((await agent.delete(`/api/admin/admins/${id}`)).status).toBe(204);
    expect((await third.get('/api/admin/session')).status).toBe(401);
  });

  it('answers the default settings', async () => {
    const response = await agent.get('/api/admin/settings');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ usersDeletableByAdmins: false, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90 });
  });

  it('changes settings, answers the whole object, records who changed what, and get() sees it at once', async () => {
    const response = await agent.patch('/api/admin/settings', { usersDeletableByAdmins: true });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ usersDeletableByAdmins: true, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90 });
    expect(await gateway.services.settings.get()).toEqual({ usersDeletableByAdmins: true, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90 });
    expect((await agent.get('/api/admin/settings')).body).toEqual({ usersDeletableByAdmins: true, lockOnRefusedDelete: true, auditRetentionDays: 90, unknownExtensions: 'reject', changeRetentionDays: 90 });
    const audit = await gateway.db.knex('audit_events').where('operation', 'admin.settings.update').select('actor_type', 'admin_id', 'detail');
    expect(audit).toEqual([{ actor_type: 'admin', admin_id: rootId, detail: { usersDeletableByAdmins: { from: false, to: true } } }]);
  });

  it('refuses unknown keys, non-boolean values and an empty patch with 400 and details', async () => {
    const bad = await agent.patch('/api/admin/settings', { usersDeletableByAdmins: 'yes', deleteEverything: true });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      code: 'invalid_input',
      message: 'Invalid request body: deleteEverything is not a known field (expected usersDeletableByAdmins, lockOnRefusedDelete, auditRetentionDays, unknownExtensions, changeRetentionDays) (and 1 more)',
      details: {
        issues: [
          { path: 'deleteEverything', message: 'is not a known field (expected usersDeletableByAdmins, lockOnRefusedDelete, auditRetentionDays, unknownExtensions, changeRetentionDays)' },
          { path: 'usersDeletableByAdmins', message: 'must be true or false, got a string' },
        ],
      },
    });
    const days = await agent.patch('/api/admin/settings', { changeRetentionDays: 0 });
    expect(days.status).toBe(400);
    expect((await agent.get('/api/admin/settings')).body).toMatchObject({ changeRetentionDays: 90 });
    const empty = await agent.patch('/api/admin/settings', {});
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({
      code: 'invalid_input',
      message: 'Invalid request body: must name at least 1 of usersDeletableByAdmins, lockOnRefusedDelete, auditRetentionDays, unknownExtensions, changeRetentionDays',
      details: { issues: [{ path: '', message: 'must name at least 1 of usersDeletableByAdmins, lockOnRefusedDelete, auditRetentionDays, unknownExtensions, changeRetentionDays' }] },
    });
    const notObject = await agent.patch('/api/admin/settings', [true]);
    expect(notObject.status).toBe(400);
    expect((notObject.body as { message: string }).message).toBe('Invalid request body: must be an object, got an array');
  });

  it('answers the connection info for identity providers', async () => {
    const response = await agent.get('/api/admin/info');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ publicUrl: 'http://roster.test', scimBaseUrl: 'http://roster.test/scim_v2', tokenEndpoint: 'http://roster.test/oauth/token', version: '0.1.0' });
  });
});
