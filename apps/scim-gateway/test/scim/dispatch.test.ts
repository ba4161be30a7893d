import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let gw: TestGateway;
let userId: string;
beforeAll(async () => {
  gw = await startTestGateway();
  const created = await gw.scim('POST', '/Users', { schemas: [USER], userName: 'dispatch@example.com' });
  expect(created.status).toBe(201);
  userId = (created.body as { id: string }).id;
});
afterAll(async () => gw?.close());

describe('SCIM endpoint dispatch', () => {
  it('matches endpoint names in any case, with doubled and trailing slashes', async () => {
    const response = await fetch(`${gw.url}/SCIM_V2//users/${userId}/`, { headers: { authorization: `Bearer ${gw.token}` } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe(userId);
  });

  it('answers a method an endpoint does not take with 405 and Allow, changing nothing', async () => {
    const response = await gw.scim('DELETE', '/Users');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect(response.body).toEqual({ schemas: [ERROR], status: '405', detail: 'DELETE is not allowed on this SCIM endpoint; use GET, HEAD, POST' });
    const post = await gw.scim('POST', `/Users/${userId}`, { schemas: [USER], userName: 'other@example.com' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, PUT, PATCH, DELETE, OPTIONS');
    expect(Number(((await gw.db.knex('users').count({ count: '*' }).first()) as { count: string | number }).count)).toBe(1);
  });

  it('answers OPTIONS with 204 and Allow', async () => {
    const response = await gw.scim('OPTIONS', `/Users/${userId}`);
    expect(response.status).toBe(204);
    expect(response.headers.get('allow')).toBe('GET, HEAD, PUT, PATCH, DELETE, OPTIONS');
    const discovery = await gw.scim('OPTIONS', '/ServiceProviderConfig');
    expect(discovery.status).toBe(204);
    expect(discovery.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('authenticates before telling which methods an endpoint takes, also on the discovery endpoints', async () => {
    for (const [method, path] of [['PUT', '/Users'], ['OPTIONS', '/Users'], ['POST', '/Schemas'], ['DELETE', '/Nope']] as const) {
      const response = await gw.scim(method, path, undefined, { token: null });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get('allow'), `${method} ${path}`).toBeNull();
    }
    const open = await gw.scim('GET', '/Schemas', undefined, { token: null });
    expect(open.status).toBe(200);
    const head = await gw.scim('HEAD', '/ResourceTypes/User', undefined, { token: null });
    expect(head.status).toBe(200);
  });

  it('answers unknown endpoints with a SCIM 404, and /Me with 501', async () => {
    const unknown = await gw.scim('GET', '/Nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ schemas: [ERROR], status: '404', detail: 'no such SCIM endpoint' });
    const root = await gw.scim('GET', '');
    expect(root.status).toBe(404);
    expect((root.body as { detail: string }).detail).toBe('no such SCIM endpoint: try /scim_v2/ServiceProviderConfig');
    const deeper = await gw.scim('GET', `/Users/${userId}/extra`);
    expect(deeper.status).toBe(404);
    for (const path of ['/Me', '/me/anything/else']) {
      const me = await gw.scim('PATCH', path, {});
      expect(me.status, path).toBe(501);
    }
  });

  it('counts every request under its endpoint template, also when refused before reaching it', async () => {
    await gw.scim('GET', `/Users/${userId}`, undefined, { token: 'wrong' });
    await gw.scim('GET', '/Nope/deeper');
    const metrics = await fetch(`${gw.url}/metrics`);
    const text = await metrics.text();
    expect(text).toContain('roster_http_requests_total{route="/scim_v2/Users/:id",method="GET",status="401",client="none"} 1');
    expect(text).toMatch(/roster_http_requests_total\{route="\/scim_v2\/\*rest",method="GET",status="404",client="[0-9a-f-]+"\} \d+/);
    expect(text).not.toContain(userId);
  });
});
