import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AggregateCounts, AuditEventInput, AuditUpkeep } from '@roster/domain';
import { createLogger } from '../logger.js';
import { createAuthFailureLog, type AuthFailure } from './auth-failure-log.js';

// The counting itself, with an injected upkeep that keeps what it is asked to write and a steppable clock.

function setup() {
  const writes: Array<{ key: string; event: AuditEventInput; counts: AggregateCounts }> = [];
  const upkeep = {
    addToAggregate: async (key: string, event: AuditEventInput, counts: AggregateCounts) => void writes.push({ key, event, counts }),
    prune: async () => 0,
  } as AuditUpkeep;
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
  let at = new Date('2026-12-07T10:00:05Z').getTime();
  const log = createAuthFailureLog({ upkeep, logger, now: () => new Date(at), flushMs: 60_000 });
  return { writes, lines, log, advance: (ms: number) => (at += ms) };
}

const failure = (overrides: Partial<AuthFailure> = {}): AuthFailure => ({
  surface: 'scim', address: '192.0.2.1', clientId: null, reason: 'unknown_token', status: 401, method: 'GET', path: '/scim_v2/Users', requestId: 'r1', ...overrides,
});

describe('failed-authentication aggregates', () => {
  it('fold one address and client within a minute into one write with a count, and log once', async () => {
    const { writes, lines, log } = setup();
    for (let i = 0; i < 500; i++) log.record(failure({ reason: i % 2 ? 'unknown_token' : 'missing' }));
    await log.drain();
    expect(writes).toHaveLength(1);
    expect(writes[0]!.counts).toMatchObject({ count: 500, reasons: ['missing', 'unknown_token'] });
    expect(writes[0]!.event).toMatchObject({ operation: 'auth.failure', status: 401, detail: { aggregate: true, address: '192.0.2.1', reason: 'missing' } });
    expect(lines).toHaveLength(1);
    // Later failures in the same minute add to the same key without another log line.
    log.record(failure());
    await log.drain();
    expect(writes.map((write) => write.key)).toEqual([writes[0]!.key, writes[0]!.key]);
    expect(lines).toHaveLength(1);
  });

  it('keep addresses, clients and minutes apart, and cut long paths', async () => {
    const { writes, log, advance } = setup();
    log.record(failure({ path: `/scim_v2/${'x'.repeat(20_000)}` }));
    log.record(failure({ address: '192.0.2.2' }));
    log.record(failure({ clientId: '11111111-1111-4111-8111-111111111111' }));
    advance(60_000);
    log.record(failure());
    await log.drain();
    expect(new Set(writes.map((write) => write.key)).size).toBe(4);
    expect(String(writes[0]!.event.detail?.path).length).toBe(512);
  });
});
