import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, ISO, UUID, startWithAdmin, type Gateway } from './harness.js';

// /api/admin/schema-extensions (DESIGN.md): declare, read, change (versioned, confirmation for lost values),
// delete; bad input is a precise 400 that changes nothing.

const URN = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';

describe('/api/admin/schema-extensions', () => {
  let gateway: Gateway;
  let agent: Agent;
  beforeAll(async () => {
    ({ gateway, agent } = await startWithAdmin());
  });
  afterAll(async () => gateway?.close());

  it('declares an extension (201) with every characteristic filled, lists and fetches it', async () => {
    const created = await agent.post('/api/admin/schema-extensions', {
      urn: URN,
      resourceType: 'User',
      attributes: [
        { name: 'costCenter', type: 'string', filterable: true },
        { name: 'badges', type: 'complex', multiValued: true, subAttributes: [{ name: 'value', type: 'string' }, { name: 'type', type: 'string' }] },
      ],
    });
    expect(created.status, created.text).toBe(201);
    const body = created.body as { id: string; attributes: unknown[] };
    expect(body).toEqual({
      id: expect.stringMatching(UUID),
      urn: URN,
      resourceType: 'User',
      required: false,
      name: 'User',
      description: '',
      attributes: [
        { name: 'costCenter', type: 'string', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', filterable: true },
        {
          name: 'badges',
          type: 'complex',
          multiValued: true,
          description: '',
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none',
          filterable: false,
          subAttributes: [
            { name: 'value', type: 'string', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', filterable: false },
            { name: 'type', type: 'string', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', filterable: false },
          ],
        },
      ],
      version: 1,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    expect((await agent.get('/api/admin/schema-extensions')).body).toEqual({ items: [created.body], total: 1 });
    expect((await agent.get(`/api/admin/schema-extensions/${body.id}`)).body).toEqual(created.body);
    const audit = await gateway.db.knex('audit_events').where('operation', 'admin.schema-extension.create').select('resource_id');
    expect(audit).toEqual([{ resource_id: body.id }]);
  });

  it('refuses a bad URN, a duplicate URN and a reference without referenceTypes, precisely, storing nothing', async () => {
    const badUrn = await agent.post('/api/admin/schema-extensions', { urn: 'acme:User', resourceType: 'User', attributes: [] });
    expect(badUrn.status).toBe(400);
    expect(badUrn.body).toMatchObject({ code: 'invalid_input', details: { field: 'urn' } });
    const duplicate = await agent.post('/api/admin/schema-extensions', { urn: URN.toLowerCase(), resourceType: 'User', attributes: [] });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toEqual({ code: 'conflict', message: `An extension schema ${URN.toLowerCase()} is already declared`, details: { field: 'urn' } });
    const reference = await agent.post('/api/admin/schema-extensions', { urn: `${URN}x`, resourceType: 'User', attributes: [{ name: 'homePage', type: 'reference' }] });
    expect(reference.status).toBe(400);
    expect(reference.body).toEqual({
      code: 'invalid_input',
      message: 'attributes[0] (homePage): a reference attribute needs referenceTypes, e.g. ["external"] or ["User"] (RFC 7643 §7)',
      details: { field: 'attributes[0].referenceTypes' },
    });
    expect((await agent.get('/api/admin/schema-extensions')).body).toMatchObject({ total: 1 });
  });

  it('asks for confirmation before removing an attribute that holds values, saying how many resources hold them', async () => {
    const id = ((await agent.get('/api/admin/schema-extensions')).body as { items: Array<{ id: string }> }).items[0]!.id;
    await gateway.db.knex('users').insert({ user_name: 'holder', data: { [URN]: { costCenter: '4711' } } });
    const usage = await agent.get(`/api/admin/schema-extensions/${id}/usage`);
    expect(usage.body).toEqual({ resources: 1, attributes: { costCenter: 1, badges: 0 } });
    const change = { attributes: [{ name: 'badges', type: 'complex', multiValued: true, subAttributes: [{ name: 'value', type: 'string' }] }] };
    const unconfirmed = await agent.patch(`/api/admin/schema-extensions/${id}`, change);
    expect(unconfirmed.status).toBe(409);
    expect(unconfirmed.body).toEqual({
      code: 'conflict',
      message: 'This change removes stored values: costCenter (removed, values in 1 resource). Send it again with confirm to remove them.',
      details: { confirmationRequired: true, changes: [{ attribute: 'costCenter', change: 'removed', resourcesWithValues: 1 }] },
    });
    const confirmed = await agent.patch(`/api/admin/schema-extensions/${id}?confirm=true`, change);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ version: 2 });
    const holder = (await gateway.db.knex('users').where('user_name', 'holder').first()) as { data: Record<string, unknown>; version: number };
    expect(holder.data).toEqual({});
    expect(holder.version).toBe(2);
  });

  it('the directory shows the extension values of a user, each marked declared or unrecognized', async () => {
    const [row] = (await gateway.db.knex('users')
      .insert({ user_name: 'shown', data: { userName: 'shown', [URN]: { badges: [{ value: 'B-1' }] }, 'urn:example:kept:2.0:User': { region: 'EU' } } })
      .returning('id')) as Array<{ id: string }>;
    const detail = await agent.get(`/api/admin/users/${row!.id}`);
    expect(detail.status).toBe(200);
    // In the document's order (jsonb orders keys by length first).
    expect((detail.body as { extensions: unknown }).extensions).toEqual([
      { urn: 'urn:example:kept:2.0:User', declared: false, values: { region: 'EU' } },
      { urn: URN, declared: true, values: { badges: [{ value: 'B-1' }] } },
    ]);
    expect((await agent.get('/api/admin/schema-extensions/unrecognized')).body).toEqual({ items: [{ urn: 'urn:example:kept:2.0:User', resourceType: 'User', resources: 1 }] });
    await gateway.db.knex('users').where('id', row!.id).delete();
  });

  it('deletes (204) and answers 404 afterwards', async () => {
    const id = ((await agent.get('/api/admin/schema-extensions')).body as { items: Array<{ id: string }> }).items[0]!.id;
    expect((await agent.delete(`/api/admin/schema-extensions/${id}`)).status).toBe(204);
    expect((await agent.get(`/api/admin/schema-extensions/${id}`)).status).toBe(404);
  });

  it('settings carry unknownExtensions ("reject" on a new install) and refuse other values', async () => {
    expect((await agent.get('/api/admin/settings')).body).toMatchObject({ unknownExtensions: 'reject' });
    expect((await agent.patch('/api/admin/settings', { unknownExtensions: 'ignore' })).status).toBe(400);
    expect((await agent.patch('/api/admin/settings', { unknownExtensions: 'keep' })).body).toMatchObject({ unknownExtensions: 'keep' });
  });
});
