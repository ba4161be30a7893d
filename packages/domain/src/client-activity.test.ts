import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createAuditService } from './audit.js';
import { createClientActivityService, readKindOf } from './client-activity.js';
import { createDirectoryReadService } from './directory-read.js';
import { createScimClientService } from './scim-clients.js';

// Counted reads against a real database (PGlite, or PostgreSQL with TEST_DATABASE_URL).

let db: TestDatabase;
let clientId: string;
let otherId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const [provider] = (await db.knex('auth_providers').insert({ name: 'IdP', kind: 'saml' }).returning('id')) as Array<{ id: string }>;
  const rows = (await db.knex('scim_clients').insert([
    { name: 'Entra', auth_provider_id: provider!.id, auth_method: 'static_token' },
    { name: 'Okta', auth_provider_id: provider!.id, auth_method: 'static_token' },
  ]).returning('id')) as Array<{ id: string }>;
  [clientId, otherId] = [rows[0]!.id, rows[1]!.id];
});
afterAll(async () => db?.destroy());

describe('readKindOf', () => {
  it('names the endpoint kind of a read from its path below the SCIM base', () => {
    expect(readKindOf('GET', '/Users')).toBe('users.list');
    expect(readKindOf('GET', '/Users/')).toBe('users.list');
    expect(readKindOf('GET', '//Users/abc')).toBe('users.get');
    expect(readKindOf('POST', '/Groups/.search')).toBe('groups.list');
    expect(readKindOf('GET', '/Groups/abc')).toBe('groups.get');
    expect(readKindOf('GET', '/ServiceProviderConfig')).toBe('discovery');
    expect(readKindOf('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User')).toBe('discovery');
    expect(readKindOf('GET', '/Me')).toBe('other');
  });
});

describe('client activity: reads counted per client, kind and minute', () => {
  it('adds counts to one row per minute across calls (as several processes would) and keeps the latest time', async () => {
    const activity = createClientActivityService(db.knex);
    const minute = new Date('2026-12-07T10:15:00Z');
    await activity.recordReads([
      { clientId, kind: 'users.list', minute, requests: 3, lastAt: new Date('2026-12-07T10:15:20Z') },
      { clientId, kind: 'users.list', minute: new Date('2026-12-07T10:15:40Z'), requests: 1, lastAt: new Date('2026-12-07T10:15:40Z') },
      { clientId, kind: 'discovery', minute, requests: 1, lastAt: new Date('2026-12-07T10:15:05Z') },
    ]);
    await activity.recordReads([{ clientId, kind: 'users.list', minute, requests: 2, lastAt: new Date('2026-12-07T10:15:30Z') }]);
    const page = await activity.list({ clientId });
    expect(page.total).toBe(2);
    expect(page.items).toEqual([
      { clientId, clientName: 'Entra', kind: 'discovery', minute, requests: 1, lastAt: new Date('2026-12-07T10:15:05Z') },
      { clientId, clientName: 'Entra', kind: 'users.list', minute, requests: 6, lastAt: new Date('2026-12-07T10:15:40Z') },
    ]);
  });

  it('drops the counts of a client deleted meanwhile and still writes the others', async () => {
    const activity = createClientActivityService(db.knex);
    const minute = new Date('2026-12-07T11:00:00Z');
    await activity.recordReads([
      { clientId: '00000000-0000-4000-8000-000000000000', kind: 'users.get', minute, requests: 1, lastAt: minute },
      { clientId: otherId, kind: 'users.get', minute, requests: 1, lastAt: minute },
    ]);
    expect((await activity.list({ from: minute })).items.map((item) => item.clientName)).toEqual(['Okta']);
  });

  it('makes "last activity" of a client the latest request of any kind, logged or counted', async () => {
    const clients = createScimClientService(db.knex, { clock: () => new Date('2026-12-07T12:00:00Z') });
    const audit = createAuditService(db.knex);
    await audit.record({ actorType: 'scim_client', clientId, operation: 'scim.user.create', status: 201, at: new Date('2026-12-07T09:00:00Z') });
    expect((await clients.getScimClient(clientId)).lastActivityAt).toEqual(new Date('2026-12-07T10:15:40Z'));
    await audit.record({ actorType: 'scim_client', clientId, operation: 'scim.user.create', status: 201, at: new Date('2026-12-07T10:30:00Z') });
    expect((await clients.getScimClient(clientId)).lastActivityAt).toEqual(new Date('2026-12-07T10:30:00Z'));
  });

  it('counts reads in the chart, by minute, beside logged requests and their errors', async () => {
    const directory = createDirectoryReadService(db.knex);
    const audit = createAuditService(db.knex);
    await audit.record({ actorType: 'scim_client', clientId, operation: 'scim.user.create', status: 409, at: new Date('2026-12-07T10:15:50Z') });
    const points = await directory.activityStats({ bucket: 'minute', from: new Date('2026-12-07T10:15:10Z'), to: new Date('2026-12-07T10:16:00Z'), clientId });
    expect(points).toEqual([{ bucketStart: new Date('2026-12-07T10:15:00Z'), clientId, clientName: 'Entra', requests: 8, errors: 1 }]);
  });
});
