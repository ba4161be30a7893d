// The example application (examples/sign-in-app) end to end in a real browser (Debian's chromium through
// playwright-core): a real Roster gateway, a real OpenID Connect provider (node-oidc-provider) on loopback and
// the example app. A person provisioned over SCIM signs in with "Sign in with Keycloak" (authorization code +
// PKCE), sees their groups; deactivated over SCIM, their session ends without them doing anything and their
// next sign-in is refused as deactivated; a person Roster does not know is refused as unknown. Every wait is
// for a condition, with a generous bound.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createSignInApp, type SignInApp } from '@roster/sign-in-app';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { SIGN_IN_APP_CLIENT_ID as CLIENT_ID, startSignInIdp, type SignInIdp } from '../support/sign-in-idp.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('example sign-in app in a browser', () => {
  let gateway: TestGateway;
  let idp: SignInIdp;
  let appServer: http.Server;
  let appUrl: string;
  let signInApp: SignInApp;
  let browser: Browser;
  let page: Page;
  let scimToken: string;
  let adaId: string;

  async function scim(method: string, path: string, body?: unknown) {
    const response = await gateway.scim(method, path, body, { token: scimToken });
    expect(response.status).toBeLessThan(300);
    return response.body as { id: string };
  }

  beforeAll(async () => {
    appServer = http.createServer();
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
    const [started, startedIdp, launched] = await Promise.all([
      startTestGateway({ ROSTER_ALLOW_INSECURE_ISSUERS: '1' }),
      startSignInIdp(`${appUrl}/callback`),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      }),
    ]);
    gateway = started;
    idp = startedIdp;
    browser = launched;

    // What an admin sets up: the provider (audience = the app's client id there) with the Keycloak mapping,
    // the SCIM client that provisions its users, and an application allowed to resolve sign-ins.
    const { services } = gateway.roster;
    const provider = await services.authProviders.create({ name: 'Keycloak', kind: 'oidc', issuer: idp.issuer, clientId: CLIENT_ID, identityMapping: { preset: 'keycloak' } });
    const client = await services.scimClients.createScimClient({ name: 'Keycloak SCIM', authProviderId: provider.id, authMethod: 'static_token' });
    scimToken = client.token!;
    const application = await services.applications.create({ name: 'Example app', authMethod: 'static_token', scopes: ['signin.resolve'] });

    signInApp = await createSignInApp({
      rosterUrl: gateway.url,
      rosterCredentials: { token: application.token! },
      providerId: provider.id,
      providerName: 'Keycloak',
      issuer: idp.issuer,
      clientId: CLIENT_ID,
      publicUrl: appUrl,
      allowInsecureIssuer: true,
    });
    appServer.on('request', signInApp.app.callback());

    adaId = (await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada@example.com', externalId: 'kc-ada', displayName: 'Ada Lovelace' })).id;
    await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Analysts', members: [{ value: adaId }] });

    page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await browser?.close();
    await signInApp?.stop();
    appServer?.closeAllConnections();
    await new Promise<void>((resolve) => (appServer ? appServer.close(() => resolve()) : resolve()));
    await gateway?.close();
    await idp?.close();
  });

  it('signs a provisioned person in and shows their groups', async () => {
    await page.goto(appUrl);
    await page.getByRole('link', { name: 'Sign in with Keycloak' }).click();
    await page.getByTestId('welcome').waitFor();
    expect(await page.getByTestId('welcome').textContent()).toBe('Signed in as Ada Lovelace');
    expect(await page.getByTestId('groups').locator('li').allTextContents()).toEqual(['Analysts']);
    expect(signInApp.sessionCount()).toBe(1);
  });

  it('ends the session of a person deactivated over SCIM, and refuses their next sign-in as deactivated', async () => {
    await scim('PATCH', `/Users/${adaId}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] });
    // Nobody touches the page: it finds out by itself and goes back to the start with the reason.
    const notice = page.getByTestId('notice');
    await notice.waitFor();
    expect(await notice.textContent()).toBe('You have been signed out. Your account is deactivated: your organisation has turned off your access.');
    expect(signInApp.sessionCount()).toBe(0);
    expect(await page.getByTestId('welcome').count()).toBe(0);

    await page.getByRole('link', { name: 'Sign in with Keycloak' }).click();
    await page.waitForURL((url) => url.origin === appUrl && url.searchParams.has('notice'));
    expect(await page.getByTestId('notice').textContent()).toBe('Sign-in refused. Your account is deactivated: your organisation has turned off your access.');
    expect(signInApp.sessionCount()).toBe(0);
  });

  it('refuses a person Roster does not know as unknown', async () => {
    idp.person = 'kc-stranger';
    await page.context().clearCookies();
    await page.goto(appUrl);
    await page.getByRole('link', { name: 'Sign in with Keycloak' }).click();
    await page.waitForURL((url) => url.origin === appUrl && url.searchParams.has('notice'));
    expect(await page.getByTestId('notice').textContent()).toBe('Sign-in refused. There is no account for you here (unknown person). Ask your administrator for access.');
    expect(signInApp.sessionCount()).toBe(0);
  });
});
