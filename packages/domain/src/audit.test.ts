import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createAuditService, type AuditEventInput } from './audit.js';

describe('audit service: several events in one statement', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.destroy());

  const event = (n: number, at: Date, detail: Record<string, unknown> = { n }): AuditEventInput => ({
    at,
    actorType: 'scim_client',
    operation: 'scim.user.create',
    resourceType: 'User',
    resourceId: `r${n}`,
    status: 201,
    durationMs: n,
    requestId: `batch-${n}`,
    detail,
  });

  it('writes every event with its own time, in order, in one INSERT', async () => {
    const audit = createAuditService(db.knex);
    const statements: string[] = [];
    const listener = (query: { sql: string }): void => void statements.push(query.sql);
    db.knex.on('query', listener);
    const times = [new Date('2026-11-29T01:00:00.001Z'), new Date('2026-11-29T01:00:00.002Z'), new Date('2026-11-29T01:00:05.000Z')];
    try {
      expect(await audit.recordMany(times.map((at, n) => event(n, at)))).toEqual([]);
    } finally {
      db.knex.off('query', listener);
    }
    expect(statements.filter((sql) => /^insert into "?audit_events"? /i.test(sql))).toHaveLength(1);
    const rows = await db.knex('audit_events').whereLike('request_id', 'batch-%').orderBy('id');
    expect(rows.map((row: { request_id: string }) => row.request_id)).toEqual(['batch-0', 'batch-1', 'batch-2']);
    expect(rows.map((row: { at: Date }) => new Date(row.at).toISOString())).toEqual(times.map((at) => at.toISOString()));
    expect(rows[2]).toMatchObject({ resource_id: 'r2', status: 201, duration_ms: 2, detail: { n: 2 } });
  });

  it('writes the others when the database refuses one event, and names the one it refused', async () => {
    const audit = createAuditService(db.knex);
    const at = new Date('2026-11-29T02:00:00.000Z');
    // jsonb refuses the \u0000 escape (PostgreSQL: "unsupported Unicode escape sequence").
    const refused = event(11, at, { error: 'bad \u0000 byte' });
    const failed = await audit.recordMany([event(10, at), refused, event(12, at)]);
    expect(failed.map((entry) => entry.event)).toEqual([refused]);
    expect(String((failed[0]!.error as Error).message)).toMatch(/unicode|\\u0000/i);
    const written = await db.knex('audit_events').whereIn('request_id', ['batch-10', 'batch-11', 'batch-12']).orderBy('id').pluck('request_id');
    expect(written).toEqual(['batch-10', 'batch-12']);
  });
});
