import type { TestDatabase } from '@roster/db/testing';
import type { Config } from '../../src/config.js';
import type { Services } from '../../src/services.js';
import { Agent } from '../support/agent.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startGatewayFixture } from '../support/fixture.js';
import type { HttpResponse } from '../support/http.js';

export { Agent } from '../support/agent.js';
export { ADMIN_EMAIL, ADMIN_PASSWORD } from '../support/fixture.js';

// The admin API tests' gateway: the one fixture (../support/fixture.ts) with a steppable clock, PUBLIC_URL
// http://roster.test and the log as parsed JSON lines. Kept for its names; new tests may use the fixture directly.

export class TestClock {
  constructor(private current = new Date('2026-11-28T12:00:00.000Z')) {}
  now = (): Date => new Date(this.current.getTime());
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export type TestResponse = HttpResponse;

export interface Gateway {
  url: string;
  db: TestDatabase;
  config: Config;
  services: Services;
  clock: TestClock;
  logLines: Array<Record<string, unknown>>;
  /** Another gateway process on the same database (e.g. with another PUBLIC_URL). */
  sibling(env: Record<string, string>): Promise<{ url: string; services: Services; close(): Promise<void> }>;
  close(): Promise<void>;
}

export async function startGateway(options: { env?: Record<string, string>; db?: TestDatabase } = {}): Promise<Gateway> {
  const clock = new TestClock();
  const gateway = await startGatewayFixture({ db: options.db, env: { PUBLIC_URL: 'http://roster.test', ...options.env }, now: clock.now, startup: false });
  return {
    url: gateway.url,
    db: gateway.db,
    config: gateway.config,
    services: gateway.services,
    clock,
    logLines: gateway.logLines,
    sibling: (env) => gateway.sibling({ PUBLIC_URL: 'http://roster.test', ...env }),
    close: gateway.close,
  };
}

/** A gateway with one admin (made through ROSTER_ADMIN_EMAIL/PASSWORD at startup) and a signed-in agent. */
export async function startWithAdmin(env: Record<string, string> = {}): Promise<{ gateway: Gateway; agent: Agent }> {
  const gateway = await startGateway({ env: { ROSTER_ADMIN_EMAIL: ADMIN_EMAIL, ROSTER_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env } });
  await gateway.services.startup();
  const agent = new Agent(gateway.url);
  const signedIn = await agent.signIn(ADMIN_EMAIL, ADMIN_PASSWORD);
  if (signedIn.status !== 200) throw new Error(`sign-in failed: ${signedIn.status} ${signedIn.text}`);
  return { gateway, agent };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An OIDC provider row written directly (no discovery), for tests that need SCIM clients. */
export async function insertProvider(gateway: Gateway, name = 'Test IdP'): Promise<string> {
  const [row] = (await gateway.db.knex('auth_providers')
    .insert({ name, kind: 'oidc', issuer: `https://idp.example.com/${encodeURIComponent(name)}`, client_id: 'roster', client_secret: 'provider-secret-value', metadata: JSON.stringify({ issuer: 'https://idp.example.com', jwks_uri: 'https://idp.example.com/jwks' }) })
    .returning('id')) as Array<{ id: string }>;
  return row!.id;
}
