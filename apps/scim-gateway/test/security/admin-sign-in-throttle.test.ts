import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, ADMIN_EMAIL, ADMIN_PASSWORD, startWithAdmin, type Gateway } from '../admin-api/harness.js';

// Issue 20, item 8: the admin sign-in throttle keys on the admin's id found by the lookup (one case folding),
// slows per (address, admin) so a stranger cannot lock an admin out from elsewhere, and keeps an address-wide
// limit only for emails that name nobody. Addresses are told apart through ROSTER_TRUSTED_PROXIES.

let gateway: Gateway;
let rootId: string;
beforeAll(async () => {
  let agent: Agent;
  ({ gateway, agent } = await startWithAdmin({ ROSTER_TRUSTED_PROXIES: '127.0.0.1, ::1' }));
  rootId = ((await agent.get('/api/admin/session')).body as { id: string }).id;
});
afterAll(async () => gateway?.close());

function signIn(from: string, email: string, password: string) {
  return new Agent(gateway.url).request('POST', '/api/admin/session', { json: { email, password }, headers: { 'x-forwarded-for': from } });
}

describe('admin sign-in throttle', () => {
  it('counts every spelling of one admin email against that admin, and slows only the address the failures came from', async () => {
    const email = 'victim@example.com';
    const password = 'victim password 12';
    expect((await gateway.services.admins.create({ email, password }, rootId)).ok).toBe(true);
    const spellings = ['victim@example.com', 'VICTIM@example.com', 'Victim@Example.com', 'vIctim@example.COM', ' victim@example.com'.trim()];
    for (const spelling of spellings) expect((await signIn('203.0.113.66', spelling, 'wrong password!')).status).toBe(401);
    // The sixth attempt from that address is slowed whatever the spelling, the right password included ...
    for (const spelling of ['victim@example.com', 'VICTIM@EXAMPLE.COM']) {
      const blocked = await signIn('203.0.113.66', spelling, password);
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('retry-after')).toBe('30');
    }
    // ... and a spelling PostgreSQL folds onto the same admin (U+0130 under most locales) is the same key.
    const { rows } = (await gateway.db.knex.raw("SELECT lower('vİctim@example.com') = lower('victim@example.com') AS folds")) as { rows: Array<{ folds: boolean }> };
    const folds = rows[0]!.folds;
    expect((await signIn('203.0.113.66', 'vİctim@example.com', password)).status).toBe(folds ? 429 : 401);
    // The admin at another address is not locked out by the stranger's failures.
    expect((await signIn('198.51.100.20', email, password)).status).toBe(200);
  });

  it('limits an address only for emails that name nobody', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await signIn('192.0.2.99', `nobody${i}@example.com`, 'guessing passwords')).status);
    expect(statuses.slice(0, 20).every((status) => status === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
    expect((await signIn('192.0.2.99', ADMIN_EMAIL, ADMIN_PASSWORD)).status).toBe(200);
  });

  it('a right password clears the count of that admin at that address only', async () => {
    for (let i = 0; i < 4; i++) expect((await signIn('192.0.2.10', ADMIN_EMAIL, 'wrong password!')).status).toBe(401);
    expect((await signIn('192.0.2.10', ADMIN_EMAIL, ADMIN_PASSWORD)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await signIn('192.0.2.10', ADMIN_EMAIL, 'wrong password!')).status).toBe(401);
    expect((await signIn('192.0.2.10', ADMIN_EMAIL, ADMIN_PASSWORD)).status).toBe(200);
  });
});
