import { describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, startGatewayFixture } from './fixture.js';

// The one way to start a test gateway does what its options say, and close() leaves nothing running.

describe('startGatewayFixture', () => {
  it('with an admin and a SCIM client: the agent is signed in, the client provisions, and the log is captured', async () => {
    const fixture = await startGatewayFixture({ admin: true, scimClient: { name: 'Fixture IdP' } });
    try {
      expect(fixture.config.publicUrl).toBe(fixture.url);
      const session = await fixture.agent!.get('/api/admin/session');
      expect(session.status).toBe(200);
      expect(session.body).toMatchObject({ email: ADMIN_EMAIL });

      const created = await fixture.scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'fixture@example.com' });
      expect(created.status).toBe(201);
      expect(await fixture.scim('GET', '/Users', undefined, { token: null })).toMatchObject({ status: 401 });
      const other = await fixture.addClient({ dataScope: 'own' });
      expect((await fixture.scim('GET', '/Users', undefined, { token: other.token })).body).toMatchObject({ totalResults: 0 });

      expect(fixture.logLines).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/^SCIM authentication failed/), status: 401 }));
      expect(fixture.logs).toHaveLength(fixture.logLines.length);
    } finally {
      await fixture.close();
    }
    await expect(fetch(`${fixture.url}/healthz`)).rejects.toThrow();
  });

  it('without options: no admin, no client; a sibling shares the database and closes on its own', async () => {
    const fixture = await startGatewayFixture({ env: { PUBLIC_URL: 'http://roster.test' }, now: () => new Date('2026-01-01T00:00:00Z') });
    try {
      expect(fixture.agent).toBeUndefined();
      expect(fixture.token).toBeUndefined();
      expect(fixture.config.publicUrl).toBe('http://roster.test');
      const sibling = await fixture.sibling({ PUBLIC_URL: 'https://roster.example.com' });
      expect(sibling.url).not.toBe(fixture.url);
      expect((await fetch(`${sibling.url}/healthz`)).status).toBe(200);
      await sibling.close();
      await expect(fetch(`${sibling.url}/healthz`)).rejects.toThrow();
      expect((await fetch(`${fixture.url}/healthz`)).status).toBe(200);
    } finally {
      await fixture.close();
    }
  });
});
