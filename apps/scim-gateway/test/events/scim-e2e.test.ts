import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startSetReceiver, until, type SetReceiver } from './set-receiver.js';

// End to end through SCIM: an identity provider's POST, PATCH, PUT and DELETE reach an application as RFC 9967
// SETs, in the order of the requests, each carrying its request's id as `txn`.

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const PROV = 'urn:ietf:params:scim:event:prov:';

let gateway: TestGateway;
let notice: SetReceiver;
let full: SetReceiver;

beforeAll(async () => {
  gateway = await startTestGateway({ ROSTER_ALLOW_INSECURE_ISSUERS: '1', LOG_LEVEL: 'silent' });
  notice = await startSetReceiver({ jwksUrl: `${gateway.url}/.well-known/jwks.json`, issuer: gateway.url, audience: 'notice-app' });
  full = await startSetReceiver({ jwksUrl: `${gateway.url}/.well-known/jwks.json`, issuer: gateway.url, audience: 'full-app' });
  await gateway.roster.services.settings.update({ usersDeletableByAdmins: true }, gateway.adminId);
  const { streams } = gateway.roster.services.events;
  await streams.create({ name: 'notice', delivery: 'push', endpointUrl: notice.url, audience: 'notice-app', format: 'notice' });
  await streams.create({ name: 'full', delivery: 'push', endpointUrl: full.url, audience: 'full-app', format: 'full' });
});
afterAll(async () => {
  await notice?.close();
  await full?.close();
  await gateway?.close();
});

describe('events from SCIM writes', () => {
  it('POST, PATCH, PUT, deactivate, group membership and DELETE arrive in order with their request ids', async () => {
    const requests: string[] = [];
    const scim = async (method: string, path: string, body?: unknown) => {
      const response = await gateway.scim(method, path, body);
      expect(response.status, `${method} ${path}: ${response.text}`).toBeLessThan(300);
      requests.push(response.headers.get('x-request-id')!);
      return response.body as { id: string };
    };
    const user = await scim('POST', '/Users', { schemas: [USER], userName: 'events-ada', externalId: 'ada-ext', displayName: 'Ada' });
    await scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Ada L.' }] });
    await scim('PUT', `/Users/${user.id}`, { schemas: [USER], userName: 'events-ada', externalId: 'ada-ext', displayName: 'Ada Lovelace', title: 'Countess' });
    // `full` carries the resource as it is when the SET is built (docs/events.md): read them before the DELETE.
    await until('the first full SETs', () => full.received.length >= 3);
    const current = (await gateway.scim('GET', `/Users/${user.id}`)).body as Record<string, unknown>;
    expect(full.received.map((set) => Object.keys(set.claims.events)[0]!.slice(PROV.length))).toEqual(['create:full', 'patch:full', 'put:full']);
    expect(full.received[2]!.claims.events[`${PROV}put:full`]).toEqual({ data: current, version: (current.meta as { version: string }).version });
    // The PATCH's SET was built before or after the PUT: it carries the value at that moment.
    const [operation] = (full.received[1]!.claims.events[`${PROV}patch:full`] as { data: { Operations: Array<{ value: string }> } }).data.Operations;
    expect(operation).toMatchObject({ op: 'replace', path: 'displayName' });
    expect(['Ada L.', 'Ada Lovelace']).toContain(operation!.value);
    await scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    const group = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Analysts', externalId: 'analysts', members: [{ value: user.id }] });
    await scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${user.id}"]` }] });
    await scim('DELETE', `/Users/${user.id}`);

    const expected = [
      ['create:notice', `/Users/${user.id}`, requests[0]],
      ['patch:notice', `/Users/${user.id}`, requests[1]],
      ['put:notice', `/Users/${user.id}`, requests[2]],
      ['deactivate', `/Users/${user.id}`, requests[3]],
      ['create:notice', `/Groups/${group.id}`, requests[4]],
      ['patch:notice', `/Groups/${group.id}`, requests[4]],
      ['patch:notice', `/Groups/${group.id}`, requests[5]],
      ['delete', `/Users/${user.id}`, requests[6]],
    ];
    await until('the notice SETs', () => notice.received.length >= expected.length);
    const summary = notice.received.map((set) => [Object.keys(set.claims.events)[0]!.slice(PROV.length), set.claims.sub_id!.uri, set.claims.txn]);
    expect(summary).toEqual(expected);
    expect(notice.received[0]!.claims.sub_id).toEqual({ format: 'scim', uri: `/Users/${user.id}`, externalId: 'ada-ext' });
    expect(notice.received[1]!.claims.events[`${PROV}patch:notice`]).toMatchObject({ attributes: ['displayName'] });
    expect(notice.received[2]!.claims.events[`${PROV}put:notice`]).toMatchObject({ attributes: ['displayName', 'title'] });
    expect(notice.received[5]!.claims.events[`${PROV}patch:notice`]).toEqual({ attributes: ['members'] });

    await until('the full SETs', () => full.received.length >= notice.received.length);
    // The group's membership PATCH carries the member removed.
    const removal = full.received[6]!.claims.events[`${PROV}patch:full`] as { data: { Operations: unknown[] } };
    expect(removal.data.Operations).toEqual([{ op: 'remove', path: 'members', value: [{ value: user.id, $ref: `/Users/${user.id}` }] }]);
    expect(notice.rejected).toEqual([]);
    expect(full.rejected).toEqual([]);
  });
});
