// The admin SPA in a real browser (Debian's chromium through playwright-core) against a real gateway on an
// embedded database and a real OpenID Connect provider on loopback. One journey, in order, as an admin would
// walk it: sign in, add OIDC and SAML providers, create clients and use their credentials from outside,
// rotate and revoke them, toggle deletion, browse the directory and the activity log, manage admins, edit and
// delete clients, and do the main flow with the keyboard alone. Screenshots of each main screen land in
// test-output/screenshots/, also at laptop sizes (look at them after a UI change).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { adminDistDir } from '@roster/admin';
import { startTestIdentityProvider, type TestIdentityProvider } from '@roster/auth/testing';
import { startGatewayFixture, type GatewayFixture } from '../support/fixture.js';
import { waitUntil } from '../support/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../../../test-output/screenshots');
const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const SCIM_JSON = 'application/scim+json';
const SAML_METADATA = fs.readFileSync(path.resolve(import.meta.dirname, '../../../../packages/domain/src/fixtures/saml-idp-metadata.xml'), 'utf8');
const DAY_MS = 24 * 60 * 60 * 1000;
// The context runs in en-US and UTC, so dates read the same on every machine.
const mediumDate = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' });

describe.skipIf(!hasChromium)('admin app in a browser', () => {
  let gateway: GatewayFixture;
  let origin: string;
  let idp: TestIdentityProvider;
  let browser: Browser;
  let page: Page;
  const browserErrors: string[] = [];

  // Carried from one step to the next, as the admin would.
  let staticToken = '';
  let oauthAccessToken = '';
  let oauthClientId = '';
  let oauthClientSecret = '';
  let keyboardClientPath = '';
  const userIds: Record<string, string> = {};

  beforeAll(async () => {
    if (!fs.existsSync(path.join(adminDistDir, 'index.html'))) {
      throw new Error(`The admin app is not built (${adminDistDir}); run \`pnpm --filter @roster/admin build\` (pnpm test does it)`);
    }
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const [started, provider, launched] = await Promise.all([
      startGatewayFixture({
        env: {
          LOG_LEVEL: 'silent',
          ROSTER_ADMIN_EMAIL: ADMIN.email,
          ROSTER_ADMIN_PASSWORD: ADMIN.password,
          ROSTER_ALLOW_INSECURE_ISSUERS: '1',
          // Revocation must show at once, not after the cross-process cache bound.
          ROSTER_CREDENTIAL_CACHE_MS: '0',
        },
        adminDistDir,
      }),
      startTestIdentityProvider(),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      }),
    ]);
    gateway = started;
    origin = gateway.url;
    idp = provider;
    browser = launched;

    const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'en-US', timezoneId: 'UTC' });
    page = await context.newPage();
    // Every wait is for something on the page; the bound only ends one that would never come, so it allows for a
    // machine under full load.
    page.setDefaultTimeout(30_000);
    page.on('console', (message) => {
      if (message.type() === 'error') browserErrors.push(message.text());
    });
    page.on('pageerror', (error) => browserErrors.push(String(error)));
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await idp?.close();
  });

  /** The whole page, or with `{ fullPage: false }` just what the window shows (the laptop views). */
  async function shot(name: string, { fullPage = true } = {}) {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage, animations: 'disabled' });
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

  async function oauthToken(clientId: string, clientSecret: string) {
    const response = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'scim_v2' }),
    });
    return { status: response.status, body: (await response.json()) as { access_token: string; token_type: string } };
  }

  /** What has keyboard focus: its tag, accessible-ish name, whether it sits in an open dialog, and its outline. */
  async function focused() {
    return page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      const style = el ? getComputedStyle(el) : null;
      return {
        tag: el?.tagName.toLowerCase() ?? '',
        text: (el?.getAttribute('aria-label') ?? el?.textContent ?? '').trim(),
        id: el?.id ?? '',
        inDialog: !!el?.closest('dialog[open]'),
        outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : '',
        boxShadow: style?.boxShadow ?? '',
      };
    });
  }

  /** Presses Tab until the focused control has this name (label text, aria-label) or id. */
  async function tabTo(nameOrId: string, limit = 30) {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab');
      const now = await focused();
      if (now.text === nameOrId || now.id === nameOrId) return;
    }
    throw new Error(`"${nameOrId}" not reached with ${limit} presses of Tab`);
  }

  /** Closes a one-time dialog without Copy (headless Chromium has no clipboard): it asks first, then closes. */
  async function closeOneTime(dialog: ReturnType<Page['getByRole']>) {
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.getByTestId('one-time-confirm').waitFor();
    await dialog.getByRole('button', { name: 'Close anyway' }).click();
  }

  async function nav(name: string) {
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
  }

  it('explains a failed sign-in through an identity provider', async () => {
    await page.goto(`${origin}/admin/sign-in?error=not_an_admin`);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('your email address is not on Roster’s admin list');
    // No OIDC provider exists yet: the password form is all there is.
    await expect(page.getByRole('list', { name: 'Sign in through an identity provider' }).count()).resolves.toBe(0);
  });

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
    await expect(page.getByTestId('discovery-error').textContent()).resolves.toContain('This address did not answer as an OpenID Connect issuer.');
    await page.getByLabel('Issuer URL').fill(idp.issuer);
    await page.getByRole('button', { name: 'Test discovery' }).click();
    const result = page.getByTestId('discovery-result');
    await expect(result.textContent()).resolves.toContain(`${idp.issuer}/jwks`);
    await page.getByLabel('Client ID').fill(idp.audience);
    // Admin sign-in through a provider is off until switched on (issue 20, item 1).
    const adminSignIn = page.getByLabel('Allow admins to sign in through this provider');
    await expect(adminSignIn.isChecked()).resolves.toBe(false);
    await adminSignIn.check();
    await shot('03-provider-oidc-form');
    await page.getByRole('button', { name: 'Create provider' }).click();
    await page.getByRole('heading', { name: 'Provider “Test IdP”' }).waitFor();
    await nav('Authentication providers');
    await page.getByRole('link', { name: 'Test IdP' }).waitFor();
    await shot('04-providers');

    // An OIDC provider with a client id and admin sign-in on: the sign-in page links to its start.
    await page.goto(`${origin}/admin/sign-in`);
    const signInWith = page.getByRole('list', { name: 'Sign in through an identity provider' }).getByRole('link', { name: 'Sign in with Test IdP' });
    const start = await signInWith.getAttribute('href');
    expect(start).toMatch(/^\/api\/admin\/oidc\/[0-9a-f-]{36}\/start$/);
    await shot('04a-sign-in-with-provider');
    const redirect = await page.request.get(`${origin}${start}`, { maxRedirects: 0 });
    expect(redirect.status()).toBe(302);
    expect(redirect.headers().location?.startsWith(idp.issuer)).toBe(true);
    await page.goto(`${origin}/admin/auth-providers`);
    await page.getByRole('heading', { level: 1, name: 'Authentication providers' }).waitFor();
  });

  it('adds a SAML provider from pasted metadata and shows what it read from it', async () => {
    await page.getByRole('link', { name: '+ SAML provider' }).click();
    await page.getByRole('heading', { name: 'New SAML provider' }).waitFor();
    await page.getByLabel('Name').fill('Acme SAML');
    await page.getByLabel('Paste the metadata XML').check();
    await page.getByLabel('Metadata XML', { exact: true }).fill(SAML_METADATA);
    await page.getByRole('button', { name: 'Create provider' }).click();
    await page.getByRole('heading', { name: 'Provider “Acme SAML”' }).waitFor();
    const read = page.getByTestId('saml-metadata');
    const values = await read.locator('dd').allTextContents();
    expect(values.map((v) => v.trim())).toEqual([
      'https://idp.example.test/realms/acme',
      // The HTTP-Redirect binding's location (the one an SP-initiated sign-in uses), not the POST one listed first.
      'https://idp.example.test/realms/acme/protocol/saml?binding=redirect&x=1',
      // The signing certificate of the fixture is valid until 2036-11-25 16:25:53 UTC.
      'Nov 25, 2036',
    ]);
    // Stored: the form no longer holds the pasted XML (an empty field keeps it on save).
    expect(await page.getByLabel('Metadata XML', { exact: true }).inputValue()).toBe('');
    await shot('04b-provider-saml');
    await nav('Authentication providers');
    await page.getByTestId('provider-table').getByRole('link', { name: 'Acme SAML' }).waitFor();
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
    await closeOneTime(dialog);
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

  it('adds a second token with a chosen lifetime and lists both', async () => {
    await page.getByRole('button', { name: '+ Token' }).click();
    const form = page.getByRole('dialog', { name: 'New access token' });
    await form.getByLabel('Lifetime').selectOption({ label: '90 days' });
    const earliest = mediumDate.format(new Date(Date.now() + 90 * DAY_MS));
    await form.getByRole('button', { name: 'Create' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your access token' });
    staticToken = await dialog.getByTestId('one-time-token').inputValue();
    await closeOneTime(dialog);
    const latest = mediumDate.format(new Date(Date.now() + 90 * DAY_MS));

    const rows = page.getByTestId('token-table').locator('tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    const cells = await Promise.all([0, 1].map(async (i) => (await rows.nth(i).locator('td').allTextContents()).map((t) => t.trim())));
    const fresh = cells.find((row) => row[4] === 'Active')!;
    expect([earliest, latest]).toContain(fresh[2]);
    expect(cells.find((row) => row[4] === 'Revoked')![2]).toMatch(/^Revoked on /);
    expect((await scim('GET', '/Users', staticToken)).status).toBe(200);
  });

  it('creates an OAuth client and gets an access token from /oauth/token with the secret shown once', async () => {
    await nav('SCIM clients');
    await page.getByRole('link', { name: '+ SCIM client' }).click();
    await page.getByLabel('Name').fill('Okta OAuth');
    await page.getByLabel('OAuth 2.0 client credentials').check();
    await page.getByLabel('Authentication provider').selectOption({ label: 'Test IdP (OIDC)' });
    await page.getByRole('button', { name: 'Create SCIM client' }).click();
    const dialog = page.getByRole('dialog');
    oauthClientId = await dialog.getByTestId('one-time-client-id').inputValue();
    oauthClientSecret = await dialog.getByTestId('one-time-client-secret').inputValue();
    await shot('08-one-time-oauth');
    await closeOneTime(dialog);
    await page.getByTestId('secret-table').waitFor();

    const { status, body } = await oauthToken(oauthClientId, oauthClientSecret);
    expect(status).toBe(200);
    expect(body.token_type.toLowerCase()).toBe('bearer');
    oauthAccessToken = body.access_token;
    expect((await scim('GET', '/Users', oauthAccessToken)).status).toBe(200);
  });

  it('rotates the OAuth client secret: adds a second one, revokes the first, and only the new one works', async () => {
    await page.getByRole('button', { name: '+ Secret' }).click();
    const form = page.getByRole('dialog', { name: 'New client secret' });
    await form.getByLabel('Lifetime').selectOption({ label: '30 days' });
    await form.getByRole('button', { name: 'Create' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your client credentials' });
    expect(await dialog.getByTestId('one-time-client-id').inputValue()).toBe(oauthClientId);
    const newSecret = await dialog.getByTestId('one-time-client-secret').inputValue();
    expect(newSecret).not.toBe(oauthClientSecret);
    await closeOneTime(dialog);

    const table = page.getByTestId('secret-table');
    await expect(table.locator('tbody tr').count()).resolves.toBe(2);
    // Both work during the overlap.
    expect((await oauthToken(oauthClientId, oauthClientSecret)).status).toBe(200);
    expect((await oauthToken(oauthClientId, newSecret)).status).toBe(200);

    // The new one expires within 30 days ("Expires soon"); the first is the one still plainly "Active".
    await table.getByRole('row', { name: /Expires soon/ }).waitFor();
    await table.getByRole('row', { name: /Active/ }).getByRole('button', { name: 'Revoke secret' }).click();
    await page.getByRole('dialog', { name: 'Revoke this secret?' }).getByRole('button', { name: 'Revoke', exact: true }).click();
    await table.getByText('Revoked', { exact: true }).waitFor();
    await shot('08b-secret-rotated');
    expect((await oauthToken(oauthClientId, oauthClientSecret)).status).toBe(401);
    const rotated = await oauthToken(oauthClientId, newSecret);
    expect(rotated.status).toBe(200);
    oauthAccessToken = rotated.body.access_token;
    oauthClientSecret = newSecret;
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
    // Settings are cached for at most two seconds per process: refused (403, nothing deleted) until then.
    const statuses: number[] = [];
    await waitUntil('SCIM DELETE to follow the setting', async () => {
      statuses.push((await scim('DELETE', `/Users/${userIds.bob}`, oauthAccessToken)).status);
      return statuses.at(-1) === 204 ? true : undefined;
    }, { everyMs: 200 });
    expect(statuses.filter((status) => status !== 403 && status !== 204)).toEqual([]);
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
    // The revoked token's refusal is in the log as a failed request of its client. Failed authentications
    // are counted in memory and written as one aggregate row every 5 s (auth-failure-log.ts), and the table
    // is read once per Apply: apply again until the flushed row is there (the bound only ends a row that
    // would never come).
    const refused = page.getByTestId('activity-table').getByRole('row', { name: /Keycloak static.*401/ });
    await waitUntil('the aggregated refusal in the activity log', async () => {
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.getByTestId('activity-table').getByRole('row').nth(1).waitFor();
      return (await refused.count()) > 0 ? true : undefined;
    }, { everyMs: 500 });
    await refused.first().waitFor();
    await shot('16-activity');
    const href = await page.getByTestId('csv-export').getAttribute('href');
    expect(href).toMatch(/^\/api\/admin\/activity\.csv\?/);
    const csv = await page.request.get(`${origin}${href}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
  });

  it('adds and removes an admin, and never removes the last one', async () => {
    await nav('Admins');
    const table = page.getByTestId('admin-table');
    await table.getByText(ADMIN.email).waitFor();
    expect(await page.getByRole('button', { name: `Remove ${ADMIN.email}` }).isDisabled()).toBe(true);
    await page.getByText('The last admin cannot be removed.').first().waitFor();

    await page.getByLabel('Email').fill('second@example.com');
    await page.getByLabel('Initial password').fill('another long password');
    await page.getByRole('button', { name: 'Add admin' }).click();
    await page.getByRole('status').getByText('Admin second@example.com added.').waitFor();
    await expect(table.locator('tbody tr').count()).resolves.toBe(2);
    expect(await page.getByRole('button', { name: `Remove ${ADMIN.email}` }).isDisabled()).toBe(false);
    await shot('17-admins');

    await page.getByRole('button', { name: 'Remove second@example.com' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove admin second@example.com?' });
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await table.getByText('second@example.com').waitFor({ state: 'detached' });
    expect(await page.getByRole('button', { name: `Remove ${ADMIN.email}` }).isDisabled()).toBe(true);

    // The server is the judge: with a stale screen listing two admins (the other was removed elsewhere),
    // removing oneself is refused as the last admin, and the screen catches up.
    await page.getByLabel('Email').fill('third@example.com');
    await page.getByLabel('Initial password').fill('another long password');
    await page.getByRole('button', { name: 'Add admin' }).click();
    await table.getByText('third@example.com').waitFor();
    const session = (await (await page.request.get(`${origin}/api/admin/session`)).json()) as { csrfToken: string };
    const admins = (await (await page.request.get(`${origin}/api/admin/admins`)).json()) as { items: { id: string; email: string }[] };
    const third = admins.items.find((a) => a.email === 'third@example.com')!;
    const removed = await page.request.delete(`${origin}/api/admin/admins/${third.id}`, { headers: { 'X-CSRF-Token': session.csrfToken } });
    expect(removed.status()).toBe(204);
    await page.getByRole('button', { name: `Remove ${ADMIN.email}` }).click();
    const self = page.getByRole('dialog', { name: `Remove admin ${ADMIN.email}?` });
    await self.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(self.getByRole('alert').textContent()).resolves.toContain('The last admin cannot be removed');
    await self.getByRole('button', { name: 'Cancel' }).click();
    await table.getByText('third@example.com').waitFor({ state: 'detached' });
    expect(await page.getByRole('button', { name: `Remove ${ADMIN.email}` }).isDisabled()).toBe(true);
  });

  it('edits a client’s name and data scope, and the scope applies to SCIM at once', async () => {
    await nav('SCIM clients');
    await page.getByTestId('client-table').getByRole('link', { name: 'Okta OAuth' }).click();
    await page.getByRole('heading', { name: 'SCIM client “Okta OAuth”' }).waitFor();
    await page.getByLabel('Name').fill('Okta OAuth (EU)');
    await page.getByLabel('Only its own').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').getByText('Changes saved.').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'SCIM client “Okta OAuth (EU)”' }).waitFor();
    expect(await page.getByLabel('Only its own').isChecked()).toBe(true);
    // It provisioned nobody (bob, whom it deleted, is gone): with "only its own" it now sees no user.
    const list = await scim('GET', '/Users', oauthAccessToken);
    expect(list.status).toBe(200);
    expect(list.body!.totalResults).toBe(0);
  });


  it('deletes a client after a confirmation that says provisioned users stay', async () => {
    await nav('SCIM clients');
    await page.getByTestId('client-table').getByRole('link', { name: 'Keycloak static' }).click();
    await page.getByRole('heading', { name: 'SCIM client “Keycloak static”' }).waitFor();
    await page.getByRole('button', { name: 'Delete client' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete SCIM client “Keycloak static”?' });
    await expect(dialog.textContent()).resolves.toContain('Users and groups it provisioned stay in the directory.');
    await shot('18-client-delete');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'SCIM clients' }).waitFor();
    await expect(page.getByTestId('client-table').getByRole('link').allTextContents()).resolves.toEqual(['Okta OAuth (EU)']);
    expect((await scim('GET', '/Users', staticToken)).status).toBe(401);
    await nav('Users');
    await page.getByTestId('user-table').getByRole('link', { name: 'alice' }).waitFor();
  });

  it('creates a client with the keyboard alone; dialogs keep focus and close on Escape', async () => {
    await nav('SCIM clients');
    await tabTo('+ SCIM client');
    const ring = await focused();
    // A visible focus ring on the focused control.
    expect(ring.outline).toBe('solid 2px');
    await shot('19-keyboard-focus');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New SCIM client' }).waitFor();

    await tabTo('client-name');
    await page.keyboard.type('Keyboard client');
    // The guide's order: name, authentication provider, authentication method.
    await page.keyboard.press('Tab');
    expect((await focused()).id).toBe('client-provider');
    await page.keyboard.type('Test');
    expect(await page.locator('#client-provider option:checked').textContent()).toBe('Test IdP (OIDC)');
    await page.keyboard.press('Tab'); // authentication method (radio group): the arrow keys choose
    await page.keyboard.press('ArrowDown');
    expect(await page.getByLabel('OAuth 2.0 client credentials').isChecked()).toBe(true);
    await page.keyboard.press('ArrowUp');
    expect(await page.getByLabel('Static access token').isChecked()).toBe(true);
    await page.keyboard.press('Tab'); // data scope
    await page.keyboard.press('Tab');
    expect((await focused()).text).toBe('Create SCIM client');
    await page.keyboard.press('Enter');

    const dialog = page.getByRole('dialog', { name: 'Your access token' });
    await dialog.getByTestId('one-time-token').waitFor();
    // Focus starts inside the dialog and cycles there, both ways.
    expect((await focused()).inDialog).toBe(true);
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      expect((await focused()).inDialog).toBe(true);
    }
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Shift+Tab');
      expect((await focused()).inDialog).toBe(true);
    }
    // Escape before Copy asks first (the token would be gone); Escape again closes.
    await page.keyboard.press('Escape');
    await dialog.getByTestId('one-time-confirm').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('heading', { name: 'SCIM client “Keyboard client”' }).waitFor();
    keyboardClientPath = new URL(page.url()).pathname;

    // A confirmation dialog: opened from the keyboard, closed with Escape, focus back on its opener.
    await page.getByRole('button', { name: 'Revoke token' }).focus();
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('dialog', { name: 'Revoke this token?' });
    await confirm.waitFor();
    expect(await focused()).toMatchObject({ inDialog: true, text: 'Cancel' });
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    expect((await focused()).text).toBe('Revoke token');
    await expect(page.getByTestId('token-table').getByText('Active', { exact: true }).count()).resolves.toBe(1);
  });

  it('fits laptop screens: no page-wide horizontal scrolling, tables scroll inside their card', async () => {
    const screens = [
      ['clients', '/admin/clients'],
      ['client-detail', keyboardClientPath],
      ['users', '/admin/directory/users'],
      ['activity', '/admin/activity'],
    ] as const;
    for (const [width, height] of [[1280, 720], [1024, 700]] as const) {
      await page.setViewportSize({ width, height });
      for (const [name, url] of screens) {
        await page.goto(`${origin}${url}`);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await page.locator('table').first().waitFor();
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${name} at ${width}x${height}`).toBeLessThanOrEqual(0);
        const nav = await page.getByRole('navigation', { name: 'Main navigation' }).boundingBox();
        expect(nav!.width, 'sidebar keeps its width').toBeGreaterThan(150);
        await shot(`laptop-${width}x${height}-${name}`, { fullPage: false });
      }
    }
    await page.setViewportSize({ width: 1366, height: 860 });
  });

  it('ran without script errors or Content-Security-Policy violations', () => {
    expect(browserErrors.filter((line) => !/401|Failed to load resource/.test(line))).toEqual([]);
  });
});
