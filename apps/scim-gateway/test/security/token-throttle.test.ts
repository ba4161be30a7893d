import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config.js';
import { resolveClientAddress, parseTrustedProxies } from '../../src/middleware/client-address.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// Issue 20, item 3: a stranger cannot lock anyone out of /oauth/token. Failures count per (address, client
// id); a right secret is never refused by the failure throttle; X-Forwarded-For counts only from the hops in
// ROSTER_TRUSTED_PROXIES.

let gw: TestGateway;
let victim: { clientId: string; clientSecret: string };
let other: { clientId: string; clientSecret: string };

beforeAll(async () => {
  gw = await startTestGateway({ ROSTER_TRUSTED_PROXIES: '127.0.0.1/32, ::1' });
  const create = async (name: string) => {
    const created = await gw.roster.services.scimClients.createScimClient({ name, authProviderId: gw.providerId, authMethod: 'oauth_client_credentials' });
    return { clientId: created.clientId!, clientSecret: created.clientSecret! };
  };
  victim = await create('Victim');
  other = await create('Other');
});
afterAll(async () => gw?.close());

async function token(clientId: string, secret: string, forwardedFor?: string): Promise<{ status: number; retryAfter: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${gw.url}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: 'grant_type=client_credentials',
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, unknown> };
}

const WRONG = `roster_cs_${'z'.repeat(43)}`;

describe('the /oauth/token failure throttle', () => {
  it('answers wrong secrets from one (address, client id) with 429 past the limit, and still issues to the right secret', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await token(victim.clientId, WRONG, '203.0.113.7')).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const right = await token(victim.clientId, victim.clientSecret, '203.0.113.7');
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ token_type: 'Bearer', scope: 'scim_v2' });
  });

  it('does not slow the same client from another address, nor another client from the same address', async () => {
    expect((await token(victim.clientId, WRONG, '198.51.100.9')).status).toBe(401);
    expect((await token(victim.clientId, victim.clientSecret, '198.51.100.9')).status).toBe(200);
    expect((await token(other.clientId, WRONG, '203.0.113.7')).status).toBe(401);
    expect((await token(other.clientId, other.clientSecret, '203.0.113.7')).status).toBe(200);
  });

  it('reads X-Forwarded-For from the right, so a client cannot dodge its count by writing a fresh address in front', async () => {
    for (let i = 0; i < 10; i++) await token(other.clientId, WRONG, `10.9.9.${i}, 192.0.2.44`);
    const dodged = await token(other.clientId, WRONG, '10.9.9.99, 192.0.2.44');
    expect(dodged.status).toBe(429);
    expect(Number(dodged.retryAfter)).toBeGreaterThan(0);
  });
});

describe('ROSTER_TRUSTED_PROXIES', () => {
  it('is read once in config and refuses what is not a CIDR list', () => {
    expect(loadConfig({ ROSTER_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8, 192.0.2.1' }).trustedProxies?.cidrs).toEqual(['10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
    expect(loadConfig({}).trustedProxies).toBeUndefined();
    for (const bad of ['10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/1', '::1/129']) {
      expect(() => loadConfig({ ROSTER_TRUSTED_PROXIES: bad })).toThrow(ConfigError);
    }
  });

  it('trusts X-Forwarded-For only from the listed hops', () => {
    const trusted = parseTrustedProxies('10.0.0.0/8');
    // Not from a trusted hop: the header is the client's own words.
    expect(resolveClientAddress('198.51.100.1', '1.2.3.4', trusted)).toBe('198.51.100.1');
    expect(resolveClientAddress('198.51.100.1', '1.2.3.4', undefined)).toBe('198.51.100.1');
    // From the balancer: the nearest untrusted hop, skipping trusted ones.
    expect(resolveClientAddress('::ffff:10.0.0.2', '6.6.6.6, 203.0.113.5, 10.0.0.3', trusted)).toBe('203.0.113.5');
    expect(resolveClientAddress('10.0.0.2', 'garbage, 203.0.113.5', trusted)).toBe('203.0.113.5');
    expect(resolveClientAddress('10.0.0.2', 'garbage', trusted)).toBe('10.0.0.2');
  });
});
