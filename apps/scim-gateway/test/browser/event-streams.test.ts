// The Event streams screens in a real browser (Debian's chromium through playwright-core) against a real gateway
// on the embedded database and a real SET receiver: create a push stream, see it deliver, send a test event,
// pause and resume it, read the delivery log and the receiver's setup values, and create a poll stream whose
// token is shown once. Screenshots land in test-output/screenshots/.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { adminDistDir } from '@roster/admin';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { recordChanges } from '@roster/domain';
import { createApp, type RosterApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startSetReceiver, until, type SetReceiver } from '../events/set-receiver.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../../../test-output/screenshots');
const ADMIN = { email: 'events-admin@example.com', password: 'correct horse battery staple' };

describe.skipIf(!hasChromium)('event streams screens in a browser', () => {
  let db: TestDatabase;
  let roster: RosterApp;
  let server: http.Server;
  let origin: string;
  let browser: Browser;
  let page: Page;
  let receiver: SetReceiver;
  const browserErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `events-${name}.png`), fullPage: true });

  beforeAll(async () => {
    if (!fs.existsSync(path.join(adminDistDir, 'index.html'))) throw new Error(`The admin app is not built (${adminDistDir}); run \`pnpm --filter @roster/admin build\``);
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
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = loadConfig({ PUBLIC_URL: origin, LOG_LEVEL: 'silent', ROSTER_ADMIN_EMAIL: ADMIN.email, ROSTER_ADMIN_PASSWORD: ADMIN.password, ROSTER_ALLOW_INSECURE_ISSUERS: '1', ROSTER_ENCRYPTION_KEY: Buffer.alloc(32, 0x42).toString('base64') });
    roster = createApp({ config, knex: db.knex, logger: createLogger(config.logLevel), adminDistDir });
    await roster.services.startup();
    server.on('request', roster.app.callback());
    receiver = await startSetReceiver({ jwksUrl: `${origin}/.well-known/jwks.json`, issuer: origin, audience: 'crm' });
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'en-US', timezoneId: 'UTC' });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (message.type() === 'error') browserErrors.push(message.text());
    });
    page.on('pageerror', (error) => browserErrors.push(String(error)));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await roster?.services.shutdown();
    await db?.destroy();
  });

  it('creates a push stream, delivers, tests, pauses and resumes it, and shows its delivery log and receiver values', async () => {
    await page.goto(`${origin}/admin/sign-in`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Event streams' }).click();
    await page.getByText('No event streams yet.').waitFor();
    await shot('01-empty');

    await page.getByRole('link', { name: 'Add event stream' }).first().click();
    await page.getByRole('heading', { name: 'New event stream' }).waitFor();
    await page.getByTestId('event-stream-submit').click();
    await page.getByText('Enter a name.').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('CRM');
    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByLabel('Audience', { exact: true }).fill('crm');
    await page.getByLabel('Authorization header (optional)').fill('Bearer crm-secret');
    await shot('02-create');
    await page.getByTestId('event-stream-submit').click();
    await page.getByRole('heading', { name: 'CRM' }).waitFor();
    expect(await page.getByTestId('stream-state').textContent()).toBe('Active');
    expect(await page.getByTestId('receiver-jwks').inputValue()).toBe(`${origin}/.well-known/jwks.json`);
    expect(await page.getByTestId('verify-example').textContent()).toContain(`issuer: '${origin}'`);
    expect(await page.content()).not.toContain('crm-secret');
    // Stored encrypted (ROSTER_ENCRYPTION_KEY), decrypted only to send it.
    const stored = (await db.knex('event_streams').where({ name: 'CRM' }).first()) as { authorization_header: string };
    expect(stored.authorization_header).toMatch(/^enc:v1:/);

    await page.getByTestId('stream-test').click();
    await expect(page.getByTestId('stream-notice').textContent()).resolves.toBe('Test event accepted (202).');
    expect(receiver.received[0]!.authorization).toBe('Bearer crm-secret');

    const user = randomUUID();
    await db.knex.transaction((trx) => recordChanges(trx, { actor: { type: 'system', id: null } }, [{ kind: 'user.deactivated', resourceType: 'User', resourceId: user }]));
    await until('the SET', () => receiver.received.some((set) => set.claims.sub_id?.uri === `/Users/${user}`));
    const streamId = (await roster.services.events.streams.list()).items[0]!.id;
    await until('its record', async () => (await roster.services.events.streams.deliveries(streamId)).total >= 2);
    await page.reload();
    await page.getByTestId('delivery-table').getByText(`/Users/${user}`).waitFor();
    await shot('03-detail');

    await page.getByTestId('stream-pause').click();
    await expect.poll(() => page.getByTestId('stream-state').textContent()).toBe('Paused');
    await page.getByTestId('stream-resume').click();
    await expect.poll(() => page.getByTestId('stream-state').textContent()).toBe('Active');

    await page.getByRole('link', { name: 'Event streams' }).first().click();
    const row = page.getByTestId('event-stream-table').getByRole('row', { name: /CRM/ });
    await row.waitFor();
    expect(await row.getByTestId('stream-state').textContent()).toBe('Active');
    expect(await row.getByTestId('stream-lag').textContent()).toBe('Up to date');
    await shot('04-index');
  });

  it('creates a poll stream and shows its token once', async () => {
    await page.getByRole('link', { name: 'Add event stream' }).first().click();
    await page.getByLabel('Name', { exact: true }).fill('Mobile app');
    await page.getByTestId('delivery-poll').check();
    await page.getByLabel('Audience', { exact: true }).fill('mobile');
    await page.getByTestId('event-stream-submit').click();
    const dialog = page.getByRole('dialog');
    const token = await dialog.getByTestId('one-time-token').inputValue();
    expect(token).toMatch(/^roster_ev_/);
    await shot('05-poll-token');
    // Closing before Copy asks first (the one-time dialog's confirmation): the test does not copy, so it
    // confirms, and the token must then be gone from the page.
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await expect(dialog.getByTestId('one-time-confirm').textContent()).resolves.toBe('You have not copied the token. Close anyway? It cannot be shown again.');
    await dialog.getByRole('button', { name: 'Close anyway' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('heading', { name: 'Mobile app' }).waitFor();
    expect(await page.content()).not.toContain(token);
    // Resource load failures (the favicon, the 401 of the session check before sign-in) are not script errors.
    expect(browserErrors.filter((line) => !/Failed to load resource/.test(line))).toEqual([]);
  });

  it('lists the signing keys and rotates one behind a confirm; new SETs carry the new kid and the old key stays published', async () => {
    await page.getByRole('link', { name: 'Event streams' }).first().click();
    const panel = page.getByTestId('signing-keys');
    await panel.getByTestId('signing-key-table').waitFor();
    const before = await panel.getByTestId('signing-key-state').allTextContents();
    expect(before).toEqual(['Current']);
    const oldKid = (await roster.services.events.signer.list())[0]!.kid;

    await panel.getByTestId('signing-key-rotate').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('A new key signs every SET from now on.', { exact: false }).waitFor();
    await shot('06-rotate-confirm');
    await dialog.getByRole('button', { name: 'Rotate signing key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const notice = await panel.getByTestId('signing-key-notice').textContent();
    const newKid = /New signing key (\S+) is current\./.exec(notice ?? '')![1]!;
    expect(newKid).not.toBe(oldKid);
    await expect.poll(() => panel.getByTestId('signing-key-state').allTextContents()).toEqual(['Current', 'Retired']);
    await shot('07-rotated');

    const jwks = (await (await fetch(`${origin}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
    expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    // The delivery worker's signer: the next SET carries the new kid and verifies against the published keys. (Not
    // through the receiver here: its JWKS cache refetches an unknown kid only after jose's cooldown, a clock.)
    const set = await roster.services.events.signer.sign({ jti: randomUUID(), iss: origin });
    const verified = await jwtVerify(set, createLocalJWKSet(jwks), { issuer: origin });
    expect(verified.protectedHeader.kid).toBe(newKid);
    expect(browserErrors.filter((line) => !/Failed to load resource/.test(line))).toEqual([]);
  });
});
