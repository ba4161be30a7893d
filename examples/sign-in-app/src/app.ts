import { randomBytes } from 'node:crypto';
import Koa, { type Context } from 'koa';
import * as oidc from 'openid-client';
import { createRosterClient, startEventPoller, type Credentials, type GroupRef, type Poller, type SecurityEvent, type SignInResolution } from '@roster/client';

// An application that signs people in through the authentication provider Roster links to its SCIM client,
// the way docs/applications.md describes:
//   1. "Sign in with <provider>": OpenID Connect authorization code flow with PKCE (openid-client).
//   2. The ID token goes to Roster's sign-in resolution, which verifies it against the provider's keys and
//      answers found / inactive / unknown / ambiguous; only `found` starts a session.
//   3. Every request of a session asks Roster again (by the verified claims), so a person deactivated over
//      SCIM loses the session at their next request; the page asks every second.
//   4. With an event stream (RFC 8936 poll, scope events.poll), sessions of people Roster reports deactivated or
//      deleted end as the events arrive, without waiting for a request.
// Sessions live in this process's memory: enough for an example, not for several processes.

export interface SignInAppOptions {
  /** Roster's PUBLIC_URL. */
  rosterUrl: string;
  /** An application credential with the signin.resolve scope (and events.poll for `eventStreamId`). */
  rosterCredentials: Credentials;
  /** The authentication provider in Roster (its id) and its name for the button. */
  providerId: string;
  providerName: string;
  /** The same provider as OpenID Connect sees it: issuer and this application's client there. */
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  /** Where this application is reached, e.g. http://127.0.0.1:3000 (the redirect URI is publicUrl + /callback). */
  publicUrl: string;
  /** Development and tests only: an http:// issuer. */
  allowInsecureIssuer?: boolean;
  /** An RFC 8936 poll event stream to follow (optional). */
  eventStreamId?: string | undefined;
}

interface Session {
  claims: Record<string, unknown>;
  userId: string;
  userName: string;
  displayName: string | null;
  groups: GroupRef[];
}

interface PendingSignIn {
  verifier: string;
  state: string;
  nonce: string;
  expires: number;
}

const SESSION_COOKIE = 'sign_in_app_session';
const PENDING_COOKIE = 'sign_in_app_pending';
const PENDING_TTL_MS = 10 * 60_000;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** What a person reads when Roster refuses them: the status and the public lock reason in words. */
export function refusalMessage(resolution: SignInResolution): string {
  if (resolution.status === 'inactive') {
    if (resolution.reason === 'deactivated_by_provider') return 'Your account is deactivated: your organisation has turned off your access.';
    if (resolution.reason === 'deletion_refused') return 'Your account is deactivated: it was removed by your organisation.';
    return 'Your account is locked.';
  }
  if (resolution.status === 'unknown') return 'There is no account for you here (unknown person). Ask your administrator for access.';
  if (resolution.status === 'ambiguous') return 'Your identity matches more than one account; sign-in is refused until your administrator fixes it.';
  return 'Sign-in refused.';
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main>${body}</main></body></html>`;
}

/** The user ids a SET is about (RFC 9967 SCIM events name the resource by `sub_id` or the event's `id`/`uri`). */
function userIdsOf(event: SecurityEvent): string[] {
  const ids = new Set<string>();
  const fromUri = (uri: unknown) => {
    const match = typeof uri === 'string' ? /\/Users\/([^/?#]+)/.exec(uri) : null;
    if (match) ids.add(decodeURIComponent(match[1]!));
  };
  const subject = (event as { sub_id?: { uri?: unknown; id?: unknown } }).sub_id;
  fromUri(subject?.uri);
  for (const payload of Object.values(event.events ?? {})) {
    fromUri((payload as { uri?: unknown }).uri);
    fromUri((payload as { sub_id?: { uri?: unknown } }).sub_id?.uri);
    if (typeof (payload as { id?: unknown }).id === 'string') ids.add((payload as { id: string }).id);
  }
  return [...ids];
}

/** Events after which a person must not keep a session: deactivation (active false), deletion. */
function endsSessions(event: SecurityEvent): boolean {
  return Object.entries(event.events ?? {}).some(([uri, payload]) => {
    if (/deactivate|delete/i.test(uri)) return true;
    const data = (payload as { data?: { active?: unknown } }).data;
    return data?.active === false;
  });
}

export async function createSignInApp(options: SignInAppOptions) {
  const roster = createRosterClient({ baseUrl: options.rosterUrl, credentials: options.rosterCredentials });
  const redirectUri = `${options.publicUrl.replace(/\/+$/, '')}/callback`;
  const config = await oidc.discovery(
    new URL(options.issuer),
    options.clientId,
    options.clientSecret,
    options.clientSecret ? undefined : oidc.None(),
    options.allowInsecureIssuer ? { execute: [oidc.allowInsecureRequests] } : undefined,
  );
  const sessions = new Map<string, Session>();
  const pending = new Map<string, PendingSignIn>();
  /** Messages shown once after a redirect, by a random id in the URL (never the message itself from the URL). */
  const notices = new Map<string, string>();

  function notice(message: string): string {
    const id = randomBytes(12).toString('base64url');
    notices.set(id, message);
    if (notices.size > 1000) notices.delete(notices.keys().next().value!);
    return id;
  }

  function endSessionsOf(userId: string): number {
    let ended = 0;
    for (const [id, session] of sessions) {
      if (session.userId === userId) {
        sessions.delete(id);
        ended += 1;
      }
    }
    return ended;
  }

  /** The session of this request, after asking Roster again; ended (with a notice) when Roster no longer finds the person. */
  async function currentSession(ctx: Context): Promise<{ session?: Session; ended?: string }> {
    const id = ctx.cookies.get(SESSION_COOKIE);
    const session = id ? sessions.get(id) : undefined;
    if (!id || !session) return {};
    const resolution = await roster.resolveSignIn({ providerId: options.providerId, claims: session.claims });
    if (resolution.status === 'found' && resolution.user?.id === session.userId) {
      session.groups = resolution.groups ?? [];
      return { session };
    }
    sessions.delete(id);
    ctx.cookies.set(SESSION_COOKIE, null);
    return { ended: `You have been signed out. ${refusalMessage(resolution)}` };
  }

  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      ctx.status = 500;
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Something went wrong</h1><p>${escapeHtml(error instanceof Error ? error.message : 'error')}</p><p><a href="/">Back</a></p>`);
    }
  });

  app.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/') {
      const { session, ended } = await currentSession(ctx);
      const shown = typeof ctx.query.notice === 'string' ? notices.get(ctx.query.notice) : undefined;
      const message = ended ?? shown;
      const alert = message ? `<p role="alert" data-testid="notice">${escapeHtml(message)}</p>` : '';
      ctx.type = 'html';
      if (!session) {
        ctx.body = page('Sign in', `${alert}<h1>Example application</h1><p><a href="/login" data-testid="sign-in">Sign in with ${escapeHtml(options.providerName)}</a></p>`);
        return;
      }
      const groups = session.groups.map((group) => `<li>${escapeHtml(group.display ?? group.value)}</li>`).join('');
      // The page asks every second whether the session still holds; a deactivated person is sent back to the start.
      ctx.body = page(
        'Signed in',
        `${alert}<h1 data-testid="welcome">Signed in as ${escapeHtml(session.displayName ?? session.userName)}</h1>` +
          `<h2>Your groups</h2><ul data-testid="groups">${groups}</ul><p><a href="/logout">Sign out</a></p>` +
          `<script>setInterval(async () => { const r = await fetch('/session', { cache: 'no-store' }); const s = await r.json(); if (!s.active) location.assign('/?notice=' + encodeURIComponent(s.notice)); }, 1000);</script>`,
      );
      return;
    }

    if (ctx.method === 'GET' && ctx.path === '/session') {
      const { session, ended } = await currentSession(ctx);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = session ? { active: true, userName: session.userName } : { active: false, notice: ended ? notice(ended) : '' };
      return;
    }

    if (ctx.method === 'GET' && ctx.path === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const key = randomBytes(24).toString('base64url');
      pending.set(key, { verifier, state, nonce, expires: Date.now() + PENDING_TTL_MS });
      ctx.cookies.set(PENDING_COOKIE, key, { httpOnly: true, sameSite: 'lax', maxAge: PENDING_TTL_MS });
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      ctx.redirect(url.href);
      return;
    }

    if (ctx.method === 'GET' && ctx.path === '/callback') {
      const key = ctx.cookies.get(PENDING_COOKIE);
      const started = key ? pending.get(key) : undefined;
      if (key) pending.delete(key);
      ctx.cookies.set(PENDING_COOKIE, null);
      if (!started || started.expires < Date.now()) {
        ctx.redirect(`/?notice=${notice('The sign-in took too long or was not started here; try again.')}`);
        return;
      }
      const tokens = await oidc.authorizationCodeGrant(config, new URL(ctx.originalUrl, options.publicUrl), {
        pkceCodeVerifier: started.verifier,
        expectedState: started.state,
        expectedNonce: started.nonce,
      });
      const idToken = tokens.id_token;
      if (!idToken) throw new Error('the provider returned no ID token');
      // Roster verifies the ID token again (signature, issuer, audience, expiry, nonce) and resolves the person.
      const resolution = await roster.resolveSignIn({ providerId: options.providerId, idToken, nonce: started.nonce });
      if (resolution.status !== 'found' || !resolution.user) {
        ctx.redirect(`/?notice=${notice(`Sign-in refused. ${refusalMessage(resolution)}`)}`);
        return;
      }
      const id = randomBytes(24).toString('base64url');
      sessions.set(id, {
        claims: tokens.claims() as Record<string, unknown>,
        userId: resolution.user.id,
        userName: resolution.user.userName,
        displayName: resolution.user.displayName,
        groups: resolution.groups ?? [],
      });
      ctx.cookies.set(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'lax' });
      ctx.redirect('/');
      return;
    }

    if (ctx.method === 'GET' && ctx.path === '/logout') {
      const id = ctx.cookies.get(SESSION_COOKIE);
      if (id) sessions.delete(id);
      ctx.cookies.set(SESSION_COOKIE, null);
      ctx.redirect(`/?notice=${notice('You have signed out.')}`);
      return;
    }

    ctx.status = 404;
    ctx.body = 'not found';
  });

  let poller: Poller | undefined;
  return {
    app,
    /** Active sessions (tests, a health page). */
    sessionCount: () => sessions.size,
    /** Follows the event stream, when one is configured. */
    startEvents(onError?: (error: unknown) => void): void {
      if (!options.eventStreamId || poller) return;
      poller = startEventPoller({
        client: roster,
        streamId: options.eventStreamId,
        intervalMs: 500,
        onEvent: (event) => {
          if (!endsSessions(event)) return;
          for (const userId of userIdsOf(event)) endSessionsOf(userId);
        },
        ...(onError ? { onError } : {}),
      });
    },
    async stop(): Promise<void> {
      await poller?.stop();
    },
  };
}

export type SignInApp = Awaited<ReturnType<typeof createSignInApp>>;
