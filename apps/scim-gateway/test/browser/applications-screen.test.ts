// The admin app's Applications screen and a provider's identity mapping panel in a real browser (chromium
// through playwright-core) against a real gateway: register an application and use its one-time token from
// outside; choose the Entra ID preset and watch the link rebuild finish.
import fs from 'node:fs';
import http from 'node:http';
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
const ADMIN = { email: 'apps-admin@example.com', password: 'correct horse battery staple' };

describe.skipIf(!hasChromium)('applications screen in a browser', () => {
  let db: TestDatabase;
  let roster: RosterApp;
  let server: http.Server;
  let origin: string;
  let idp: TestIdentityProvider;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!fs.existsSync(`${adminDistDir}/index.html`)) throw new Error('The admin app is not built; run `pnpm --filter @roster/admin build` (pnpm test does it)');
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
    const config = loadConfig({ PORT: String(port), PUBLIC_URL: origin, LOG_LEVEL: 'silent', ROSTER_ADMIN_EMAIL: ADMIN.email, ROSTER_ADMIN_PASSWORD: ADMIN.password, ROSTER_ALLOW_INSECURE_ISSUERS: '1' });
    roster = createApp({ config, knex: db.knex, logger: createLogger(config.logLevel), adminDistDir });
    await roster.services.startup();
    server.on('request', roster.app.callback());
    page = await (await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' })).newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${origin}/admin/sign-in`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => !url.pathname.endsWith('/sign-in'));
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await roster?.services.shutdown();
    await db?.destroy();
    await idp?.close();
  });

  it('registers an application whose one-time token works from outside, then deletes it', async () => {
    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByLabel('Name').fill('Intranet');
    await page.getByRole('checkbox', { name: /directory\.read/ }).check();
    await page.getByRole('button', { name: 'Register' }).click();
    const token = await page.getByTestId('one-time-token').inputValue();
    expect(token).toMatch(/^roster_ast_/);
    // Closing before Copy asks first (the one-time dialog's confirmation): the test does not copy, so it
    // confirms, and the token must then be gone from the page.
    const dialog = page.getByRole('dialog', { name: 'Your access token' });
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await expect(dialog.getByTestId('one-time-confirm').textContent()).resolves.toBe('You have not copied the token. Close anyway? It cannot be shown again.');
    await dialog.getByRole('button', { name: 'Close anyway' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = page.getByTestId('application-table').getByRole('row', { name: /Intranet/ });
    await row.waitFor();
    expect(await row.textContent()).toContain('directory.read, signin.resolve');
    expect(await page.content()).not.toContain(token);

    const read = await fetch(`${origin}/scim_v2/Users`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    const write = await fetch(`${origin}/scim_v2/Users`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: '{}' });
    expect(write.status).toBe(403);

    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
  });

  it('sets a provider\'s identity mapping from a preset and shows the rebuild finishing', async () => {
    const provider = await roster.services.authProviders.create({ name: 'Entra', kind: 'oidc', issuer: idp.issuer, clientId: 'roster-app' });
    await page.goto(`${origin}/admin/auth-providers/${provider.id}`);
    const panel = page.getByTestId('identity-mapping');
    await panel.getByRole('button', { name: 'Microsoft Entra ID' }).click();
    expect(await panel.getByLabel('ID token claim').inputValue()).toBe('oid');
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.getByTestId('link-rebuild').filter({ hasText: 'Links rebuilt for 0 users.' }).waitFor();
    expect((await roster.services.authProviders.get(provider.id)).identityMapping).toEqual({ claim: 'oid', attribute: 'externalId' });
  });
});
