import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createChangeLog, recordChanges, type ChangeLog, type DirectoryChange } from '@roster/domain';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// Every SCIM write records its changes in the directory change log, in its own transaction (issue 17), and the
// request's audit event with it.

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let gw: TestGateway;
let log: ChangeLog;
beforeAll(async () => {
  gw = await startTestGateway();
  log = createChangeLog(gw.db.knex, { pollIntervalMs: 50 });
});
afterAll(async () => {
  await log?.close();
  await gw?.close();
});

/**
 * Runs `write` and answers the changes it recorded: everything readable after the head taken before it, up to
 * a sentinel change committed after it. On PostgreSQL a change becomes readable only once every older
 * transaction of the server has ended (the change log's horizon), which under load can take a moment: the
 * sentinel tells when everything before it is readable, so "nothing was recorded" is asserted without a sleep.
 */
async function changesOf(write: () => Promise<unknown>): Promise<DirectoryChange[]> {
  // Whatever earlier writes recorded is read past first, so only this write's changes are collected.
  const { cursor } = await throughSentinel(await log.head());
  await write();
  return (await throughSentinel(cursor)).changes;
}

/** Commits a sentinel change and reads from `cursor` until it: the changes before it, and the cursor after it. */
async function throughSentinel(cursor: string): Promise<{ changes: DirectoryChange[]; cursor: string }> {
  const sentinel = randomUUID();
  await gw.db.knex.transaction((trx) => recordChanges(trx, { actor: { type: 'system', id: null } }, [{ kind: 'user.updated', resourceType: 'User', resourceId: sentinel }]));
  const changes: DirectoryChange[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const page = await log.wait({ after: cursor, timeoutMs: 1000 });
    for (const change of page.changes) {
      if (change.resourceId === sentinel) return { changes, cursor: change.cursor };
      changes.push(change);
    }
    cursor = page.cursor;
  }
  throw new Error('the sentinel change did not become readable within 60 s');
}

function summary(changes: DirectoryChange[]): Array<[string, unknown]> {
  return changes.map((change) => [change.kind, change.detail]);
}

async function created(path: string, body: Json): Promise<Json> {
  const response = await gw.scim('POST', path, body);
  expect(response.status, response.text).toBe(201);
  return response.body as Json;
}

async function auditOf(requestId: string): Promise<Array<{ operation: string; status: number; resource_id: string | null }>> {
  return (await gw.db.knex('audit_events').select('operation', 'status', 'resource_id').where('request_id', requestId)) as Array<{
    operation: string;
    status: number;
    resource_id: string | null;
  }>;
}

describe('the change log records every SCIM write', () => {
  it('POST /Users: user.created and link.changed, with the client as actor, the request id, externalId and owner', async () => {
    let body: Json = {};
    let requestId = '';
    const changes = await changesOf(async () => {
      const response = await gw.scim('POST', '/Users', { schemas: [USER], userName: 'changes-ada', externalId: 'ext-ada' }, { headers: { 'x-request-id': 'req-create-ada' } });
      expect(response.status, response.text).toBe(201);
      body = response.body as Json;
      requestId = response.headers.get('x-request-id') ?? '';
    });
    expect(requestId).toBe('req-create-ada');
    expect(changes.map((change) => change.kind)).toEqual(['user.created', 'link.changed']);
    for (const change of changes) {
      expect(change).toMatchObject({
        resourceType: 'User',
        resourceId: body.id,
        externalId: 'ext-ada',
        ownerClientId: gw.clientId,
        actor: { type: 'scim_client', id: gw.clientId },
        requestId: 'req-create-ada',
      });
    }
    expect(changes[1]!.detail).toEqual({ providerId: gw.providerId, externalId: 'ext-ada' });
    // The audit event committed with the user, in the same statement.
    expect(await auditOf('req-create-ada')).toEqual([{ operation: 'scim.user.create', status: 201, resource_id: body.id }]);
  });

  it('PUT and PATCH: user.updated with the attribute names, then deactivated and reactivated; a retry records nothing', async () => {
    const user = await created('/Users', { schemas: [USER], userName: 'changes-bob' });
    const put = await changesOf(() => gw.scim('PUT', `/Users/${user.id}`, { schemas: [USER], userName: 'changes-bob', displayName: 'Bob', title: 'Eng' }));
    expect(summary(put)).toEqual([['user.updated', { attributes: ['displayName', 'title'], operation: 'put' }]]);

    const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] };
    expect(summary(await changesOf(() => gw.scim('PATCH', `/Users/${user.id}`, patch)))).toEqual([['user.deactivated', { reason: 'scim_inactive' }]]);
    expect(await changesOf(() => gw.scim('PATCH', `/Users/${user.id}`, patch))).toEqual([]);
    const back = { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true, displayName: 'Robert' } }] };
    expect(summary(await changesOf(() => gw.scim('PATCH', `/Users/${user.id}`, back)))).toEqual([
      ['user.updated', { attributes: ['displayName'] }],
      ['user.reactivated', {}],
    ]);
  });

  it('DELETE refused: user.locked with its reason, then only an explicit active: true records user.unlocked', async () => {
    const user = await created('/Users', { schemas: [USER], userName: 'changes-carol' });
    const refused = await changesOf(async () => expect((await gw.scim('DELETE', `/Users/${user.id}`)).status).toBe(403));
    expect(summary(refused)).toEqual([['user.locked', { reason: 'delete_refused' }]]);
    const unlock = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] };
    expect(summary(await changesOf(() => gw.scim('PATCH', `/Users/${user.id}`, unlock)))).toEqual([['user.unlocked', { reason: 'delete_refused' }]]);
  });

  it('DELETE allowed: user.deleted', async () => {
    const user = await created('/Users', { schemas: [USER], userName: 'changes-dan', externalId: 'ext-dan' });
    await gw.roster.services.settings.update({ usersDeletableByAdmins: true }, gw.adminId);
    try {
      const changes = await changesOf(async () => expect((await gw.scim('DELETE', `/Users/${user.id}`)).status).toBe(204));
      expect(changes.map((change) => [change.kind, change.resourceId, change.externalId])).toEqual([['user.deleted', user.id, 'ext-dan']]);
    } finally {
      await gw.roster.services.settings.update({ usersDeletableByAdmins: false }, gw.adminId);
    }
  });

  it('groups: created with members, updated, members added and removed (the one-statement PATCH too), deleted', async () => {
    const [a, b, c] = [await created('/Users', { schemas: [USER], userName: 'g-a' }), await created('/Users', { schemas: [USER], userName: 'g-b' }), await created('/Users', { schemas: [USER], userName: 'g-c' })];
    let group: Json = {};
    const create = await changesOf(async () => {
      group = await created('/Groups', { schemas: [GROUP], displayName: 'Team', members: [{ value: a!.id }] });
    });
    expect(summary(create)).toEqual([
      ['group.created', { attributes: ['displayName'] }],
      ['group.members.added', { members: [a!.id] }],
    ]);
    expect(create.every((change) => change.resourceId === group.id && change.ownerClientId === gw.clientId)).toBe(true);

    // The one-statement paths (adds only, removes only).
    const add = { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: b!.id }, { value: c!.id }] }] };
    const added = await changesOf(async () => expect((await gw.scim('PATCH', `/Groups/${group.id}`, add, { headers: { 'x-request-id': 'req-add' } })).status).toBe(204));
    expect(summary(added)).toEqual([['group.members.added', { members: [b!.id, c!.id].sort() }]]);
    expect(added[0]!.requestId).toBe('req-add');
    expect(await auditOf('req-add')).toEqual([{ operation: 'scim.group.patch', status: 204, resource_id: group.id }]);
    expect(await changesOf(() => gw.scim('PATCH', `/Groups/${group.id}`, add))).toEqual([]);
    const remove = { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${b!.id}"]` }] };
    expect(summary(await changesOf(() => gw.scim('PATCH', `/Groups/${group.id}`, remove)))).toEqual([['group.members.removed', { members: [b!.id] }]]);

    // The transaction path: attributes and members together.
    const both = {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Team 2' },
        { op: 'remove', path: `members[value eq "${c!.id}"]` },
      ],
    };
    expect(summary(await changesOf(() => gw.scim('PATCH', `/Groups/${group.id}`, both)))).toEqual([
      ['group.updated', { attributes: ['displayName'] }],
      ['group.members.removed', { members: [c!.id] }],
    ]);
    const put = await changesOf(() => gw.scim('PUT', `/Groups/${group.id}`, { schemas: [GROUP], displayName: 'Team 2', members: [{ value: b!.id }] }));
    expect(summary(put)).toEqual([
      ['group.members.removed', { members: [a!.id] }],
      ['group.members.added', { members: [b!.id] }],
    ]);
    expect(summary(await changesOf(() => gw.scim('DELETE', `/Groups/${group.id}`)))).toEqual([['group.deleted', {}]]);
  });

  it('records nothing for a write that fails, and its audit event comes from the failure', async () => {
    const user = await created('/Users', { schemas: [USER], userName: 'changes-erin' });
    const bad = { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }, { value: '0b9d6c52-0000-4000-8000-000000000009' }] }] };
    const group = await created('/Groups', { schemas: [GROUP], displayName: 'Failing' });
    expect(await changesOf(async () => expect((await gw.scim('PATCH', `/Groups/${group.id}`, bad)).status).toBe(400))).toEqual([]);
  });

  it('/Bulk: every operation appears individually, with the request id, and one audit event for the request', async () => {
    const existing = await created('/Users', { schemas: [USER], userName: 'bulk-existing' });
    const operations = [
      ...Array.from({ length: 3 }, (_, index) => ({ method: 'POST', path: '/Users', bulkId: `u${index}`, data: { schemas: [USER], userName: `bulk-${index}`, externalId: `ext-bulk-${index}` } })),
      { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'Bulk group', members: [{ value: 'bulkId:u0' }] } },
      { method: 'PATCH', path: `/Users/${existing.id}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'One' }] } },
    ];
    let results: Json[] = [];
    const changes = await changesOf(async () => {
      const response = await gw.scim('POST', '/Bulk', { schemas: [BULK], Operations: operations }, { headers: { 'x-request-id': 'req-bulk' } });
      expect(response.status, response.text).toBe(200);
      results = (response.body as Json).Operations as Json[];
    });
    expect(results.map((result) => result.status), JSON.stringify(results)).toEqual(['201', '201', '201', '201', '200']);
    const ids = results.map((result) => String(result.location).split('/').pop());
    expect(changes.map((change) => [change.kind, change.resourceId])).toEqual([
      ['user.created', ids[0]],
      ['link.changed', ids[0]],
      ['user.created', ids[1]],
      ['link.changed', ids[1]],
      ['user.created', ids[2]],
      ['link.changed', ids[2]],
      ['group.created', ids[3]],
      ['group.members.added', ids[3]],
      ['user.updated', existing.id],
    ]);
    expect(changes.every((change) => change.requestId === 'req-bulk' && change.actor.id === gw.clientId)).toBe(true);
    expect(await auditOf('req-bulk')).toEqual([{ operation: 'scim.bulk', status: 200, resource_id: null }]);
  });
});
