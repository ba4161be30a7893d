import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// Issue 20, "Also": one rule for member ids in every write path, and PATCH paths under unknown URNs.

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let gw: TestGateway;
let userId: string;
beforeAll(async () => {
  gw = await startTestGateway();
  userId = ((await gw.scim('POST', '/Users', { schemas: [USER], userName: 'upper@example.com' })).body as Json).id as string;
});
afterAll(async () => gw?.close());

async function memberIds(groupId: string): Promise<string[]> {
  const body = (await gw.scim('GET', `/Groups/${groupId}`)).body as Json;
  return (body.members ?? []).map((member: Json) => member.value);
}

describe('member ids compare case-insensitively on every path', () => {
  it('POST /Groups takes an upper-case member id', async () => {
    const created = await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Upper POST', members: [{ value: userId.toUpperCase() }] });
    expect(created.status).toBe(201);
    expect(await memberIds((created.body as Json).id)).toEqual([userId]);
  });

  it('PUT /Groups takes an upper-case member id', async () => {
    const group = (await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Upper PUT' })).body as Json;
    const replaced = await gw.scim('PUT', `/Groups/${group.id}`, { schemas: [GROUP], displayName: 'Upper PUT', members: [{ value: userId.toUpperCase() }] });
    expect(replaced.status).toBe(200);
    expect(await memberIds(group.id)).toEqual([userId]);
  });

  it('PATCH with If-Match takes an upper-case member id, like the one without', async () => {
    const group = (await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Upper PATCH' })).body as Json;
    const patched = await gw.scim(
      'PATCH',
      `/Groups/${group.id}`,
      { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: userId.toUpperCase() }] }] },
      { headers: { 'if-match': group.meta.version } },
    );
    expect(patched.status).toBe(204);
    expect(await memberIds(group.id)).toEqual([userId]);
  });

  it('the same user in two spellings is one member', async () => {
    const created = await gw.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Two spellings', members: [{ value: userId }, { value: userId.toUpperCase() }] });
    expect(created.status).toBe(201);
    expect(await memberIds((created.body as Json).id)).toEqual([userId]);
  });
});

describe('a PATCH path under an unknown URN', () => {
  it('answers 400 invalidPath and changes nothing', async () => {
    const before = (await gw.scim('GET', `/Users/${userId}`)).body as Json;
    const response = await gw.scim('PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'urn:x:__proto__:polluted', value: 'x' }] });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: '400', scimType: 'invalidPath' });
    const after = (await gw.scim('GET', `/Users/${userId}`)).body as Json;
    expect(after.meta.version).toBe(before.meta.version);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});
