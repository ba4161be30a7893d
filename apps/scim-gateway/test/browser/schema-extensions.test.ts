// The Schema extensions screen in a real browser (issue 22): an admin declares the Entra preset, an
// Entra-shaped create stores the custom attributes, the filter of the issue finds the user, and the user's page
// shows the values. Needs the built admin app and /usr/bin/chromium, like admin-app.test.ts.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { adminDistDir } from '@roster/admin';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createApp, type RosterApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../../../test-output/screenshots');

describe.skipIf(!hasChromium)('schema extensions in the admin app (browser)', () => {
  let db: TestDatabase;
  let roster: RosterApp;
  let server: http.Server;
  let origin: string;
  let browser: Browser;
  let page: Page;
  const browserErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(path.join(adminDistDir, 'index.html'))) {
      throw new Error(`The admin app is not built (${adminDistDir}); run \`pnpm --filter @roster/admin build\` (pnpm test does it)`);
    }
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    [db, browser] = await Promise.all([
      createTestDatabase(),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      }),
    ]);
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    origin = `http://127.0.0.1:${port}`;
    const config = loadConfig({ PORT: String(port), PUBLIC_URL: origin, LOG_LEVEL: 'silent', ROSTER_ADMIN_EMAIL: ADMIN.email, ROSTER_ADMIN_PASSWORD: ADMIN.password });
    roster = createApp({ config, knex: db.knex, logger: createLogger(config.logLevel), adminDistDir });
    await roster.services.startup();
    server.on('request', roster.app.callback());
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'en-US', timezoneId: 'UTC' });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => browserErrors.push(String(error)));
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await roster?.services.shutdown();
    await db?.destroy();
  });

  it('declares the Entra preset, and a provisioned user shows its custom attributes', async () => {
    await page.goto(`${origin}/admin/`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Schema extensions', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Schema extensions' }).waitFor();
    await page.getByRole('button', { name: 'Microsoft Entra ID' }).click();
    expect(await page.getByLabel('Schema URN').inputValue()).toBe(ACME);
    await page.getByRole('button', { name: 'Declare', exact: true }).click();
    await page.getByRole('cell', { name: ACME }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'schema-extensions.png'), fullPage: true });

    // A SCIM client sends the custom attributes as Entra does.
    const provider = (await db.knex('auth_providers').insert({ name: 'Entra', kind: 'saml', metadata: '{}' }).returning('id')) as Array<{ id: string }>;
    const client = await roster.services.scimClients.createScimClient({ name: 'Entra', authProviderId: provider[0]!.id, authMethod: 'static_token', dataScope: 'all' });
    const scim = (method: string, resource: string, body?: unknown) =>
      fetch(`${origin}/scim_v2${resource}`, { method, headers: { authorization: `Bearer ${client.token!}`, 'content-type': 'application/scim+json' }, body: body ? JSON.stringify(body) : undefined });
    const created = await scim('POST', '/Users', { userName: 'costcenter@contoso.com', [ACME]: { costCenter: '4711', badges: [{ value: 'B-1', type: 'door' }] } });
    expect(created.status).toBe(201);
    const found = (await (await scim('GET', `/Users?filter=${encodeURIComponent(`${ACME}:costCenter eq "4711"`)}`)).json()) as { totalResults: number; Resources: Array<{ id: string }> };
    expect(found.totalResults).toBe(1);

    await page.goto(`${origin}/admin/directory/users/${found.Resources[0]!.id}`);
    await page.getByRole('heading', { level: 3, name: ACME }).waitFor();
    await page.getByText('4711', { exact: true }).waitFor();
    expect(browserErrors).toEqual([]);
  });
});
