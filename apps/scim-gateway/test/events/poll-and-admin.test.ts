import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_LOG_START, recordChanges, type ChangeInput } from '@roster/domain';
import { insertProvider, startWithAdmin, type Agent, type Gateway } from '../admin-api/harness.js';
import { request } from '../support/http.js';
import { until } from './set-receiver.js';

// The admin API of event streams and RFC 8936 poll delivery, over HTTP on a whole gateway.

const PUBLIC_URL = 'http://roster.test';
let gateway: Gateway;
let agent: Agent;

beforeAll(async () => {
  ({ gateway, agent } = await startWithAdmin({ ROSTER_EVENT_VISIBILITY_MS: '1000', PUBLIC_URL }));
});
afterAll(async () => {
  await gateway?.close();
});

async function record(changes: ChangeInput[]): Promise<void> {
  await gateway.db.knex.transaction((trx) => recordChanges(trx, { actor: { type: 'system', id: null }, requestId: null }, changes));
}
// Each poll stream is scoped to a SCIM client of its own, and its test's changes belong to that client: a stream
// that starts at "now" may also read changes committed just before (ChangeLog.head: at least once).
let owner = '';
const deactivated = (id: string = randomUUID()): ChangeInput => ({ kind: 'user.deactivated', resourceType: 'User', resourceId: id, ownerClientId: owner });

async function createPollStream(extra: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const provider = await insertProvider(gateway, `provider ${randomUUID()}`);
  owner = (await gateway.services.scimClients.createScimClient({ name: `owner ${randomUUID()}`, authProviderId: provider, authMethod: 'static_token', dataScope: 'all' })).id;
  const created = await agent.post('/api/admin/event-streams', { name: `poll ${randomUUID()}`, delivery: 'poll', audience: 'poller', format: 'notice', clientIds: [owner], ...extra });
  expect(created.status).toBe(201);
  return created.body as { id: string; token: string };
}

async function createPushStream(): Promise<{ id: string }> {
  const created = await agent.post('/api/admin/event-streams', { name: `push ${randomUUID()}`, delivery: 'push', endpointUrl: 'https://app.example.com/e', audience: 'a', format: 'notice' });
  expect(created.status).toBe(201);
  return created.body as { id: string };
}

/** Waits until the change log hands out these resources' changes (their transactions and every older one ended). */
async function readable(ids: string[]): Promise<void> {
  await until('the changes to be readable', async () => {
    const { changes } = await gateway.services.events.changeLog.read({ after: CHANGE_LOG_START, limit: 10_000 });
    return ids.every((id) => changes.some((change) => change.resourceId === id));
  });
}

function poll(id: string, token: string | undefined, body: unknown) {
  return request(`${gateway.url}/api/v1/event-streams/${id}/poll`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: JSON.stringify(body),
    contentType: 'application/json',
  });
}

async function verify(set: string) {
  const jwks = (await request(`${gateway.url}/.well-known/jwks.json`)).body as Parameters<typeof createLocalJWKSet>[0];
  return jwtVerify(set, createLocalJWKSet(jwks), { issuer: PUBLIC_URL, audience: 'poller', typ: 'secevent+jwt' });
}

describe('event streams admin API', () => {
  it('creates a poll stream whose 201 alone carries the token, and never returns it or an authorization header again', async () => {
    const created = await agent.post('/api/admin/event-streams', { name: 'Poll app', delivery: 'poll', audience: 'poller', format: 'notice', startAt: 'now' });
    expect(created.status).toBe(201);
    const body = created.body as Record<string, unknown>;
    expect(body.token).toMatch(/^roster_ev_[A-Za-z0-9_-]{43}$/);
    expect(body).toMatchObject({
      name: 'Poll app',
      delivery: 'poll',
      endpointUrl: null,
      state: 'active',
      hasAuthorizationHeader: false,
      clientIds: null,
      pollTokenHint: (body.token as string).slice(-4),
      lag: { events: 0, seconds: 0 },
      receiver: { issuer: PUBLIC_URL, jwksUri: `${PUBLIC_URL}/.well-known/jwks.json`, pollUrl: `${PUBLIC_URL}/api/v1/event-streams/${body.id as string}/poll` },
    });
    expect(body.events).toHaveLength(6);
    const fetched = await agent.get(`/api/admin/event-streams/${body.id as string}`);
    expect(fetched.status).toBe(200);
    expect(fetched.text).not.toContain(body.token as string);
    expect((fetched.body as Record<string, unknown>).token).toBeUndefined();

    const push = await agent.post('/api/admin/event-streams', { name: 'Push app', delivery: 'push', endpointUrl: 'https://app.example.com/events', audience: 'app', format: 'full', authorizationHeader: 'Bearer very-secret-value' });
    expect(push.status).toBe(201);
    expect(push.text).not.toContain('very-secret-value');
    expect((push.body as Record<string, unknown>).token).toBeUndefined();
    const list = await agent.get('/api/admin/event-streams?q=app');
    expect(list.status).toBe(200);
    expect((list.body as { total: number }).total).toBe(2);
    expect(list.text).not.toContain('very-secret-value');
    expect((await agent.patch(`/api/admin/event-streams/${(push.body as { id: string }).id}`, { format: 'notice', authorizationHeader: null })).body).toMatchObject({ format: 'notice', hasAuthorizationHeader: false });
  });

  it('refuses bad input with a precise 400 and changes nothing', async () => {
    const before = ((await agent.get('/api/admin/event-streams')).body as { total: number }).total;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x', delivery: 'push', audience: 'a', format: 'notice' }, 'endpointUrl is required for push delivery'],
      [{ name: 'x', delivery: 'push', endpointUrl: 'http://app.example.com/e', audience: 'a', format: 'notice' }, 'endpointUrl must use https:// (http:// only with ROSTER_ALLOW_INSECURE_ISSUERS=1, for development)'],
      [{ name: 'x', delivery: 'push', endpointUrl: 'ftp://app.example.com/e', audience: 'a', format: 'notice' }, 'endpointUrl must use https://'],
      [{ name: 'x', delivery: 'poll', endpointUrl: 'https://app.example.com/e', audience: 'a', format: 'notice' }, 'endpointUrl is for push delivery; a poll stream is read at its poll endpoint'],
      [{ name: 'x', delivery: 'poll', audience: 'a', format: 'notice', events: ['urn:ietf:params:scim:event:prov:explode'] }, 'events[0]: "urn:ietf:params:scim:event:prov:explode" is not an RFC 9967 provisioning event'],
      [{ name: 'x', delivery: 'poll', audience: 'a', format: 'notice', clientIds: [randomUUID()] }, 'clientIds: no SCIM client'],
      [{ name: 'x', delivery: 'push', endpointUrl: 'https://app.example.com/e', audience: 'a', format: 'notice', authorizationHeader: 'Bearer a\r\nX-Evil: 1' }, 'authorizationHeader must not contain control characters or line breaks'],
    ];
    for (const [body, message] of cases) {
      const response = await agent.post('/api/admin/event-streams', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((response.body as { message: string }).message).toContain(message);
    }
    const schema = await agent.post('/api/admin/event-streams', { name: 'x', delivery: 'email', audience: 'a', format: 'notice' });
    expect(schema.status).toBe(400);
    expect((schema.body as { code: string }).code).toBe('invalid_input');
    expect(((await agent.get('/api/admin/event-streams')).body as { total: number }).total).toBe(before);
    await createPollStream({ name: 'Taken name' });
    const taken = await agent.post('/api/admin/event-streams', { name: 'taken NAME', delivery: 'poll', audience: 'a', format: 'notice' });
    expect(taken.status).toBe(409);
    expect((await agent.get(`/api/admin/event-streams/${randomUUID()}`)).status).toBe(404);
    expect((await agent.post(`/api/admin/event-streams/${randomUUID()}/pause`)).status).toBe(404);
  });

  it('publishes the signing keys and advertises the events in discovery (RFC 9967 §4, RFC 8414)', async () => {
    const jwks = await request(`${gateway.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    const keys = (jwks.body as { keys: Array<Record<string, unknown>> }).keys;
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
    for (const key of keys) expect(key.d).toBeUndefined();
    const metadata = await request(`${gateway.url}/.well-known/oauth-authorization-server`);
    expect((metadata.body as Record<string, unknown>).jwks_uri).toBe(`${PUBLIC_URL}/.well-known/jwks.json`);
    const spc = await request(`${gateway.url}/scim_v2/ServiceProviderConfig`);
    expect((spc.body as { securityEvents: unknown }).securityEvents).toEqual({
      asyncRequest: 'none',
      eventUris: [
        'urn:ietf:params:scim:event:prov:create:notice',
        'urn:ietf:params:scim:event:prov:create:full',
        'urn:ietf:params:scim:event:prov:patch:notice',
        'urn:ietf:params:scim:event:prov:patch:full',
        'urn:ietf:params:scim:event:prov:put:notice',
        'urn:ietf:params:scim:event:prov:put:full',
        'urn:ietf:params:scim:event:prov:delete',
        'urn:ietf:params:scim:event:prov:activate',
        'urn:ietf:params:scim:event:prov:deactivate',
      ],
    });
  });

  it('rotates the signing key with overlap: the old key stays in the JWKS and new SETs carry the new kid', async () => {
    const before = ((await request(`${gateway.url}/.well-known/jwks.json`)).body as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
    const kid = await gateway.services.events.signer.rotate();
    const after = ((await request(`${gateway.url}/.well-known/jwks.json`)).body as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
    expect(after).toEqual(expect.arrayContaining([...before, kid]));
    const token = await gateway.services.events.signer.sign({ jti: 'x' });
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
  });
});

describe('poll delivery (RFC 8936)', () => {
  it('answers SETs in order, forgets acknowledged ones, and records acks and setErrs in the delivery log', async () => {
    const { id, token } = await createPollStream();
    const users = [randomUUID(), randomUUID(), randomUUID()];
    await record(users.map((user) => deactivated(user)));
    await readable(users);
    const first = await poll(id, token, { maxEvents: 2, returnImmediately: true });
    expect(first.status).toBe(200);
    const firstBody = first.body as { sets: Record<string, string>; moreAvailable: boolean };
    expect(firstBody.moreAvailable).toBe(true);
    const jtis = Object.keys(firstBody.sets);
    expect(jtis).toHaveLength(2);
    const verified = await Promise.all(jtis.map((jti) => verify(firstBody.sets[jti]!)));
    expect(verified.map((v) => (v.payload.sub_id as { uri: string }).uri)).toEqual(users.slice(0, 2).map((user) => `/Users/${user}`));
    expect(verified.map((v) => v.payload.jti)).toEqual(jtis);

    const second = await poll(id, token, { maxEvents: 10, returnImmediately: true, ack: [jtis[0]], setErrs: { [jtis[1]!]: { err: 'invalid_subject', description: 'unknown user' } } });
    const secondBody = second.body as { sets: Record<string, string>; moreAvailable: boolean };
    expect(secondBody.moreAvailable).toBe(false);
    const third = Object.keys(secondBody.sets);
    expect(third).toHaveLength(1);
    expect(((await verify(secondBody.sets[third[0]!]!)).payload.sub_id as { uri: string }).uri).toBe(`/Users/${users[2]}`);
    await poll(id, token, { maxEvents: 0, ack: third });

    const log = await agent.get(`/api/admin/event-streams/${id}/deliveries?limit=10`);
    expect(log.status).toBe(200);
    const items = (log.body as { items: Array<Record<string, unknown>>; total: number }).items;
    expect(items.map((item) => [item.jti, item.outcome, item.err])).toEqual(
      expect.arrayContaining([
        [jtis[0], 'acknowledged', null],
        [jtis[1], 'set_error', 'invalid_subject'],
        [third[0], 'acknowledged', null],
      ]),
    );
    const again = await poll(id, token, { returnImmediately: true });
    expect(again.body).toEqual({ sets: {}, moreAvailable: false });
  });

  it('hands out an unacknowledged SET again, with the same jti, after the visibility timeout', async () => {
    const { id, token } = await createPollStream();
    const user = randomUUID();
    await record([deactivated(user)]);
    await readable([user]);
    const first = (await poll(id, token, { returnImmediately: true })).body as { sets: Record<string, string> };
    const [jti] = Object.keys(first.sets);
    expect(jti).toBeDefined();
    expect(((await poll(id, token, { returnImmediately: true })).body as { sets: object }).sets).toEqual({});
    const redelivered = await until('the SET to be handed out again', async () => {
      const body = (await poll(id, token, { returnImmediately: true })).body as { sets: Record<string, string> };
      return Object.keys(body.sets).length > 0 ? body : undefined;
    });
    expect(Object.keys(redelivered.sets)).toEqual([jti]);
  });

  it('long-polls until a change arrives', async () => {
    const { id, token } = await createPollStream();
    const waiting = poll(id, token, { maxEvents: 5 });
    const user = randomUUID();
    await record([deactivated(user)]);
    const body = (await waiting).body as { sets: Record<string, string> };
    const sets = Object.values(body.sets);
    expect(sets).toHaveLength(1);
    expect(((await verify(sets[0]!)).payload.sub_id as { uri: string }).uri).toBe(`/Users/${user}`);
  });

  it('refuses a missing or wrong token with 401 and a bad request with 400 invalid_request', async () => {
    const { id, token } = await createPollStream();
    const other = await createPollStream();
    const missing = await poll(id, undefined, {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="roster-events"');
    expect(missing.body).toMatchObject({ err: 'authentication_failed' });
    expect((await poll(id, other.token, { returnImmediately: true })).status).toBe(401);
    expect((await poll(randomUUID(), token, { returnImmediately: true })).status).toBe(401);
    for (const [body, description] of [
      [{ maxEvents: -1 }, 'maxEvents must be a whole number, 0 or more'],
      [{ returnImmediately: 'yes' }, 'returnImmediately must be true or false'],
      [{ ack: 'abc' }, 'ack must be an array of jti strings'],
      [{ setErrs: { a: { description: 'no err' } } }, 'setErrs.a must be {"err": string, "description"?: string}'],
      [{ maxEvents: 1, extra: true }, 'unknown member extra'],
      [[1, 2], 'the poll request must be a JSON object'],
    ] as const) {
      const response = await poll(id, token, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toEqual({ err: 'invalid_request', description });
    }
    const get = await request(`${gateway.url}/api/v1/event-streams/${id}/poll`, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);

    // Revoking the token: a new one replaces it, and the old one stops working at once.
    const rotated = await agent.post(`/api/admin/event-streams/${id}/token`);
    expect(rotated.status).toBe(200);
    const fresh = (rotated.body as { token: string }).token;
    expect(fresh).toMatch(/^roster_ev_/);
    expect((await poll(id, token, { returnImmediately: true })).status).toBe(401);
    expect((await poll(id, fresh, { returnImmediately: true })).status).toBe(200);
    expect((await agent.post(`/api/admin/event-streams/${(await createPushStream()).id}/token`)).status).toBe(400);
  });

  it('test button queues a verification SET for a poll stream, and pushes one to a push stream', async () => {
    const { id, token } = await createPollStream();
    const sent = await agent.post(`/api/admin/event-streams/${id}/test`);
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ ok: true, description: 'queued for the next poll' });
    const body = (await poll(id, token, { returnImmediately: true })).body as { sets: Record<string, string> };
    const verified = await verify(Object.values(body.sets)[0]!);
    expect(Object.keys(verified.payload.events as object)).toEqual(['https://schemas.openid.net/secevent/ssf/event-type/verification']);
  });
});
