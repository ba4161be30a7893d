import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, ADMIN_EMAIL, ADMIN_PASSWORD, UUID, startWithAdmin, type Gateway } from './harness.js';

describe('admin sessions', () => {
  let gateway: Gateway;
  let agent: Agent;
  beforeAll(async () => {
    ({ gateway, agent } = await startWithAdmin());
  });
  afterAll(async () => gateway?.close());

  it('signs in with email and password: 200 {id, email, csrfToken} and an HttpOnly SameSite=Strict cookie on Path=/', async () => {
    const fresh = new Agent(gateway.url);
    const response = await fresh.post('/api/admin/session', { email: ADMIN_EMAIL.toUpperCase(), password: ADMIN_PASSWORD });
    expect(response.status).toBe(200);
    const body = response.body as { id: string; email: string; csrfToken: string };
    expect(body).toEqual({ id: expect.stringMatching(UUID), email: ADMIN_EMAIL, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const [cookie] = response.headers.getSetCookie();
    expect(cookie).toMatch(/^roster_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});
