import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '@roster/db';
import { createChangeLog, createEventStreamService, recordChanges, type ChangeInput, type ChangeLog } from '@roster/domain';
import { killAllGateways, privatePostgresAvailable, startGatewayProcess, startPrivatePostgres, type GatewayProcess, type PrivatePostgres } from '../reliability/support.js';
import { startSetReceiver, until, type SetReceiver } from './set-receiver.js';

// Issue 18, PostgreSQL restart: delivery pauses while the database is down and resumes from the stream's recorded
// place when it is back, in order, nothing lost. Uses a PRIVATE PostgreSQL server (own data directory and port):
// the machine's shared server is never stopped. Runs in the PostgreSQL pass (TEST_DATABASE_URL set).

const enabled = Boolean(process.env.TEST_DATABASE_URL) && privatePostgresAvailable();
const ISSUER = 'http://roster.restart.test';

describe.skipIf(!enabled)('event delivery across a PostgreSQL restart', () => {
  let pg: PrivatePostgres;
  let db: Database;
  let gateway: GatewayProcess;
  let receiver: SetReceiver;
  let changeLog: ChangeLog;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    gateway = await startGatewayProcess({ DATABASE_URL: pg.url, PUBLIC_URL: ISSUER, ROSTER_ALLOW_INSECURE_ISSUERS: '1', ROSTER_EVENT_RETRY_BASE_MS: '100', LOG_LEVEL: 'warn' });
    db = await createDatabase({ url: pg.url, poolMax: 2 });
    changeLog = createChangeLog(db.knex);
    receiver = await startSetReceiver({ jwksUrl: `${gateway.url}/.well-known/jwks.json`, issuer: ISSUER, audience: 'restart-app' });
    const streams = createEventStreamService(db.knex, { changeLog, allowInsecureEndpoints: true });
    await streams.create({ name: 'restart', delivery: 'push', endpointUrl: receiver.url, audience: 'restart-app', format: 'notice' });
  }, 120_000);

  afterAll(async () => {
    await killAllGateways();
    await receiver?.close();
    await changeLog?.close();
    await db?.close();
    pg?.destroy();
  });

  const record = (ids: string[]) =>
    db.knex.transaction((trx) =>
      recordChanges(
        trx,
        { actor: { type: 'system', id: null } },
        ids.map((id): ChangeInput => ({ kind: 'user.deactivated', resourceType: 'User', resourceId: id })),
      ),
    );
  const uris = () => receiver.received.map((set) => set.claims.sub_id!.uri!.slice('/Users/'.length));

  it('stops while the database is down and delivers everything in order after it is back', async () => {
    const before = Array.from({ length: 5 }, () => randomUUID());
    for (const id of before) await record([id]);
    await until('the first five SETs', () => receiver.received.length >= 5, 60_000);

    // Fast shutdown ends every connection, the gateway's LISTEN connection and its pool included.
    await changeLog.close();
    pg.stop('fast');
    pg.start();
    changeLog = createChangeLog(db.knex);

    const after = Array.from({ length: 5 }, () => randomUUID());
    // The test's own pool may hold a dead connection from before the restart: retry the first write.
    await until('a write after the restart', async () => {
      try {
        await record([after[0]!]);
        return true;
      } catch {
        return false;
      }
    });
    for (const id of after.slice(1)) await record([id]);
    await until('all ten SETs', () => receiver.received.length >= 10, 60_000);
    expect(uris()).toEqual([...before, ...after]);
    expect(receiver.rejected).toEqual([]);
    // The same process delivered before and after: it rode out the restart.
    expect(gateway.child.exitCode).toBeNull();
  }, 120_000);
});
