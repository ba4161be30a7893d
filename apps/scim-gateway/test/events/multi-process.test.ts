import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, migrateLatest, type Database } from '@roster/db';
import { createScratchPostgresDatabase } from '@roster/db/testing';
import { createChangeLog, createEventStreamService, createSecretBox, parseEncryptionKeys, recordChanges, type ChangeInput, type ChangeLog, type EventStreamService } from '@roster/domain';
import { killAllGateways, startGatewayProcess, type GatewayProcess } from '../reliability/support.js';
import { startSetReceiver, until, type SetReceiver } from './set-receiver.js';

// Issue 18, several processes: two real gateway processes on one PostgreSQL database deliver three push streams.
// Each stream's SETs arrive exactly once and in order while both run; after `kill -9` of the process delivering a
// stream (with a SET in flight), the other takes the stream over once the lease expires and delivers the rest in
// order; only the SET in flight is sent again. Needs PostgreSQL: runs only when TEST_DATABASE_URL is set.

const serverUrl = process.env.TEST_DATABASE_URL;
const ISSUER = 'http://roster.multi.test';
/** Short lease so the takeover is quick in the test; the default is 15 s. */
const LEASE_MS = 3000;
/** Both processes hold the same encryption key: each reads the headers and signing keys the other wrote. */
const ENCRYPTION_KEY = Buffer.alloc(32, 0x3c).toString('base64');

describe.skipIf(!serverUrl)('event delivery with two gateway processes on one PostgreSQL database', () => {
  let scratch: { url: string; drop(): Promise<void> };
  let db: Database;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let changeLog: ChangeLog;
  let streams: EventStreamService;
  const receivers: SetReceiver[] = [];
  const streamIds: string[] = [];

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase(serverUrl!);
    db = await createDatabase({ url: scratch.url, poolMax: 4 });
    await migrateLatest(db.knex);
    const env = { DATABASE_URL: scratch.url, PUBLIC_URL: ISSUER, ROSTER_ALLOW_INSECURE_ISSUERS: '1', ROSTER_EVENT_LEASE_MS: String(LEASE_MS), ROSTER_EVENT_RETRY_BASE_MS: '100', LOG_LEVEL: 'warn', ROSTER_ENCRYPTION_KEY: ENCRYPTION_KEY };
    a = await startGatewayProcess(env);
    b = await startGatewayProcess(env);
    changeLog = createChangeLog(db.knex);
    streams = createEventStreamService(db.knex, { changeLog, allowInsecureEndpoints: true, secrets: createSecretBox(parseEncryptionKeys(ENCRYPTION_KEY)) });
    for (let i = 0; i < 3; i += 1) {
      const receiver = await startSetReceiver({ jwksUrl: `${a.url}/.well-known/jwks.json`, issuer: ISSUER, audience: `app-${i}` });
      receivers.push(receiver);
      streamIds.push((await streams.create({ name: `multi ${i}`, delivery: 'push', endpointUrl: receiver.url, audience: `app-${i}`, format: 'notice', authorizationHeader: `Bearer stream-${i}` })).id);
    }
  }, 120_000);

  afterAll(async () => {
    await killAllGateways();
    for (const receiver of receivers) await receiver.close();
    await changeLog?.close();
    await db?.close();
    await scratch?.drop();
  });

  const deactivate = (id: string): ChangeInput => ({ kind: 'user.deactivated', resourceType: 'User', resourceId: id });

  async function writeConcurrently(count: number): Promise<string[]> {
    const ids: string[] = Array.from({ length: count }, () => randomUUID());
    const order: string[] = [];
    // Four writers at once, one change per transaction: commit order decides the log's order, not position.
    await Promise.all(
      [0, 1, 2, 3].map(async (writer) => {
        for (let i = writer; i < ids.length; i += 4) {
          await db.knex.transaction((trx) => recordChanges(trx, { actor: { type: 'system', id: null } }, [deactivate(ids[i]!)]));
        }
      }),
    );
    // The log's order, once every write is readable (older transactions of other sessions may hold it back).
    await until('the writes to be readable', async () => {
      const page = await changeLog.read({ limit: 10_000 });
      order.length = 0;
      for (const change of page.changes) if (ids.includes(change.resourceId)) order.push(change.resourceId);
      return order.length === ids.length;
    });
    return order;
  }

  const urisOf = (receiver: SetReceiver) => receiver.received.map((set) => set.claims.sub_id!.uri!.slice('/Users/'.length));

  it('delivers every stream exactly once and in the log\'s order while both processes run', async () => {
    const order = await writeConcurrently(120);
    expect(order).toHaveLength(120);
    for (const receiver of receivers) await until('120 SETs', () => receiver.received.length >= 120, 60_000);
    for (const receiver of receivers) {
      expect(urisOf(receiver)).toEqual(order);
      expect(receiver.rejected).toEqual([]);
    }
    // Both processes decrypted each stream's header (sealed by the test with the shared key) and signed with the key
    // whichever of them created first: every SET verified and carried its stream's header.
    receivers.forEach((receiver, i) => expect(new Set(receiver.received.map((set) => set.authorization))).toEqual(new Set([`Bearer stream-${i}`])));
    const signing = (await db.knex('event_signing_keys').pluck('private_jwk')) as string[];
    expect(signing.length).toBeGreaterThanOrEqual(1);
    expect(signing.every((value) => value.startsWith('enc:v1:'))).toBe(true);
    const owners = (await db.knex('event_streams').pluck('lease_owner')) as string[];
    expect(owners.every((owner) => owner && (owner.startsWith(`${a.child.pid}-`) || owner.startsWith(`${b.child.pid}-`)))).toBe(true);
  }, 120_000);

  it('after kill -9 of the delivering process, the other continues within 30 s, in order, resending only the SET in flight', async () => {
    const target = receivers[0]!;
    const before = target.received.length;
    const [row] = (await db.knex('event_streams').where({ id: streamIds[0] }).select('lease_owner')) as Array<{ lease_owner: string }>;
    const victim = row!.lease_owner.startsWith(`${a.child.pid}-`) ? a : b;
    const survivor = victim === a ? b : a;
    // The receiver holds the next SET without answering: it is in flight when the process dies.
    let inFlight: string | undefined;
    target.behave = (_attempt, set) => {
      if (!inFlight) {
        inFlight = set.jti;
        return { kind: 'hang' };
      }
      return { kind: 'accept' };
    };
    const order = await writeConcurrently(30);
    await until('a SET in flight', () => inFlight);
    await victim.kill();
    const killedAt = Date.now();
    await until('30 more SETs', () => target.received.length >= before + 30, 60_000);
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    expect(urisOf(target).slice(before)).toEqual(order);
    // The SET in flight was delivered after the takeover with the same jti; nothing was delivered twice.
    expect(target.received.slice(before)[0]!.jti).toBe(inFlight);
    expect(new Set(target.received.map((set) => set.jti)).size).toBe(target.received.length);
    const [after] = (await db.knex('event_streams').where({ id: streamIds[0] }).select('lease_owner')) as Array<{ lease_owner: string }>;
    expect(after!.lease_owner.startsWith(`${survivor.child.pid}-`)).toBe(true);
    // The other streams kept going too (the survivor took over whatever the victim held). A stream the victim was
    // delivering may get again the SETs whose 202 had arrived but whose record had not been written yet (at most
    // two record batches: one being written while the next fills, RECORD_BATCH = 32 SETs each), with the same
    // jti, right where they were.
    for (const receiver of receivers.slice(1)) await until('the other streams to catch up', () => new Set(urisOf(receiver).slice(before)).size >= 30, 60_000);
    for (const receiver of receivers.slice(1)) {
      const uris = urisOf(receiver).slice(before);
      const once = uris.filter((uri, index) => uris.indexOf(uri) === index);
      expect(once).toEqual(order);
      expect(uris.length - once.length).toBeLessThanOrEqual(64);
    }
  }, 120_000);
});
