import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { DomainError } from '../errors.js';
import { createDirectoryService, type DirectoryActor, type UserInput } from './service.js';

// The directory lifecycle without any protocol in front: each command writes the rows, their change records
// and the actor's audit event in one transaction, and the rules (locks, deletion) are decided here.

let db: TestDatabase;
const settings = { usersDeletableByAdmins: false, lockOnRefusedDelete: true };
let directory: ReturnType<typeof createDirectoryService>;
beforeAll(async () => {
  db = await createTestDatabase();
  directory = createDirectoryService(db.knex, { settings: { get: async () => ({ ...settings }) } });
});
afterAll(async () => db?.destroy());

const adminId = randomUUID();
function adminActor(requestId: string): DirectoryActor {
  return {
    context: { actor: { type: 'admin', id: adminId }, requestId },
    clientId: null,
    authProviderId: null,
    visibility: {},
    audit: (status, resourceId) => ({ actorType: 'admin', adminId, operation: 'admin.user.write', resourceType: 'User', resourceId, status, requestId }),
  };
}

function userInput(userName: string, extra: Record<string, unknown> = {}, active = true): UserInput {
  const data = { userName, active, ...extra };
  return {
    columns: { user_name: userName, external_id: null, display_name: (extra.displayName as string) ?? null, given_name: null, family_name: null, active, emails_lower: [] },
    data,
  };
}

async function recorded(requestId: string) {
  const changes = (await db.knex('directory_changes').select('kind', 'detail', 'actor_type').where('request_id', requestId).orderBy('position')) as Array<{ kind: string; detail: unknown; actor_type: string }>;
  const audit = (await db.knex('audit_events').select('operation', 'status').where('request_id', requestId)) as Array<{ operation: string; status: number }>;
  return { changes: changes.map((change) => [change.kind, change.detail, change.actor_type]), audit };
}

describe('directory service', () => {
  it('create, change and deleteOrLock each record their changes and the audit event in their transaction', async () => {
    const user = await directory.users.create(adminActor('svc-1'), userInput('svc-ada'));
    expect(await recorded('svc-1')).toEqual({ changes: [['user.created', { attributes: ['active', 'userName'] }, 'admin']], audit: [{ operation: 'admin.user.write', status: 201 }] });

    await directory.users.change(adminActor('svc-2'), user.id, (current) => userInput(current.userName, { displayName: 'Ada' }, false));
    expect((await recorded('svc-2')).changes).toEqual([
      ['user.updated', { attributes: ['displayName'] }, 'admin'],
      ['user.deactivated', { reason: 'scim_inactive' }, 'admin'],
    ]);

    const refused = await directory.users.deleteOrLock(adminActor('svc-3'), user.id);
    expect(refused).toEqual({ deleted: false, locked: true, refusal: expect.stringContaining('User accounts deletable by admins') });
    expect(await recorded('svc-3')).toEqual({ changes: [['user.locked', { reason: 'delete_refused' }, 'admin']], audit: [{ operation: 'admin.user.write', status: 403 }] });
  });

  it('keeps a delete_refused lock through a replace without active: true, and lifts it with active: true', async () => {
    const user = await directory.users.create(adminActor('svc-4'), userInput('svc-bob'));
    await directory.users.deleteOrLock(adminActor('svc-5'), user.id);
    const replaced = await directory.users.replace(adminActor('svc-6'), user.id, { ...userInput('svc-bob'), data: { userName: 'svc-bob' } });
    expect(replaced.user).toMatchObject({ active: false, lockReason: 'delete_refused' });
    const lifted = await directory.users.replace(adminActor('svc-7'), user.id, userInput('svc-bob'));
    expect(lifted.user).toMatchObject({ active: true, lockReason: null });
    expect((await recorded('svc-7')).changes).toEqual([['user.unlocked', { reason: 'delete_refused' }, 'admin']]);
  });

  it('refuses a change that removes active, and an unknown user, with DomainErrors that change nothing', async () => {
    const user = await directory.users.create(adminActor('svc-8'), userInput('svc-carol'));
    await expect(directory.users.change(adminActor('svc-9'), user.id, () => ({ ...userInput('svc-carol'), data: { userName: 'svc-carol' } }))).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(directory.users.change(adminActor('svc-9'), randomUUID(), () => undefined)).rejects.toBeInstanceOf(DomainError);
    expect(await recorded('svc-9')).toEqual({ changes: [], audit: [] });
  });

  it('a unit of work runs each step under a savepoint: a failed step leaves no change record', async () => {
    const actor = { ...adminActor('svc-10'), audit: undefined };
    await directory.unitOfWork(
      async ({ trx, attempt }) => {
        await attempt((savepoint) => directory.users.create(actor, userInput('svc-dan'), savepoint));
        await expect(attempt((savepoint) => directory.users.create(actor, userInput('SVC-DAN'), savepoint))).rejects.toThrow();
        await directory.groups.create(actor, { columns: { display_name: 'svc-group', external_id: null }, data: { displayName: 'svc-group' } }, [], {}, trx);
      },
      { context: actor.context, audit: { actorType: 'admin', adminId, operation: 'admin.bulk', status: 200, requestId: 'svc-10' } },
    );
    expect(await recorded('svc-10')).toEqual({
      changes: [
        ['user.created', { attributes: ['active', 'userName'] }, 'admin'],
        ['group.created', { attributes: ['displayName'] }, 'admin'],
      ],
      audit: [{ operation: 'admin.bulk', status: 200 }],
    });
  });
});
