import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_LOG_START, createEventSigner, createSecretBox, EncryptionKey, reencryptEventSecrets, RETIRED_KEY_OVERLAP_MS } from '@roster/domain';
import { ISO, startWithAdmin, type Agent, type Gateway } from '../admin-api/harness.js';
import { request } from '../support/http.js';
import { until } from './set-receiver.js';

// Issue 18: the event secrets Roster must read back (a push stream's Authorization header, the private signing
// keys) are encrypted at rest under ROSTER_ENCRYPTION_KEY; the signing keys are listed and rotated through the
// admin API. Rows are read with SQL, as an operator (or an attacker with a database dump) would see them.

const keyA = Buffer.alloc(32, 0xa1).toString('base64');
const keyB = Buffer.alloc(32, 0xb2).toString('base64url');
const idA = new EncryptionKey(Buffer.from(keyA, 'base64')).id;
const idB = new EncryptionKey(Buffer.from(keyB, 'base64url')).id;
const boxA = createSecretBox([new EncryptionKey(Buffer.from(keyA, 'base64'))]);
const unknownBox = createSecretBox([EncryptionKey.generate()]);

let gateway: Gateway;
let agent: Agent;

beforeAll(async () => {
  ({ gateway, agent } = await startWithAdmin({ ROSTER_ENCRYPTION_KEY: keyA, ROSTER_ALLOW_INSECURE_ISSUERS: '1' }));
  // No delivery here: these streams point at no receiver (push delivery through encryption is in push.test.ts).
  await gateway.services.events.worker.stop();
});
afterAll(async () => {
  await gateway?.close();
});

const sql = () => gateway.db.knex;
const headerRow = async (id: string) => (await sql()('event_streams').select('authorization_header', 'state', 'last_error').where({ id }).first()) as { authorization_header: string | null; state: string; last_error: string | null };
const jwks = async () => ((await request(`${gateway.url}/.well-known/jwks.json`)).body as { keys: Array<{ kid: string; d?: string }> }).keys;
const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

async function createPushStream(authorizationHeader = 'Bearer receiver-secret-1'): Promise<string> {
  const created = await agent.post('/api/admin/event-streams', { name: `push ${randomUUID()}`, delivery: 'push', endpointUrl: 'https://app.example.com/events', audience: 'app', format: 'notice', authorizationHeader });
  expect(created.status).toBe(201);
  return (created.body as { id: string }).id;
}

describe('event secrets at rest', () => {
  it('stores a push Authorization header as ciphertext bound to its stream, and reads it back for delivery', async () => {
    const id = await createPushStream('Bearer receiver-secret-1');
    const stored = (await headerRow(id)).authorization_header!;
    expect(stored).toMatch(new RegExp(`^enc:v1:${idA}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$`));
    expect(stored).not.toContain('receiver-secret-1');
    expect(gateway.services.events.streams.authorizationHeaderOf(await gateway.services.events.streams.rowOf(id))).toBe('Bearer receiver-secret-1');
    // Bound to the row: the same ciphertext in another stream does not decrypt.
    expect(() => boxA.open(stored, randomUUID())).toThrow('does not authenticate');
    // PATCH re-seals; null removes it.
    expect((await agent.patch(`/api/admin/event-streams/${id}`, { authorizationHeader: 'Bearer receiver-secret-2' })).status).toBe(200);
    const patched = (await headerRow(id)).authorization_header!;
    expect(patched).not.toBe(stored);
    expect(boxA.open(patched, id)).toBe('Bearer receiver-secret-2');
    const removed = await agent.patch(`/api/admin/event-streams/${id}`, { authorizationHeader: null });
    expect((removed.body as { hasAuthorizationHeader: boolean }).hasAuthorizationHeader).toBe(false);
    expect((await headerRow(id)).authorization_header).toBeNull();
  });

  it('stores the private signing key as ciphertext bound to its kid; the JWKS never carries it', async () => {
    await gateway.services.events.signer.sign({ jti: randomUUID() });
    const rows = (await sql()('event_signing_keys').select('kid', 'private_jwk')) as Array<{ kid: string; private_jwk: string }>;
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const row of rows) {
      expect(row.private_jwk).toMatch(new RegExp(`^enc:v1:${idA}:`));
      expect(row.private_jwk).not.toContain('"d"');
      expect(JSON.parse(boxA.open(row.private_jwk, row.kid))).toMatchObject({ kty: 'EC', crv: 'P-256', d: expect.any(String) });
    }
    for (const key of await jwks()) expect(key.d).toBeUndefined();
  });

  it('re-encrypts legacy plain values at start, once, and rewrites values under an older key after a key rotation', async () => {
    // Rows as written before this change: the header in clear, the private JWK as JSON text.
    const streamId = randomUUID();
    await sql()('event_streams').insert({ id: streamId, name: `legacy ${streamId}`, delivery: 'push', endpoint_url: 'https://app.example.com/legacy', audience: 'app', authorization_header: 'Bearer legacy-secret', format: 'notice', cursor: CHANGE_LOG_START, state: 'paused' });
    const legacy = createEventSigner(sql(), { secrets: createSecretBox() });
    const legacyKid = await legacy.rotate();
    const plainJwk = JSON.parse(((await sql()('event_signing_keys').where({ kid: legacyKid }).first()) as { private_jwk: string }).private_jwk.slice('plain:'.length)) as object;
    await sql()('event_signing_keys').where({ kid: legacyKid }).update({ private_jwk: JSON.stringify(plainJwk) });

    await gateway.services.events.reencryptSecrets();
    expect((await headerRow(streamId)).authorization_header).toMatch(new RegExp(`^enc:v1:${idA}:`));
    expect(boxA.open((await headerRow(streamId)).authorization_header!, streamId)).toBe('Bearer legacy-secret');
    const keyRow = (await sql()('event_signing_keys').where({ kid: legacyKid }).first()) as { private_jwk: string };
    expect(JSON.parse(boxA.open(keyRow.private_jwk, legacyKid))).toEqual(plainJwk);
    // Idempotent: nothing is left to rewrite.
    const again = await sql()('event_streams').where({ id: streamId }).first();
    await gateway.services.events.reencryptSecrets();
    expect(await sql()('event_streams').where({ id: streamId }).first()).toEqual(again);

    // Rotation of the encryption key: a process with "B,A" reads A's values and rewrites them under B.
    const rotated = await gateway.sibling({ ROSTER_ENCRYPTION_KEY: `${keyB},${keyA}`, LOG_LEVEL: 'silent' });
    try {
      await rotated.services.events.reencryptSecrets();
      const headers = (await sql()('event_streams').whereNotNull('authorization_header').pluck('authorization_header')) as string[];
      const privates = (await sql()('event_signing_keys').pluck('private_jwk')) as string[];
      expect([...headers, ...privates].every((value) => value.startsWith(`enc:v1:${idB}:`))).toBe(true);
      expect(rotated.services.events.streams.authorizationHeaderOf(await rotated.services.events.streams.rowOf(streamId))).toBe('Bearer legacy-secret');
      // Back to A only for the rest of this file: A's process re-encrypts nothing it cannot read, so restore with A first.
      const back = await gateway.sibling({ ROSTER_ENCRYPTION_KEY: `${keyA},${keyB}`, LOG_LEVEL: 'silent' });
      await back.services.events.reencryptSecrets();
      await back.close();
    } finally {
      await rotated.close();
    }
    expect((await headerRow(streamId)).authorization_header).toMatch(new RegExp(`^enc:v1:${idA}:`));
  });

  it('re-encrypts each value once when two processes start together', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await sql()('event_streams').insert(ids.map((id) => ({ id, name: `together ${id}`, delivery: 'push', endpoint_url: 'https://app.example.com/t', audience: 'app', authorization_header: `Bearer ${id}`, format: 'notice', cursor: CHANGE_LOG_START, state: 'paused' })));
    const [first, second] = await Promise.all([reencryptEventSecrets(sql(), boxA), reencryptEventSecrets(sql(), boxA)]);
    expect(first!.reencrypted + second!.reencrypted).toBe(3);
    for (const id of ids) expect(boxA.open((await headerRow(id)).authorization_header!, id)).toBe(`Bearer ${id}`);
    await sql()('event_streams').whereIn('id', ids).delete();
  });

  it('marks a stream failing, with the reason, when no configured key decrypts its header; the process keeps running', async () => {
    const id = await createPushStream();
    await sql()('event_streams').where({ id }).update({ authorization_header: unknownBox.seal('Bearer lost', id), state: 'active' });
    await gateway.services.events.reencryptSecrets();
    const row = await headerRow(id);
    expect(row.state).toBe('failing');
    expect(row.last_error).toContain(`The push Authorization header cannot be decrypted: it was encrypted with key ${unknownBox.currentKeyId}, which ROSTER_ENCRYPTION_KEY does not hold`);
    const shown = (await agent.get(`/api/admin/event-streams/${id}`)).body as { state: string; lastError: string };
    expect(shown).toMatchObject({ state: 'failing', lastError: row.last_error });
    // The test button answers the reason instead of sending without the header.
    const test = await agent.post(`/api/admin/event-streams/${id}/test`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: false, err: 'unreadable_secret', httpStatus: null });
    // Entering the header again repairs it.
    await agent.patch(`/api/admin/event-streams/${id}`, { authorizationHeader: 'Bearer again' });
    expect(boxA.open((await headerRow(id)).authorization_header!, id)).toBe('Bearer again');
    await agent.delete(`/api/admin/event-streams/${id}`);
  });

  it('replaces a signing key it cannot decrypt with a new one, audited, instead of failing to sign', async () => {
    const signer = gateway.services.events.signer;
    const strangerKid = `stranger-${randomUUID()}`;
    const [stranger] = (await sql()('event_signing_keys').select('public_jwk').whereNull('retired_at').limit(1)) as Array<{ public_jwk: unknown }>;
    await sql()('event_signing_keys').whereNull('retired_at').update({ retired_at: new Date() });
    await sql()('event_signing_keys').insert({ kid: strangerKid, public_jwk: JSON.stringify(stranger!.public_jwk), private_jwk: unknownBox.seal('{}', strangerKid) });
    const fresh = createEventSigner(sql(), { secrets: boxA, onUnreadableKey: () => {} });
    const token = await fresh.sign({ jti: randomUUID() });
    expect(kidOf(token)).not.toBe(strangerKid);
    const listed = await signer.list();
    expect(listed.find((key) => key.kid === strangerKid)!.retiredAt).not.toBeNull();
    expect(listed.find((key) => key.kid === kidOf(token))!.retiredAt).toBeNull();
    // Through the gateway's signer the replacement is logged and audited for the admin.
    await sql()('event_signing_keys').whereNull('retired_at').update({ retired_at: new Date() });
    const other = `stranger-${randomUUID()}`;
    await sql()('event_signing_keys').insert({ kid: other, public_jwk: JSON.stringify(stranger!.public_jwk), private_jwk: unknownBox.seal('{}', other) });
    const sibling = await gateway.sibling({ ROSTER_ENCRYPTION_KEY: keyA, LOG_LEVEL: 'silent' });
    try {
      await sibling.services.events.signer.sign({ jti: randomUUID() });
    } finally {
      await sibling.close();
    }
    // The audit event is written beside signing (signing does not wait for it).
    let audited: Array<{ actor_type: string }> = [];
    await until('the replacement to be audited', async () => {
      audited = (await sql()('audit_events').where({ operation: 'event_signing_key.replace_unreadable', resource_id: other })) as Array<{ actor_type: string }>;
      return audited.length > 0;
    });
    expect(audited).toHaveLength(1);
    expect(audited[0]!.actor_type).toBe('system');
  });
});

describe('signing keys admin API', () => {
  it('lists the keys with public facts only, and rotates with overlap: both keys in the JWKS, new SETs carry the new kid', async () => {
    await gateway.services.events.signer.sign({ jti: randomUUID() });
    const before = await agent.get('/api/admin/event-signing-keys');
    expect(before.status).toBe(200);
    const items = (before.body as { items: Array<Record<string, unknown>> }).items;
    const current = items.filter((key) => key.state === 'current');
    expect(current.length).toBeGreaterThanOrEqual(1);
    for (const key of items) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'createdAt', 'expiresAt', 'kid', 'published', 'retiredAt', 'state']);
      expect(key.alg).toBe('ES256');
      expect(key.createdAt).toMatch(ISO);
    }
    const oldKid = current[0]!.kid as string;

    // A mutating call: refused without the CSRF header.
    expect((await agent.request('POST', '/api/admin/event-signing-keys/rotate', { csrf: false })).status).toBe(403);

    const rotated = await agent.post('/api/admin/event-signing-keys/rotate');
    expect(rotated.status).toBe(201);
    const created = rotated.body as { kid: string };
    expect(rotated.body).toEqual({ kid: created.kid, alg: 'ES256', createdAt: expect.stringMatching(ISO), state: 'current', retiredAt: null, expiresAt: null, published: true });
    expect(created.kid).not.toBe(oldKid);

    const kids = (await jwks()).map((key) => key.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, created.kid]));
    const token = await gateway.services.events.signer.sign({ jti: randomUUID(), iss: 'http://roster.test' });
    expect(kidOf(token)).toBe(created.kid);
    // A receiver holding the published keys verifies the new SET.
    await jwtVerify(token, createLocalJWKSet((await request(`${gateway.url}/.well-known/jwks.json`)).body as Parameters<typeof createLocalJWKSet>[0]));

    const after = (await agent.get('/api/admin/event-signing-keys')).body as { items: Array<{ kid: string; state: string; retiredAt: string | null; expiresAt: string | null; published: boolean }> };
    const old = after.items.find((key) => key.kid === oldKid)!;
    expect(old.state).toBe('retired');
    expect(new Date(old.expiresAt!).getTime() - new Date(old.retiredAt!).getTime()).toBe(RETIRED_KEY_OVERLAP_MS);
    expect(old.published).toBe(true);
    expect(after.items[0]!.kid).toBe(created.kid);

    const audited = (await sql()('audit_events').where({ operation: 'admin.event_signing_key.rotate', resource_id: created.kid })) as Array<{ actor_type: string; admin_id: string | null }>;
    expect(audited).toHaveLength(1);
    expect(audited[0]!.actor_type).toBe('admin');
    expect(audited[0]!.admin_id).toEqual(expect.any(String));
  });

  it('requires a session', async () => {
    const anonymous = await request(`${gateway.url}/api/admin/event-signing-keys`);
    expect(anonymous.status).toBe(401);
  });
});

describe('two signers on one database', () => {
  it('agree: a rotation by one is what the other signs with once it reads the keys again, and both verify in the JWKS', async () => {
    const first = createEventSigner(sql(), { secrets: boxA });
    const second = createEventSigner(sql(), { secrets: boxA });
    const kid = await first.rotate();
    // `second` has not read the keys yet: it reads the newest current one.
    const [a, b] = await Promise.all([first.sign({ jti: randomUUID() }), second.sign({ jti: randomUUID() })]);
    expect(kidOf(a)).toBe(kid);
    expect(kidOf(b)).toBe(kid);
    const keys = createLocalJWKSet((await request(`${gateway.url}/.well-known/jwks.json`)).body as Parameters<typeof createLocalJWKSet>[0]);
    await jwtVerify(a, keys);
    await jwtVerify(b, keys);
  });
});
