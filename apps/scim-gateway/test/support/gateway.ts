import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { AdminModel } from '@roster/domain';
import type { RosterApp } from '../../src/app.js';
import type { HttpResponse } from './http.js';
import { startGatewayFixture, type ScimRequestOptions } from './fixture.js';

// The SCIM tests' gateway: the one fixture (./fixture.ts) with a SCIM client holding a static token. Kept for its
// name; new tests may call startGatewayFixture directly.

export interface TestGateway {
  url: string;
  scimUrl: string;
  db: TestDatabase;
  roster: RosterApp;
  /** Every log line the gateway wrote, for tests that scan logs. */
  logs: string[];
  /** A static token of a SCIM client created for the test (data scope "all"). */
  token: string;
  clientId: string;
  providerId: string;
  /** An admin account (without password) for admin-side service calls. */
  adminId: string;
  /** Creates another SCIM client with a static token. */
  addClient(options?: { name?: string; dataScope?: 'all' | 'own' }): Promise<{ clientId: string; token: string }>;
  scim(method: string, path: string, body?: unknown, options?: ScimRequestOptions): Promise<ScimResponse>;
  close(): Promise<void>;
}

export type ScimResponse = HttpResponse;

/** A whole gateway on 127.0.0.1 with a fresh database and one SCIM client holding a static token. */
export async function startTestGateway(env: Record<string, string> = {}, options: { postgres?: NonNullable<Parameters<typeof createTestDatabase>[0]>['postgres'] } = {}): Promise<TestGateway> {
  // `postgres`: pool and timeout settings for tests of the limits (issue 20, item 5).
  const db = options.postgres ? await createTestDatabase({ postgres: options.postgres }) : undefined;
  const gateway = await startGatewayFixture({ env, scimClient: true, ...(db ? { db } : {}) });
  const admin = await AdminModel.query(gateway.db.knex).insert({ email: 'test-admin@example.com' });
  return {
    url: gateway.url,
    scimUrl: gateway.scimUrl,
    db: gateway.db,
    roster: gateway.roster,
    logs: gateway.logs,
    token: gateway.token!,
    clientId: gateway.clientId!,
    providerId: gateway.providerId!,
    adminId: admin.$id() as string,
    addClient: gateway.addClient,
    scim: gateway.scim,
    close: gateway.close,
  };
}
