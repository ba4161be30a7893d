import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createChangeLog, recordChanges } from '../changes/change-log.js';
import { createPollService } from './poll.js';
import { createEventSigner } from './signing-keys.js';
import { createEventStreamService } from './streams.js';
import type { ResourceLoader } from './types.js';

// Poll delivery (RFC 8936) on the database of the run: the embedded one has a single connection, which the poll's
// transaction holds, so everything a poll reads while it builds SETs must be read inside that transaction or
// before it. A read outside it would wait for the connection until the acquire timeout.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.destroy();
});

describe('poll service', () => {
  it('signs the first SET with a key it has not read yet, and reads a full stream\'s resource in the poll\'s transaction', async () => {
    const changeLog = createChangeLog(db.knex);
    const signer = createEventSigner(db.knex);
    const loaded: string[] = [];
    // A loader that reads the database as the gateway's does: through the transaction it is handed.
    const loadResource: ResourceLoader = async (resourceType, id, trx = db.knex) => {
      const row = (await trx.raw('SELECT count(*)::int AS keys FROM event_signing_keys')) as { rows: Array<{ keys: number }> };
      loaded.push(`${resourceType} ${id}`);
      return { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id, userName: 'ada@example.com', keys: row.rows[0]!.keys };
    };
    const poll = createPollService(db.knex, { changeLog, signer, issuer: 'https://roster.test', loadResource, visibilityTimeoutMs: 60_000 });
    const stream = await createEventStreamService(db.knex, { changeLog, allowInsecureEndpoints: false }).create({ name: `full ${randomUUID()}`, delivery: 'poll', audience: 'app', format: 'full' });
    const userId = randomUUID();
    await db.knex.transaction((trx) => recordChanges(trx, { actor: { type: 'system', id: null } }, [{ kind: 'user.created', resourceType: 'User', resourceId: userId }]));

    const answer = await poll.poll(stream.id, { returnImmediately: true, maxEvents: 10 });
    const sets = Object.values(answer.sets);
    expect(sets).toHaveLength(1);
    expect(loaded).toEqual([`User ${userId}`]);
    expect(decodeProtectedHeader(sets[0]!)).toMatchObject({ alg: 'ES256', typ: 'secevent+jwt' });
    expect(decodeJwt(sets[0]!)).toMatchObject({ iss: 'https://roster.test', aud: 'app' });
    expect((await signer.jwks()).keys).toHaveLength(1);
  });
});
