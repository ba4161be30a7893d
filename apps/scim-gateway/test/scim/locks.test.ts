import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// Issue 17 (item 5, second bullet): a lock placed because the identity provider's DELETE was refused is lifted
// only by an explicit `active: true`. A PUT that leaves `active` out keeps it; `PATCH remove active` is refused
// with 400 and changes nothing (RFC 7644 §3.5.2.2 would leave the attribute unassigned, which Roster reads as
// active at creation: a removal must never re-enable an account).

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

async function lockedUser(userName: string): Promise<Json> {
  const created = await gw.scim('POST', '/Users', { schemas: [USER], userName, externalId: `ext-${userName}` });
  expect(created.status, created.text).toBe(201);
  const refused = await gw.scim('DELETE', `/Users/${(created.body as Json).id}`);
  expect(refused.status).toBe(403);
  expect(await stored((created.body as Json).id)).toEqual({ active: false, lock_reason: 'delete_refused', version: 2 });
  return created.body as Json;
}

async function stored(id: string): Promise<{ active: boolean; lock_reason: string | null; version: number }> {
  return (await gw.db.knex('users').select('active', 'lock_reason', 'version').where('id', id).first()) as { active: boolean; lock_reason: string | null; version: number };
}

const removeActive = { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'active' }] };

describe('a lock placed by a refused DELETE', () => {
  it('holds through a PUT that leaves active out (the other attributes are replaced)', async () => {
    const user = await lockedUser('lock-put@example.com');
    const put = await gw.scim('PUT', `/Users/${user.id}`, { schemas: [USER], userName: 'lock-put@example.com', displayName: 'Still locked' });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ active: false, displayName: 'Still locked' });
    expect(await stored(user.id)).toMatchObject({ active: false, lock_reason: 'delete_refused' });
  });

  it('holds through a PATCH that does not name active', async () => {
    const user = await lockedUser('lock-patch@example.com');
    const patch = await gw.scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { displayName: 'Renamed' } }] });
    expect(patch.status, patch.text).toBe(200);
    expect(patch.body).toMatchObject({ active: false, displayName: 'Renamed' });
    expect(await stored(user.id)).toMatchObject({ active: false, lock_reason: 'delete_refused' });
  });

  it('is not lifted by PATCH remove active: 400, and nothing changes', async () => {
    const user = await lockedUser('lock-remove@example.com');
    const patch = await gw.scim('PATCH', `/Users/${user.id}`, removeActive);
    expect(patch.status).toBe(400);
    expect(patch.body).toEqual({ schemas: [ERROR], status: '400', scimType: 'invalidValue', detail: 'active cannot be removed: replace it with true or false' });
    expect(await stored(user.id)).toEqual({ active: false, lock_reason: 'delete_refused', version: 2 });
  });

  it('is lifted by an explicit active: true, through PATCH or PUT', async () => {
    const patched = await lockedUser('lock-lift-patch@example.com');
    const patch = await gw.scim('PATCH', `/Users/${patched.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] });
    expect(patch.status, patch.text).toBe(200);
    expect(await stored(patched.id)).toMatchObject({ active: true, lock_reason: null });

    const replaced = await lockedUser('lock-lift-put@example.com');
    const put = await gw.scim('PUT', `/Users/${replaced.id}`, { schemas: [USER], userName: 'lock-lift-put@example.com', active: true });
    expect(put.status, put.text).toBe(200);
    expect(await stored(replaced.id)).toMatchObject({ active: true, lock_reason: null });
  });

  it('a refused DELETE of an inactive user puts the stronger lock on it', async () => {
    const created = await gw.scim('POST', '/Users', { schemas: [USER], userName: 'lock-inactive@example.com', active: false });
    const id = (created.body as Json).id as string;
    expect(await stored(id)).toMatchObject({ active: false });
    expect((await gw.scim('DELETE', `/Users/${id}`)).status).toBe(403);
    expect(await stored(id)).toMatchObject({ active: false, lock_reason: 'delete_refused' });
    const put = await gw.scim('PUT', `/Users/${id}`, { schemas: [USER], userName: 'lock-inactive@example.com' });
    expect(put.body).toMatchObject({ active: false });
  });
});

describe('PATCH remove active on any user', () => {
  it('is refused with 400 and leaves the user as it was', async () => {
    const created = await gw.scim('POST', '/Users', { schemas: [USER], userName: 'remove-active@example.com' });
    const id = (created.body as Json).id as string;
    expect((await gw.scim('PATCH', `/Users/${id}`, removeActive)).status).toBe(400);
    expect(await stored(id)).toEqual({ active: true, lock_reason: null, version: 1 });
  });

  it('a PUT that leaves active out of an account deactivated by SCIM keeps the old meaning (active)', async () => {
    const created = await gw.scim('POST', '/Users', { schemas: [USER], userName: 'put-reactivates@example.com', active: false });
    const id = (created.body as Json).id as string;
    const put = await gw.scim('PUT', `/Users/${id}`, { schemas: [USER], userName: 'put-reactivates@example.com' });
    expect(put.body).toMatchObject({ active: true });
  });
});
