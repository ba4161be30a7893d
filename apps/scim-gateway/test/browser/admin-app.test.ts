// The admin SPA in a real browser (Debian's chromium through playwright-core) against a real gateway on an
// embedded database and a real OpenID Connect provider on loopback. One journey, in order, as an admin would
// walk it: sign in, add an OIDC provider, create clients and use their credentials from outside, revoke,
// toggle deletion, browse the directory and the activity log. Screenshots of each main screen land in
// test-output/screenshots/ (look at them after a UI change).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { adminDistDir } from '@roster/admin';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { startTestIdentityProvider, type TestIdentityProvider } from '@roster/auth/testing';
import { createApp, type RosterApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../../../test-output/screenshots');
const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const SCIM_JSON = 'application/scim+json';

describe.skipIf(!hasChromium)('admin app in a browser', () => {
  let db: TestDatabase;
  let roster: RosterApp;
  let server: http.Server;
  let origin: string;
  let idp: TestIdentityProvider;
  let browser: Browser;
  let page: Page;
  const browserErrors: string[] = [];

  // Carried from one step to the next, as the admin would.
  let staticToken = '';
  let oauthAccessToken = '';
  const userIds: Record<string, string> = {};

  beforeAll(async () => {
    if (!fs.existsSync(path.join(adminDistDir, 'index.html'))) {
      throw new Error(`The admin app is not built (${adminDistDir}); run \`pnpm --filter @roster/admin build\` (pnpm test does it)`);
    }
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const [database, provider, launched] = await Promise.all([
      createTestDatabase(),
      startTestIdentityProvider(),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      }),
    ]);
    db = database;
    idp = provider;
    browser = launched;

    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    origin = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      PORT: String(port),
      PUBLIC_URL: origin,
      LOG_LEVEL: 'silent',
      ROSTER_ADMIN_EMAIL: ADMIN.email,
      ROSTER_ADMIN_PASSWORD: ADMIN.password,
      ROSTER_ALLOW_INSECURE_ISSUERS: '1',
      // Revocation must show at once, not after the cross-process cache bound.
      ROSTER_CREDENTIAL_CACHE_MS: '0',
    });
    roster = createApp({ config, knex: db.knex, logger: createLogger(config.logLevel), adminDistDir });
    await roster.services.startup();
    server.on('request', roster.app.callback());

    const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (message) => {
      if (message.type() === 'error') browserErrors.push(message.text());
    });
    page.on('pageerror', (error) => browserErrors.push(String(error)));
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await roster?.services.shutdown();
    await db?.destroy();
    await idp?.close();
  });

  async function shot(name: string) {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
  }

  async function scim(method: string, resourcePath: string, token: string, body?: unknown) {
    const response = await fetch(`${origin}/scim_v2${resourcePath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: SCIM_JSON, ...(body ? { 'content-type': SCIM_JSON } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  }

  async function nav(name: string) {
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
  }

  it('signs in and lands on the empty SCIM clients screen', async () => {
    await page.goto(`${origin}/admin/`);
    await page.getByRole('heading', { name: 'Sign in to Roster' }).waitFor();
    await shot('01-sign-in');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('wrong password!!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('incorrect');
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('No SCIM clients configured yet').waitFor();
    await shot('02-clients-empty');
  });

  it('adds an OIDC provider after testing discovery against the real provider', async () => {
    await nav('Authentication providers');
    await page.getByRole('link', { name: '+ OIDC provider' }).click();
    await page.getByLabel('Name').fill('Test IdP');
    await page.getByLabel('Issuer URL').fill(`${idp.issuer}/nowhere`);
    await page.getByRole('button', { name: 'Test discovery' }).click();
    await expect(page.getByTestId('discovery-error').textContent()).resolves.toContain('Discovery failed');
    await page.getByLabel('Issuer URL').fill(idp.issuer);
    await page.getByRole('button', { name: 'Test discovery' }).click();
    const result = page.getByTestId('discovery-result');
    await expect(result.textContent()).resolves.toContain(`${idp.issuer}/jwks`);
    await page.getByLabel('Client ID').fill(idp.audience);
    await shot('03-provider-oidc-form');
    await page.getByRole('button', { name: 'Create provider' }).click();
    await page.getByRole('heading', { name: 'Provider “Test IdP”' }).waitFor();
    await nav('Authentication providers');
    await page.getByRole('link', { name: 'Test IdP' }).waitFor();
    await shot('04-providers');
  });

  it('creates a static-token client, uses the token from the dialog, revokes it in the UI and sees it refused', async () => {
    await nav('SCIM clients');
    await page.getByRole('link', { name: '+ SCIM client' }).click();
    await page.getByRole('heading', { name: 'New SCIM client' }).waitFor();
    await page.getByRole('button', { name: 'Create SCIM client' }).click();
    await page.getByText('Give the client a name.').waitFor();
    await page.getByLabel('Name').fill('Keycloak static');
    await page.getByLabel('Authentication provider').selectOption({ label: 'Test IdP (OIDC)' });
    await shot('05-client-create');
    await page.getByRole('button', { name: 'Create SCIM client' }).click();

    const dialog = page.getByRole('dialog');
    await dialog.getByText('it will not be shown again').waitFor();
    staticToken = await dialog.getByTestId('one-time-token').inputValue();
    expect(staticToken.length).toBeGreaterThan(20);
    await shot('06-one-time-token');
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('heading', { name: 'SCIM client “Keycloak static”' }).waitFor();
    await expect(page.content()).resolves.not.toContain(staticToken);

    // Provision a small directory with the token, from outside the browser.
    for (const [userName, given, family] of [['alice', 'Alice', 'Archer'], ['bob', 'Bob', 'Baker']] as const) {
      const created = await scim('POST', '/Users', staticToken, {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        name: { givenName: given, familyName: family },
        displayName: `${given} ${family}`,
        emails: [{ value: `${userName}@example.com`, primary: true }],
      });
      expect(created.status).toBe(201);
      userIds[userName] = String(created.body!.id);
    }
    const group = await scim('POST', '/Groups', staticToken, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineering',
      members: [{ value: userIds.alice }],
    });
    expect(group.status).toBe(201);
    expect((await scim('GET', '/Users', staticToken)).status).toBe(200);

    const endpoint = await page.getByTestId('scim-endpoint').inputValue();
    expect(endpoint.startsWith(`${origin}/scim_v2`)).toBe(true);
    await page.reload();
    await page.getByTestId('token-table').waitFor();
    await shot('07-client-detail');

    await page.getByRole('button', { name: 'Revoke token' }).click();
    await page.getByRole('dialog').getByText('Revoke this token?').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke', exact: true }).click();
    await page.getByTestId('token-table').getByText('Revoked', { exact: true }).waitFor();
    expect((await scim('GET', '/Users', staticToken)).status).toBe(401);
  });

  it('creates an OAuth client and gets an access token from /oauth/token with the secret shown once', async () => {
    await nav('SCIM clients');
    await page.getByRole('link', { name: '+ SCIM client' }).click();
    await page.getByLabel('Name').fill('Okta OAuth');
    await page.getByLabel('OAuth 2.0 client credentials').check();
    await page.getByLabel('Authentication provider').selectOption({ label: 'Test IdP (OIDC)' });
    await page.getByRole('button', { name: 'Create SCIM client' }).click();
    const dialog = page.getByRole('dialog');
    const clientId = await dialog.getByTestId('one-time-client-id').inputValue();
    const clientSecret = await dialog.getByTestId('one-time-client-secret').inputValue();
    await shot('08-one-time-oauth');
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByTestId('secret-table').waitFor();

    const response = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'scim_v2' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; token_type: string };
    expect(body.token_type.toLowerCase()).toBe('bearer');
    oauthAccessToken = body.access_token;
    expect((await scim('GET', '/Users', oauthAccessToken)).status).toBe(200);
  });

  it('lists both clients and refuses to delete the provider they use, showing why', async () => {
    await nav('SCIM clients');
    const table = page.getByTestId('client-table');
    await table.getByRole('link', { name: 'Okta OAuth' }).waitFor();
    await expect(table.getByRole('row').count()).resolves.toBe(3);
    await shot('09-clients');

    await nav('Authentication providers');
    await page.getByRole('button', { name: 'Delete Test IdP' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(dialog.getByRole('alert').textContent()).resolves.toMatch(/^Delete refused: .+/);
    await shot('10-provider-delete-refused');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Test IdP' }).waitFor();
  });

  it('toggles "User accounts deletable by admins" and SCIM DELETE follows it (403, then 204)', async () => {
    await nav('Settings');
    const toggle = page.getByRole('switch', { name: 'User accounts deletable by admins' });
    expect(await toggle.isChecked()).toBe(false);
    expect((await scim('DELETE', `/Users/${userIds.bob}`, oauthAccessToken)).status).toBe(403);

    await toggle.check();
    await page.getByRole('status').getByText('Saved').waitFor();
    await shot('11-settings');
    // Settings are cached for at most two seconds per process.
    let status = 0;
    for (let attempt = 0; attempt < 30 && status !== 204; attempt++) {
      status = (await scim('DELETE', `/Users/${userIds.bob}`, oauthAccessToken)).status;
      if (status !== 204) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(204);
  });

  it('browses users, a user, groups and a group', async () => {
    await nav('Users');
    await page.getByTestId('user-table').getByRole('link', { name: 'alice' }).waitFor();
    await page.getByLabel('Search users').fill('nobody-matches');
    await page.getByText('No users match.').waitFor();
    await page.getByLabel('Search users').fill('ali');
    await page.getByTestId('user-table').getByRole('link', { name: 'alice' }).waitFor();
    await shot('12-users');
    await page.getByTestId('user-table').getByRole('link', { name: 'alice' }).click();
    await page.getByRole('heading', { level: 1, name: 'Alice Archer' }).waitFor();
    await page.getByRole('link', { name: 'Engineering' }).waitFor();
    await shot('13-user-detail');

    await nav('Groups');
    const row = page.getByTestId('group-table').getByRole('row', { name: /Engineering/ });
    await expect(row.getByRole('cell').nth(1).textContent()).resolves.toBe('1');
    await shot('14-groups');
    await row.getByRole('link', { name: 'Engineering' }).click();
    await page.getByTestId('member-table').getByRole('link', { name: 'alice' }).waitFor();
    await shot('15-group-detail');
  });

  it('shows the activity log with its chart and a working CSV export', async () => {
    await nav('Activity');
    await page.getByTestId('activity-table').getByRole('row').nth(1).waitFor();
    await page.locator('svg.chart rect').first().waitFor();
    await page.getByLabel('Status').selectOption({ label: 'Failed' });
    await page.getByRole('button', { name: 'Apply' }).click();
    // The revoked token's refusal is in the log as a failed request of its client.
    await page.getByTestId('activity-table').getByRole('row', { name: /Keycloak static.*401/ }).first().waitFor();
    await shot('16-activity');
    const href = await page.getByTestId('csv-export').getAttribute('href');
    expect(href).toMatch(/^\/api\/admin\/activity\.csv\?/);
    const csv = await page.request.get(`${origin}${href}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
  });

  it('lists admins and refuses to remove the last one', async () => {
    await nav('Admins');
    await page.getByTestId('admin-table').getByText(ADMIN.email).waitFor();
    expect(await page.getByRole('button', { name: `Remove ${ADMIN.email}` }).isDisabled()).toBe(true);
    await page.getByText('The last admin cannot be removed.').first().waitFor();
    await shot('17-admins');
  });

  it('ran without script errors or Content-Security-Policy violations', () => {
    expect(browserErrors.filter((line) => !/401|Failed to load resource/.test(line))).toEqual([]);
  });
});
