// The example application (examples/sign-in-app) following Roster's events (RFC 8936 poll, RFC 9967 SCIM
// events), over plain HTTP: no browser, and after signing in nobody asks the app anything, so only an event can
// end a session. A real gateway (the shared fixture: PGlite, or PostgreSQL under TEST_DATABASE_URL), a real
// OpenID Connect provider on loopback, and the app with a poll event stream configured through the admin API.
// Deactivated over SCIM, or deleted over SCIM: the person's session ends by itself. Removed from a group: the
// session stays (the person may still use the app) and the next request shows the groups Roster has now. Every
// wait is for a condition, with a generous bound.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignInApp, type SignInApp } from '@roster/sign-in-app';
import { startGatewayFixture, type Agent, type GatewayFixture } from '../support/fixture.js';
import { SIGN_IN_APP_CLIENT_ID, startSignInIdp, type SignInIdp } from '../support/sign-in-idp.js';
import { waitUntil } from '../support/wait.js';

/**
 * One person's user agent without a browser: a cookie jar, and GET requests that follow redirects across the
 * app and the provider (both on 127.0.0.1, where cookies, as in a browser, do not depend on the port).
 */
class Person {
  private readonly cookies = new Map<string, string>();

  async get(url: string): Promise<{ url: string; status: number; text: string }> {
    let current = url;
    for (let hop = 0; hop < 20; hop++) {
      const response = await fetch(current, { redirect: 'manual', headers: this.cookies.size > 0 ? { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {} });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = '', ...attributes] = cookie.split(';');
        const at = pair.indexOf('=');
        const name = pair.slice(0, at).trim();
        const value = pair.slice(at + 1).trim();
        const expired = attributes.some((attribute) => /^\s*expires=Thu, 01 Jan 1970/i.test(attribute) || /^\s*max-age=0\s*$/i.test(attribute));
        if (expired || value === '') this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer();
        current = new URL(location, current).toString();
        continue;
      }
      return { url: current, status: response.status, text: await response.text() };
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }
}

const groupsOn = (html: string): string[] => [...(/<ul data-testid="groups">(.*?)<\/ul>/.exec(html)?.[1] ?? '').matchAll(/<li>(.*?)<\/li>/g)].map((match) => match[1]!);

describe('example sign-in app following an event stream', () => {
  let gateway: GatewayFixture;
  let agent: Agent;
  let idp: SignInIdp;
  let appServer: http.Server;
  let appUrl: string;
  let signInApp: SignInApp;
  let scimToken: string;
  let streamId: string;
  const pollErrors: unknown[] = [];
  const ids: Record<string, string> = {};
  const people: Record<string, Person> = {};

  async function scim(method: string, path: string, body?: unknown): Promise<{ id: string }> {
    const response = await gateway.scim(method, path, body, { token: scimToken });
    expect(response.status, `${method} ${path}: ${response.text}`).toBeLessThan(300);
    return response.body as { id: string };
  }

  /** Signs `externalId` in through the provider; answers the welcome page. */
  async function signIn(externalId: string): Promise<string> {
    idp.person = externalId;
    const person = (people[externalId] = new Person());
    const landed = await person.get(`${appUrl}/login`);
    expect(landed.url).toBe(`${appUrl}/`);
    expect(landed.text).toContain('data-testid="welcome"');
    return landed.text;
  }

  /** Waits until the stream has nothing left to hand out: every SET so far was polled and acknowledged. */
  async function streamDrained(): Promise<void> {
    await waitUntil('the app to acknowledge every event of its stream', async () => {
      const stream = (await agent.get(`/api/admin/event-streams/${streamId}`)).body as { lag: { events: number } };
      return stream.lag.events === 0 ? true : undefined;
    });
  }

  beforeAll(async () => {
    appServer = http.createServer();
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
    // A polled SET that is not acknowledged is handed out again after the visibility timeout; 1 s keeps a lost
    // acknowledgement from holding the test up.
    [gateway, idp] = await Promise.all([startGatewayFixture({ admin: true, env: { ROSTER_ALLOW_INSECURE_ISSUERS: '1', ROSTER_EVENT_VISIBILITY_MS: '1000' } }), startSignInIdp(`${appUrl}/callback`)]);
    agent = gateway.agent!;

    // What an admin sets up: the provider with the Keycloak mapping, the SCIM client that provisions its users,
    // an application allowed to resolve sign-ins and poll events, and a poll stream of that client's changes.
    const { services } = gateway;
    const provider = await services.authProviders.create({ name: 'Keycloak', kind: 'oidc', issuer: idp.issuer, clientId: SIGN_IN_APP_CLIENT_ID, identityMapping: { preset: 'keycloak' } });
    const client = await services.scimClients.createScimClient({ name: 'Keycloak SCIM', authProviderId: provider.id, authMethod: 'static_token' });
    scimToken = client.token!;
    const application = await agent.post('/api/admin/applications', { name: 'Example app', authMethod: 'static_token', scopes: ['signin.resolve', 'events.poll'] });
    expect(application.status).toBe(201);
    const stream = await agent.post('/api/admin/event-streams', { name: 'Example app sessions', delivery: 'poll', audience: 'sign-in-app', format: 'notice', clientIds: [client.id] });
    expect(stream.status).toBe(201);
    streamId = (stream.body as { id: string }).id;
    expect((await agent.patch('/api/admin/settings', { usersDeletableByAdmins: true })).status).toBe(200);

    for (const [name, externalId] of [['ada', 'kc-ada'], ['bob', 'kc-bob'], ['cy', 'kc-cy']] as const) {
      ids[name] = (await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `${name}@example.com`, externalId, displayName: name.toUpperCase() })).id;
    }
    ids.analysts = (await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Analysts', members: [{ value: ids.ada }, { value: ids.bob }, { value: ids.cy }] })).id;
    ids.engineers = (await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineers', members: [{ value: ids.cy }] })).id;

    signInApp = await createSignInApp({
      rosterUrl: gateway.url,
      rosterCredentials: { token: (application.body as { token: string }).token },
      providerId: provider.id,
      providerName: 'Keycloak',
      issuer: idp.issuer,
      clientId: SIGN_IN_APP_CLIENT_ID,
      publicUrl: appUrl,
      allowInsecureIssuer: true,
      eventStreamId: streamId,
    });
    appServer.on('request', signInApp.app.callback());
    signInApp.startEvents((error) => pollErrors.push(error));
    // The provisioning above reaches the app as events too; none of them ends a session.
    await streamDrained();

    await signIn('kc-ada');
    await signIn('kc-bob');
    expect(groupsOn(await signIn('kc-cy'))).toEqual(['Analysts', 'Engineers']);
    expect(signInApp.sessionCount()).toBe(3);
  });

  afterAll(async () => {
    // The poller first: stop() aborts a poll in flight and resolves once its loop has ended, so nothing of the
    // app is left running when the gateway closes.
    await signInApp?.stop();
    appServer?.closeAllConnections();
    await new Promise<void>((resolve) => (appServer ? appServer.close(() => resolve()) : resolve()));
    await gateway?.close();
    await idp?.close();
  });

  it('ends the session of a person deactivated over SCIM from the event alone', async () => {
    await scim('PATCH', `/Users/${ids.ada}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] });
    // Nobody asks the app anything while waiting: only the deactivate event can end the session.
    await waitUntil('the deactivated person\'s session to end', () => (signInApp.sessionCount() === 2 ? true : undefined));
    // Afterwards: the person is at the start page, and the others are still signed in.
    const page = await people['kc-ada']!.get(`${appUrl}/`);
    expect(page.text).toContain('Sign in with Keycloak');
    expect(page.text).not.toContain('data-testid="welcome"');
    expect((await people['kc-bob']!.get(`${appUrl}/`)).text).toContain('Signed in as BOB');
    expect(signInApp.sessionCount()).toBe(2);
  });

  it('ends the session of a person deleted over SCIM from the event alone', async () => {
    const deleted = await gateway.scim('DELETE', `/Users/${ids.bob}`, undefined, { token: scimToken });
    expect(deleted.status).toBe(204);
    await waitUntil('the deleted person\'s session to end', () => (signInApp.sessionCount() === 1 ? true : undefined));
    expect((await people['kc-bob']!.get(`${appUrl}/`)).text).not.toContain('data-testid="welcome"');
    expect(signInApp.sessionCount()).toBe(1);
  });

  it('keeps the session of a person removed from a group, and shows the groups Roster has now at the next request', async () => {
    await scim('PATCH', `/Groups/${ids.analysts}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: `members[value eq "${ids.cy}"]` }] });
    // The app has read and acknowledged the group's event, and it ended no session: losing a group is not losing
    // access to the app.
    await streamDrained();
    expect(signInApp.sessionCount()).toBe(1);
    const page = await people['kc-cy']!.get(`${appUrl}/`);
    expect(page.text).toContain('Signed in as CY');
    expect(groupsOn(page.text)).toEqual(['Engineers']);
  });

  it('stops its poller cleanly: stop() resolves once the poll loop has ended, the poll in flight aborted, not reported as a failure', async () => {
    await signInApp.stop();
    expect(pollErrors).toEqual([]);
    // A second stop (afterAll's) finds nothing left to stop.
    await signInApp.stop();
  });
});
