import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from '@roster/auth/testing';
import { ADMIN_EMAIL, Agent, startWithAdmin, type Gateway } from './harness.js';

// Admin sign-in through an OIDC provider, end to end against a real node-oidc-provider on 127.0.0.1:
// authorization code + PKCE S256, driven the way a browser would (manual redirects, a cookie jar per origin).
// The IdP's login and consent are answered by its interaction endpoint for whoever `person` names. For ID
// token checks, the IdP's token endpoint can be wrapped to re-sign the ID token with changed claims (with
// the IdP's own key, so only the changed claim is wrong).

const PUBLIC_URL = 'http://roster.test';
const REDIRECT_URI = `${PUBLIC_URL}/api/admin/oidc/callback`;
const CONFIDENTIAL = { clientId: 'roster-admin', clientSecret: 'roster-admin-secret-roster-admin-secret' };
const PUBLIC_CLIENT = { clientId: 'roster-admin-public' };

interface Person {
  email?: string;
  email_verified?: boolean;
}

interface TestIdp {
  issuer: string;
  /** Who logs in at the next interaction (an account id of `people`), or 'refuse' to answer access_denied. */
  person: string;
  people: Record<string, Person>;
  /** Rewrites the claims of the next ID tokens the token endpoint returns. */
  tamper: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined;
  close(): Promise<void>;
}

async function startAuthorizationCodeIdp(): Promise<TestIdp> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const state: Pick<TestIdp, 'person' | 'people' | 'tamper'> = {
    person: 'root',
    people: {
      root: { email: 'Root@Example.COM', email_verified: true },
      stranger: { email: 'stranger@example.com', email_verified: true },
      unverified: { email: ADMIN_EMAIL, email_verified: false },
      silent: { email: ADMIN_EMAIL },
      impostor: { email: ADMIN_EMAIL, email_verified: true },
      anonymous: {},
    },
    tamper: undefined,
  };
  // The provider needs the issuer, which needs the listening server: the handler finds it here once made.
  const ready: { provider?: Provider } = {};
  const server = http.createServer((req, res) => {
    void (async () => {
      const provider = ready.provider;
      if (!provider) throw new Error('provider not ready');
      if (req.url?.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(req, res);
        if (state.person === 'refuse') {
          await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person said no' }, { mergeWithLastSubmission: false });
        } else if (details.prompt.name === 'login') {
          await provider.interactionFinished(req, res, { login: { accountId: state.person } }, { mergeWithLastSubmission: false });
        } else {
          const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
          grant.addOIDCScope(String(details.params.scope));
          await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
        }
        return;
      }
      if (state.tamper && req.method === 'POST' && req.url === '/token' && !req.headers['x-test-passthrough']) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const upstream = await fetch(`${issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': String(req.headers['content-type']), authorization: String(req.headers.authorization ?? ''), 'x-test-passthrough': '1' },
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const json = (await upstream.json()) as Record<string, unknown>;
        if (typeof json.id_token === 'string') {
          const claims = state.tamper(decodeJwt(json.id_token) as Record<string, unknown>);
          json.id_token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).sign(privateKey);
        }
        res.writeHead(upstream.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
        return;
      }
      await provider.callback()(req, res);
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const common = { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code' as const] };
  const provider = new Provider(issuer, {
    clients: [
      { client_id: CONFIDENTIAL.clientId, client_secret: CONFIDENTIAL.clientSecret, token_endpoint_auth_method: 'client_secret_basic', ...common },
      { client_id: PUBLIC_CLIENT.clientId, token_endpoint_auth_method: 'none', ...common },
    ],
    jwks: { keys: [jwk] } as never,
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    cookies: { keys: ['test-cookie-key-test-cookie-key'] },
    findAccount: async (_ctx: KoaContextWithOIDC, id: string) => ({ accountId: id, claims: async () => ({ sub: id, ...state.people[id] }) }),
    interactions: { url: async (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
  });
  provider.proxy = false;
  ready.provider = provider;
  return Object.assign(state, {
    issuer,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Cookies of one origin, as a browser keeps them (path and expiry ignored: enough for one IdP). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

interface Redirect {
  status: number;
  location: string;
  setCookies: string[];
  headers: Headers;
}

async function get(url: string, cookie?: string): Promise<Redirect> {
  const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') ?? '', setCookies: response.headers.getSetCookie(), headers: response.headers };
}

interface StartedFlow {
  /** The callback URL the provider sent the browser to, pointed at the test gateway. */
  callbackUrl: string;
  /** The `roster_oidc_sign_in` cookie set at start. */
  flowCookie: string;
  authorizationUrl: URL;
}

describe('admin sign-in through an OIDC provider', () => {
  let gateway: Gateway;
  let agent: Agent;
  let idp: TestIdp;
  let providerId: string;
  let publicProviderId: string;

  /** A browser: start at the gateway, log in at the IdP, stop at the redirect back to the gateway's callback. */
  async function startFlow(id = providerId, rewrite?: (authorizationUrl: URL) => void): Promise<StartedFlow> {
    const start = await get(`${gateway.url}/api/admin/oidc/${id}/start`);
    expect(start.status).toBe(302);
    const flowCookie = /^roster_oidc_sign_in=([^;]+)/.exec(start.setCookies.find((line) => line.startsWith('roster_oidc_sign_in=')) ?? '')?.[1];
    if (!flowCookie) throw new Error(`no sign-in cookie at start: ${start.location}`);
    const authorizationUrl = new URL(start.location);
    rewrite?.(authorizationUrl);
    const jar = new CookieJar();
    let next = authorizationUrl.href;
    for (let hop = 0; hop < 10; hop += 1) {
      if (next.startsWith(REDIRECT_URI)) return { callbackUrl: `${gateway.url}${next.slice(PUBLIC_URL.length)}`, flowCookie, authorizationUrl };
      const response = await fetch(next, { redirect: 'manual', headers: { cookie: jar.header() } });
      jar.store(response);
      const body = await response.text();
      const location = response.headers.get('location');
      if (!location) throw new Error(`IdP stopped at ${response.status}: ${body.slice(0, 300)}`);
      next = new URL(location, next).href;
    }
    throw new Error('too many redirects at the IdP');
  }

  async function callback(flow: StartedFlow, cookie = `roster_oidc_sign_in=${flow.flowCookie}`, url = flow.callbackUrl): Promise<Redirect> {
    return get(url, cookie);
  }

  async function lastFailure(): Promise<Record<string, unknown>> {
    const row = (await gateway.db.knex('audit_events').where('operation', 'admin.session.oidc_failure').orderBy('id', 'desc').first()) as { detail: Record<string, unknown>; status: number };
    expect(row.status).toBe(401);
    return row.detail;
  }

  function sessionCookieOf(redirect: Redirect): string | undefined {
    return /^roster_session=([^;]+)/.exec(redirect.setCookies.find((line) => line.startsWith('roster_session=')) ?? '')?.[1];
  }

  beforeAll(async () => {
    idp = await startAuthorizationCodeIdp();
    ({ gateway, agent } = await startWithAdmin({ ROSTER_ALLOW_INSECURE_ISSUERS: '1', PUBLIC_URL }));
    const created = await agent.post('/api/admin/auth-providers', { name: 'Corporate IdP', kind: 'oidc', issuer: idp.issuer, ...CONFIDENTIAL, adminSignIn: true });
    expect(created.status).toBe(201);
    providerId = (created.body as { id: string }).id;
    const publicCreated = await agent.post('/api/admin/auth-providers', { name: 'Public client IdP', kind: 'oidc', issuer: idp.issuer, clientId: PUBLIC_CLIENT.clientId, adminSignIn: true });
    expect(publicCreated.status).toBe(201);
    publicProviderId = (publicCreated.body as { id: string }).id;
  });
  afterAll(async () => {
    await gateway?.close();
    await idp?.close();
  });

  it('offers only OIDC providers with a client id and admin sign-in switched on, by name, to anyone, without secrets', async () => {
    const [noClientId] = (await gateway.db.knex('auth_providers')
      .insert({ name: 'Half-configured', kind: 'oidc', issuer: idp.issuer, client_id: null, admin_sign_in: true, metadata: JSON.stringify({ issuer: idp.issuer, jwks_uri: `${idp.issuer}/jwks` }) })
      .returning('id')) as Array<{ id: string }>;
    // A provider added for a SCIM client's JWTs: admin sign-in is off unless switched on (issue 20, item 1).
    const scimOnly = await agent.post('/api/admin/auth-providers', { name: 'SCIM JWT IdP', kind: 'oidc', issuer: idp.issuer, ...CONFIDENTIAL });
    expect(scimOnly.body).toMatchObject({ adminSignIn: false });
    const scimOnlyId = (scimOnly.body as { id: string }).id;
    await gateway.db.knex('auth_providers').insert({ name: 'A SAML IdP', kind: 'saml', issuer: 'urn:saml:idp', metadata: '{}' });
    const response = await new Agent(gateway.url).get('/api/admin/oidc/providers');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toEqual({
      items: [
        { id: providerId, name: 'Corporate IdP' },
        { id: publicProviderId, name: 'Public client IdP' },
      ],
      total: 2,
    });
    const refused = await get(`${gateway.url}/api/admin/oidc/${noClientId!.id}/start`);
    expect(refused).toMatchObject({ status: 302, location: `${PUBLIC_URL}/admin/sign-in?error=provider_not_found`, setCookies: [] });
    expect(await lastFailure()).toEqual({ code: 'provider_not_found', providerId: noClientId!.id, step: 'start' });
    const switchedOff = await get(`${gateway.url}/api/admin/oidc/${scimOnlyId}/start`);
    expect(switchedOff).toMatchObject({ status: 302, location: `${PUBLIC_URL}/admin/sign-in?error=provider_not_found`, setCookies: [] });
    // A SAML provider cannot be switched on; an OIDC one can, and off again.
    const saml = (await gateway.db.knex('auth_providers').where('kind', 'saml').first('id')) as { id: string };
    expect((await agent.patch(`/api/admin/auth-providers/${saml.id}`, { adminSignIn: true })).status).toBe(400);
    expect((await agent.patch(`/api/admin/auth-providers/${scimOnlyId}`, { adminSignIn: 'yes' })).status).toBe(400);
    expect((await agent.patch(`/api/admin/auth-providers/${scimOnlyId}`, { adminSignIn: true })).body).toMatchObject({ adminSignIn: true });
    expect((await agent.delete(`/api/admin/auth-providers/${scimOnlyId}`)).status).toBe(204);
  });

  it('starts with a 302 to the authorization endpoint: code, openid email, state, nonce, PKCE S256, our redirect_uri', async () => {
    const start = await get(`${gateway.url}/api/admin/oidc/${providerId}/start`);
    expect(start.status).toBe(302);
    expect(start.headers.get('cache-control')).toBe('no-store');
    const url = new URL(start.location);
    expect(`${url.origin}${url.pathname}`).toBe(`${idp.issuer}/auth`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CONFIDENTIAL.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid email',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
    });
    expect(start.setCookies).toEqual([expect.stringMatching(/^roster_oidc_sign_in=[A-Za-z0-9_-]{43}; Path=\/api\/admin\/oidc\/; Max-Age=600; HttpOnly; SameSite=Lax$/)]);
    // The server keeps hashes only: neither the state nor the browser binding appears in the table.
    const rows = await gateway.db.knex('admin_oidc_sign_ins').select('state_hash', 'browser_hash', 'auth_provider_id');
    const stored = JSON.stringify(rows);
    expect(stored).toContain(providerId);
    expect(stored).not.toContain(url.searchParams.get('state'));
    expect(stored).not.toContain(/^roster_oidc_sign_in=([^;]+)/.exec(start.setCookies[0]!)![1]);
  });

  it('signs an admin in end to end (email compared case-insensitively): same session cookie, GET /session works', async () => {
    idp.person = 'root';
    const flow = await startFlow();
    const done = await callback(flow);
    expect(done.status).toBe(302);
    expect(done.location).toBe(`${PUBLIC_URL}/admin/`);
    expect(done.setCookies).toEqual([
      'roster_oidc_sign_in=; Path=/api/admin/oidc/; Max-Age=0; HttpOnly; SameSite=Lax',
      expect.stringMatching(/^roster_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/),
    ]);
    const browser = new Agent(gateway.url);
    browser.cookie = sessionCookieOf(done);
    const session = await browser.get('/api/admin/session');
    expect(session.status).toBe(200);
    expect(session.body).toEqual({ id: expect.any(String), email: ADMIN_EMAIL, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    // The same CSRF derivation as a password sign-in: the token works on a mutating call.
    browser.csrfToken = (session.body as { csrfToken: string }).csrfToken;
    expect((await browser.patch('/api/admin/settings', { lockOnRefusedDelete: true })).status).toBe(200);

    const event = (await gateway.db.knex('audit_events').where('operation', 'admin.session.create').orderBy('id', 'desc').first()) as Record<string, unknown>;
    expect(event).toMatchObject({ actor_type: 'admin', admin_id: (session.body as { id: string }).id, status: 200, detail: { method: 'oidc', providerId, providerName: 'Corporate IdP', subject: 'root' } });
    // The started sign-in is gone (single use), by the hash it was stored under.
    const stateHash = createHash('sha256').update(new URL(flow.callbackUrl).searchParams.get('state')!).digest('hex');
    expect(await gateway.db.knex('admin_oidc_sign_ins').where('state_hash', stateHash)).toEqual([]);

    // Replaying the same callback (same state, same cookie) is refused: the state was used.
    const replay = await callback(flow);
    expect(replay).toMatchObject({ status: 302, location: `${PUBLIC_URL}/admin/sign-in?error=state_mismatch` });
    expect(sessionCookieOf(replay)).toBeUndefined();
    expect(await lastFailure()).toEqual({ code: 'state_mismatch', reason: 'unknown, used or foreign state' });
  });

  it('signs in through a public client (no secret: token_endpoint_auth_method none, PKCE only)', async () => {
    idp.person = 'root';
    const done = await callback(await startFlow(publicProviderId));
    expect(done.location).toBe(`${PUBLIC_URL}/admin/`);
    expect(sessionCookieOf(done)).toBeDefined();
  });

  it('refuses an email that is no admin: not_an_admin, no session, audited without code or tokens', async () => {
    idp.person = 'stranger';
    const flow = await startFlow();
    const done = await callback(flow);
    expect(done).toMatchObject({ status: 302, location: `${PUBLIC_URL}/admin/sign-in?error=not_an_admin` });
    expect(sessionCookieOf(done)).toBeUndefined();
    expect(await lastFailure()).toEqual({ code: 'not_an_admin', providerId, subject: 'stranger', email: 'stranger@example.com' });
    const code = new URL(flow.callbackUrl).searchParams.get('code')!;
    const everything = JSON.stringify(await gateway.db.knex('audit_events').select('detail'));
    expect(everything).not.toContain(code);
    expect(everything).not.toContain(flow.flowCookie);
    expect(everything).not.toContain(new URL(flow.callbackUrl).searchParams.get('state'));
  });

  it('refuses an unverified email, an email whose verification is not stated, and a missing email', async () => {
    idp.person = 'unverified';
    expect((await callback(await startFlow())).location).toBe(`${PUBLIC_URL}/admin/sign-in?error=email_unverified`);
    idp.person = 'silent';
    expect((await callback(await startFlow())).location).toBe(`${PUBLIC_URL}/admin/sign-in?error=email_unverified`);
    expect(await lastFailure()).toEqual({ code: 'email_unverified', providerId, subject: 'silent', email: ADMIN_EMAIL, emailVerified: null });
    idp.person = 'anonymous';
    expect((await callback(await startFlow())).location).toBe(`${PUBLIC_URL}/admin/sign-in?error=email_missing`);
  });

  it('binds the admin to (provider, sub) at the first sign-in; later sign-ins match the binding, not the email', async () => {
    // 'root' signed in through providerId above and is bound there.
    const listed = await agent.get('/api/admin/session/oidc-identities');
    expect(listed.status).toBe(200);
    const items = (listed.body as { items: Array<Record<string, unknown>> }).items;
    const binding = items.find((item) => item.providerId === providerId);
    expect(binding).toEqual({ id: expect.any(String), providerId, providerName: 'Corporate IdP', subject: 'root', email: 'Root@Example.COM', createdAt: expect.any(String), lastUsedAt: expect.any(String) });
    // Another account at the provider with the admin's verified email is not the admin.
    idp.person = 'impostor';
    const impostor = await callback(await startFlow());
    expect(impostor).toMatchObject({ status: 302, location: `${PUBLIC_URL}/admin/sign-in?error=identity_mismatch` });
    expect(sessionCookieOf(impostor)).toBeUndefined();
    // The bound person still signs in after changing their email at the provider.
    idp.people.root = { email: 'renamed@example.com', email_verified: true };
    try {
      idp.person = 'root';
      expect((await callback(await startFlow())).location).toBe(`${PUBLIC_URL}/admin/`);
    } finally {
      idp.people.root = { email: 'Root@Example.COM', email_verified: true };
    }
    // The admin removes the binding; removing it again, or another admin's, is 404.
    expect((await agent.delete(`/api/admin/session/oidc-identities/${String(binding!.id)}`)).status).toBe(204);
    expect((await agent.delete(`/api/admin/session/oidc-identities/${String(binding!.id)}`)).status).toBe(404);
    expect(((await agent.get('/api/admin/session/oidc-identities')).body as { items: unknown[] }).items.some((item) => (item as { id: string }).id === binding!.id)).toBe(false);
    const removed = (await gateway.db.knex('audit_events').where('operation', 'admin.oidc_identity.delete').first()) as Record<string, unknown>;
    expect(removed).toMatchObject({ resource_id: binding!.id, detail: { providerId, subject: 'root' } });
    // The next sign-in binds again (with a verified email).
    idp.person = 'root';
    expect((await callback(await startFlow())).location).toBe(`${PUBLIC_URL}/admin/`);
    expect(await gateway.db.knex('admin_oidc_identities').where({ auth_provider_id: providerId, subject: 'root' })).toHaveLength(1);
  });

  it('refuses a tampered state and a callback in another browser, and the genuine callback still works after', async () => {
    idp.person = 'root';
    const flow = await startFlow();
    const tampered = new URL(flow.callbackUrl);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')!.slice(0, -2)}AA`);
    const refused = await callback(flow, undefined, tampered.href);
    expect(refused).toMatchObject({ status: 302, location: `${PUBLIC_URL}/admin/sign-in?error=state_mismatch` });
    expect(sessionCookieOf(refused)).toBeUndefined();

    // Login CSRF: the victim's browser has no sign-in cookie (or another one) for this state.
    const foreign = await callback(flow, '');
    expect(foreign.location).toBe(`${PUBLIC_URL}/admin/sign-in?error=state_mismatch`);
    expect(await lastFailure()).toEqual({ code: 'state_mismatch', reason: 'no sign-in cookie in this browser' });
    const otherBrowser = await callback(flow, `roster_oidc_sign_in=${'A'.repeat(43)}`);
    expect(otherBrowser.location).toBe(`${PUBLIC_URL}/admin/sign-in?error=state_mismatch`);

    const genuine = await callback(flow);
    expect(genuine.location).toBe(`${PUBLIC_URL}/admin/`);
  });

  it('refuses an ID token with a wrong nonce, issuer, audience or expiry: invalid_id_token', async () => {
    idp.person = 'root';
    const cases: Array<[string, (claims: Record<string, unknown>) => Record<string, unknown>]> = [
      ['nonce', (claims) => ({ ...claims, nonce: 'not-the-nonce-we-sent' })],
      ['iss', (claims) => ({ ...claims, iss: 'https://evil.example.com' })],
      ['aud', (claims) => ({ ...claims, aud: 'someone-else' })],
      ['exp', (claims) => ({ ...claims, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })],
    ];
    try {
      for (const [claim, tamper] of cases) {
        idp.tamper = tamper;
        const done = await callback(await startFlow());
        expect(done.location, claim).toBe(`${PUBLIC_URL}/admin/sign-in?error=invalid_id_token`);
        expect(sessionCookieOf(done)).toBeUndefined();
        const detail = await lastFailure();
        expect(detail).toMatchObject({ code: 'invalid_id_token', providerId });
        expect(String(detail.message)).toContain(claim);
      }
    } finally {
      idp.tamper = undefined;
    }
  });

  it('refuses a nonce changed on the way to the provider (the ID token then carries a nonce we never sent)', async () => {
    idp.person = 'root';
    const flow = await startFlow(providerId, (url) => url.searchParams.set('nonce', 'attacker-chosen-nonce'));
    expect((await callback(flow)).location).toBe(`${PUBLIC_URL}/admin/sign-in?error=invalid_id_token`);
  });

  it('reports a refusal at the provider as access_denied', async () => {
    idp.person = 'refuse';
    try {
      const done = await callback(await startFlow());
      expect(done.location).toBe(`${PUBLIC_URL}/admin/sign-in?error=access_denied`);
      expect(await lastFailure()).toMatchObject({ code: 'access_denied', providerError: 'access_denied' });
    } finally {
      idp.person = 'root';
    }
  });

  it('refuses a callback more than ten minutes after the start: sign_in_expired', async () => {
    idp.person = 'root';
    const flow = await startFlow();
    gateway.clock.advance(10 * 60_000 + 1000);
    const done = await callback(flow);
    expect(done.location).toBe(`${PUBLIC_URL}/admin/sign-in?error=sign_in_expired`);
    expect(sessionCookieOf(done)).toBeUndefined();
  });
});
