import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordChanges, type ChangeInput } from '@roster/domain';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startSetReceiver, until, type SetReceiver } from './set-receiver.js';

// Push delivery (RFC 8935) end to end: changes recorded in the directory change log become RFC 9967 SETs, signed
// with Roster's key, POSTed to a real receiver that verifies them against /.well-known/jwks.json. The change log is
// written through `recordChanges` directly, as the SCIM write paths do inside their transactions.

const AUDIENCE = 'https://app.example.com/events';
let gateway: TestGateway;
let receiver: SetReceiver;

beforeAll(async () => {
  // With an encryption key: the Authorization header is stored encrypted and decrypted for each push.
  gateway = await startTestGateway({ ROSTER_ALLOW_INSECURE_ISSUERS: '1', ROSTER_EVENT_RETRY_BASE_MS: '40', LOG_LEVEL: 'silent', ROSTER_ENCRYPTION_KEY: Buffer.alloc(32, 0x5e).toString('base64') });
  receiver = await startSetReceiver({ jwksUrl: `${gateway.url}/.well-known/jwks.json`, issuer: gateway.url, audience: AUDIENCE });
});
afterAll(async () => {
  await receiver?.close();
  await gateway?.close();
});

const streams: string[] = [];
afterEach(async () => {
  // One stream at a time: a stream left behind would keep delivering to the shared receiver.
  const removed = streams.splice(0);
  for (const id of removed) await gateway.roster.services.events.streams.remove(id);
  // A removed stream's runner may be sending one last SET: wait until it has let go.
  await until('the removed streams to stop', () => !gateway.roster.services.events.worker.held().some((id) => removed.includes(id)));
  receiver.behave = () => ({ kind: 'accept' });
  receiver.received.length = 0;
  receiver.attempts = 0;
  receiver.rejected.length = 0;
});

// Each test's changes belong to a SCIM client of its own and its stream is scoped to that client: a stream that
// starts at "now" may also read changes committed just before (ChangeLog.head: at least once), and on a shared
// PostgreSQL server other transactions widen that window; the scope keeps other tests' changes out.
let owner = '';
async function createStream(input: Partial<Parameters<TestGateway['roster']['services']['events']['streams']['create']>[0]> = {}) {
  if (!input.clientIds) owner = (await gateway.addClient()).clientId;
  const stream = await gateway.roster.services.events.streams.create({ name: `push ${randomUUID()}`, delivery: 'push', endpointUrl: receiver.url, audience: AUDIENCE, format: 'notice', clientIds: [owner], ...input });
  streams.push(stream.id);
  return stream;
}

async function record(changes: ChangeInput[], requestId = `req-${randomUUID()}`): Promise<void> {
  await gateway.db.knex.transaction((trx) => recordChanges(trx, { actor: { type: 'scim_client', id: gateway.clientId }, requestId }, changes));
}

const userChange = (kind: ChangeInput['kind'], detail: ChangeInput['detail'] = null, id: string = randomUUID()): ChangeInput => ({
  kind,
  resourceType: 'User',
  resourceId: id,
  externalId: `ext-${id.slice(0, 8)}`,
  ownerClientId: owner,
  detail,
});

describe('push delivery', () => {
  it('delivers each change as one signed RFC 9967 SET, in order, verified against the JWKS with iss, aud and typ', async () => {
    const stream = await createStream({ authorizationHeader: 'Bearer receiver-secret' });
    const stored = (await gateway.db.knex('event_streams').where({ id: stream.id }).first()) as { authorization_header: string };
    expect(stored.authorization_header).toMatch(/^enc:v1:[0-9a-f]{8}:/);
    expect(stored.authorization_header).not.toContain('receiver-secret');
    const user = randomUUID();
    const group = randomUUID();
    const member = randomUUID();
    await record([userChange('user.created', { attributes: ['userName', 'name'] }, user), userChange('user.updated', { attributes: ['displayName'] }, user)], 'req-first');
    await record([{ kind: 'group.members.added', resourceType: 'Group', resourceId: group, externalId: 'crm-users', ownerClientId: owner, detail: { members: [member] } }]);
    await record([userChange('user.deactivated', null, user), userChange('user.reactivated', null, user), userChange('user.deleted', null, user)]);
    await until('six SETs', () => receiver.received.length >= 6);

    expect(receiver.rejected).toEqual([]);
    const [created, patched, members, deactivated, activated, deleted] = receiver.received;
    expect(created!.header).toMatchObject({ typ: 'secevent+jwt', alg: 'ES256' });
    expect(created!.header.kid).toEqual(expect.any(String));
    expect(created!.authorization).toBe('Bearer receiver-secret');
    expect(created!.claims).toMatchObject({
      iss: gateway.url,
      aud: AUDIENCE,
      txn: 'req-first',
      sub_id: { format: 'scim', uri: `/Users/${user}`, externalId: `ext-${user.slice(0, 8)}` },
      events: { 'urn:ietf:params:scim:event:prov:create:notice': { attributes: ['userName', 'name'] } },
    });
    expect(created!.claims.iat).toEqual(expect.any(Number));
    expect(patched!.claims.events).toEqual({ 'urn:ietf:params:scim:event:prov:patch:notice': { attributes: ['displayName'] } });
    expect(patched!.claims.txn).toBe('req-first');
    expect(members!.claims.sub_id).toEqual({ format: 'scim', uri: `/Groups/${group}`, externalId: 'crm-users' });
    expect(members!.claims.events).toEqual({ 'urn:ietf:params:scim:event:prov:patch:notice': { attributes: ['members'] } });
    expect(Object.keys(deactivated!.claims.events)).toEqual(['urn:ietf:params:scim:event:prov:deactivate']);
    expect(Object.keys(activated!.claims.events)).toEqual(['urn:ietf:params:scim:event:prov:activate']);
    // RFC 9967 §2.4.4: a delete has no payload and no notice/full qualifier.
    expect(deleted!.claims.events).toEqual({ 'urn:ietf:params:scim:event:prov:delete': {} });
    expect(new Set(receiver.received.map((set) => set.jti)).size).toBe(6);
  });

  it('full format carries the resource as SCIM returns it, and a membership PATCH as PatchOp operations', async () => {
    await createStream({ format: 'full', clientIds: [gateway.clientId] });
    const created = await gateway.scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `full-${randomUUID()}`, externalId: 'full-ext', name: { givenName: 'Ada' } });
    expect(created.status).toBe(201);
    const user = created.body as { id: string; meta: { version: string } };
    const group = randomUUID();
    // The SCIM POST recorded user.created itself.
    await record([{ kind: 'group.members.removed', resourceType: 'Group', resourceId: group, ownerClientId: gateway.clientId, detail: { members: [user.id] } }]);
    await until('two SETs', () => receiver.received.length >= 2);
    const fetched = (await gateway.scim('GET', `/Users/${user.id}`)).body;
    expect(receiver.received[0]!.claims.events).toEqual({ 'urn:ietf:params:scim:event:prov:create:full': { data: fetched, version: user.meta.version } });
    expect(receiver.received[1]!.claims.events).toEqual({
      'urn:ietf:params:scim:event:prov:patch:full': {
        data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: 'members', value: [{ value: user.id, $ref: `/Users/${user.id}` }] }] },
      },
    });
  });

  it('skips changes outside the stream: other SCIM clients\' resources and event kinds it did not ask for', async () => {
    const other = await gateway.addClient();
    await createStream({ events: ['urn:ietf:params:scim:event:prov:deactivate', 'urn:ietf:params:scim:event:prov:delete'] });
    const mine = randomUUID();
    await record([
      userChange('user.created', null, mine),
      { ...userChange('user.deactivated'), ownerClientId: other.clientId },
      userChange('user.deactivated', null, mine),
      userChange('link.changed', { providerId: randomUUID(), externalId: 'x' }, mine),
      userChange('user.deleted', null, mine),
    ]);
    await until('two SETs', () => receiver.received.length >= 2);
    expect(receiver.received.map((set) => `${Object.keys(set.claims.events)[0]} ${set.claims.sub_id!.uri}`)).toEqual([
      `urn:ietf:params:scim:event:prov:deactivate /Users/${mine}`,
      `urn:ietf:params:scim:event:prov:delete /Users/${mine}`,
    ]);
  });

  it('delivers a burst in order over one kept-alive connection and records one attempt per SET, in the order sent', async () => {
    const stream = await createStream();
    const connections = receiver.connections;
    // More than a page of the change log (200) and several record batches: 250 changes in one transaction.
    const ids = Array.from({ length: 250 }, () => randomUUID());
    await record(ids.map((id) => userChange('user.deactivated', null, id)));
    await until('250 SETs', () => receiver.received.length >= 250);
    expect(receiver.received.map((set) => set.claims.sub_id!.uri)).toEqual(ids.map((id) => `/Users/${id}`));
    expect(receiver.attempts).toBe(250);
    // One request at a time per stream on a kept-alive socket: at most the one connection this stream opened.
    expect(receiver.connections - connections).toBeLessThanOrEqual(1);

    const log = await until('250 recorded attempts', async () => {
      const page = await gateway.roster.services.events.streams.deliveries(stream.id, { limit: 300 });
      return page.total === 250 ? page : undefined;
    });
    const attempts = [...log.items].reverse();
    expect(attempts.map((item) => item.jti)).toEqual(receiver.received.map((set) => set.jti));
    expect(attempts.every((item) => item.outcome === 'delivered' && item.httpStatus === 202 && item.attempt === 1 && item.durationMs !== null)).toBe(true);
    await until('the count', async () => (await gateway.roster.services.events.streams.get(stream.id)).deliveredCount === 250);
    expect(await gateway.roster.services.events.streams.lag(stream.id)).toMatchObject({ events: 0 });
  });

  it('retries a failed delivery with the same jti and keeps the order through 500, a closed connection and 400 invalid_key, recording each err', async () => {
    const stream = await createStream();
    receiver.behave = (attempt) =>
      attempt === 1
        ? { kind: 'status', status: 500 }
        : attempt === 2
          ? { kind: 'close' }
          : attempt === 3
            ? { kind: 'status', status: 400, body: { err: 'invalid_key', description: 'key not trusted yet' } }
            : { kind: 'accept' };
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await record(ids.map((id) => userChange('user.deactivated', null, id)));
    await until('three SETs', () => receiver.received.length >= 3);
    expect(receiver.received.map((set) => set.claims.sub_id!.uri)).toEqual(ids.map((id) => `/Users/${id}`));
    expect(receiver.attempts).toBe(6);

    // The last 202 is recorded just after the receiver answered it.
    const log = await until('six recorded attempts', async () => {
      const page = await gateway.roster.services.events.streams.deliveries(stream.id, { limit: 50 });
      return page.items.length >= 6 ? page : undefined;
    });
    const attempts = [...log.items].reverse();
    expect(attempts.map((item) => [item.outcome, item.httpStatus, item.err, item.attempt])).toEqual([
      ['failed', 500, null, 1],
      ['failed', null, 'connection', 2],
      ['failed', 400, 'invalid_key', 3],
      ['delivered', 202, null, 4],
      ['delivered', 202, null, 1],
      ['delivered', 202, null, 1],
    ]);
    // Every retry of the first SET carried the jti the receiver finally accepted.
    expect(new Set(attempts.slice(0, 4).map((item) => item.jti))).toEqual(new Set([receiver.received[0]!.jti]));
    expect(attempts[2]!.description).toBe('key not trusted yet');
    const metrics = (await fetch(`${gateway.url}/metrics`).then((response) => response.text())).split('\n');
    expect(metrics).toContain(`roster_events_failed_total{stream="${stream.name}"} 3`);
    expect(metrics.some((line) => line.startsWith(`roster_events_delivered_total{stream="${stream.name}"} `))).toBe(true);
    expect(metrics.some((line) => line.startsWith(`roster_event_lag_seconds{stream="${stream.name}"} `))).toBe(true);
    const after = await until('the counts', async () => {
      const current = await gateway.roster.services.events.streams.get(stream.id);
      return current.deliveredCount === 3 ? current : undefined;
    });
    expect(after).toMatchObject({ state: 'active', deliveredCount: 3, failedCount: 3, nextAttemptAt: null, failingSince: null });
  });

  it('times out an answer that never comes (response timeout) and delivers on the next try', async () => {
    const { pushSet } = await import('@roster/domain');
    receiver.behave = (attempt) => (attempt === 1 ? { kind: 'hang' } : { kind: 'accept' });
    const stream = await createStream();
    const row = await gateway.roster.services.events.streams.rowOf(stream.id);
    // The worker's own timeouts are 5 s (connect) and 10 s (answer); the same function with a short one here.
    const token = await gateway.roster.services.events.signer.sign({ jti: 'timeout-probe', iss: gateway.url, aud: AUDIENCE, iat: 1, events: {} });
    const result = await pushSet(row.endpoint_url!, token, { connectTimeoutMs: 1000, responseTimeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, status: null, err: 'timeout' });
    const second = await pushSet(row.endpoint_url!, token, { connectTimeoutMs: 1000, responseTimeoutMs: 5000 });
    expect(second).toMatchObject({ ok: true, status: 202 });
  });

  it('does not follow a redirect: a 307 is a failed delivery', async () => {
    const stream = await createStream();
    receiver.behave = (attempt) => (attempt === 1 ? { kind: 'status', status: 307 } : { kind: 'accept' });
    await record([userChange('user.deactivated')]);
    await until('one SET', () => receiver.received.length >= 1);
    const log = await until('two recorded attempts', async () => {
      const page = await gateway.roster.services.events.streams.deliveries(stream.id);
      return page.items.length >= 2 ? page : undefined;
    });
    expect(log.items.at(-1)).toMatchObject({ outcome: 'failed', httpStatus: 307, description: 'redirects are not followed' });
  });

  it('delivers everything in order once a receiver that was down comes back', async () => {
    const stream = await createStream();
    await receiver.stop();
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const id of ids) await record([userChange('user.deactivated', null, id)]);
    await until('two failed attempts', async () => (await gateway.roster.services.events.streams.deliveries(stream.id)).items.filter((item) => item.err === 'connection').length >= 2);
    await receiver.start();
    await until('five SETs', () => receiver.received.length >= 5);
    expect(receiver.received.map((set) => set.claims.sub_id!.uri)).toEqual(ids.map((id) => `/Users/${id}`));
  });

  it('marks a stream failing after 72 h of failures, keeps its backlog, and delivers it on resume', async () => {
    const stream = await createStream();
    receiver.behave = () => ({ kind: 'status', status: 503 });
    const ids = [randomUUID(), randomUUID()];
    await record(ids.map((id) => userChange('user.deactivated', null, id)));
    await until('a failed attempt', async () => (await gateway.roster.services.events.streams.get(stream.id)).failingSince !== null);
    // As if the first failure had been 73 hours ago: the next failure (due now) gives up.
    await gateway.db.knex('event_streams').where({ id: stream.id }).update({ failing_since: gateway.db.knex.raw("now() - interval '73 hours'"), next_attempt_at: null });
    await until('state failing', async () => (await gateway.roster.services.events.streams.get(stream.id)).state === 'failing');
    const attemptsWhenFailing = receiver.attempts;
    expect((await gateway.roster.services.events.streams.lag(stream.id)).events).toBe(2);

    receiver.behave = () => ({ kind: 'accept' });
    await gateway.roster.services.events.streams.resume(stream.id);
    await until('two SETs', () => receiver.received.length >= 2);
    expect(receiver.attempts).toBeGreaterThan(attemptsWhenFailing);
    expect(receiver.received.map((set) => set.claims.sub_id!.uri)).toEqual(ids.map((id) => `/Users/${id}`));
    await until('the stream recorded as delivered', async () => (await gateway.roster.services.events.streams.get(stream.id)).failingSince === null);
    expect(await gateway.roster.services.events.streams.get(stream.id)).toMatchObject({ state: 'active', failingSince: null });
  });

  it('holds SETs while paused and delivers them after resume', async () => {
    const stream = await createStream();
    await gateway.roster.services.events.streams.pause(stream.id);
    const id = randomUUID();
    await record([userChange('user.deleted', null, id)]);
    await until('the change to be behind the paused stream', async () => (await gateway.roster.services.events.streams.lag(stream.id)).events === 1);
    expect(receiver.attempts).toBe(0);
    await gateway.roster.services.events.streams.resume(stream.id);
    await until('one SET', () => receiver.received.length >= 1);
    expect(receiver.received[0]!.claims.sub_id!.uri).toBe(`/Users/${id}`);
    await until('lag 0', async () => (await gateway.roster.services.events.streams.lag(stream.id)).events === 0);
  });

  it('starts at "now" by default and at the oldest retained change when asked', async () => {
    owner = (await gateway.addClient()).clientId;
    const client = owner;
    const before = randomUUID();
    await record([userChange('user.deleted', null, before)]);
    await createStream({ startAt: 'oldest', clientIds: [client] });
    await until('the old change', () => receiver.received.some((set) => set.claims.sub_id!.uri === `/Users/${before}`));
    const removed = streams.splice(0);
    for (const id of removed) await gateway.roster.services.events.streams.remove(id);
    await until('the removed stream to stop', () => !gateway.roster.services.events.worker.held().some((id) => removed.includes(id)));
    receiver.received.length = 0;
    await createStream({ clientIds: [client] });
    const after = randomUUID();
    await record([userChange('user.deleted', null, after)]);
    await until('the new change', () => receiver.received.some((set) => set.claims.sub_id!.uri === `/Users/${after}`));
    // "Now" is the oldest running transaction's start (ChangeLog.head): on the embedded database, one connection,
    // that is exactly now; on a shared PostgreSQL server another session's open transaction may hold it back, and
    // a change committed just before may be delivered too (at least once, never lost).
    if (!process.env.TEST_DATABASE_URL) expect(receiver.received.map((set) => set.claims.sub_id!.uri)).toEqual([`/Users/${after}`]);
  });
});
