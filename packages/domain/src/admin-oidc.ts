import { createHmac, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { sha256Hex, whereEmailIs, type AdminService } from './admins.js';
import type { AdminSessionService } from './admin-sessions.js';
import type { AuditService } from './audit.js';
import { isUuid } from './directory/rows.js';
import { systemClock, type Clock } from './errors.js';

// Admin sign-in through an OIDC authentication provider (OpenID Connect Core 1.0 §3.1, authorization code
// flow, with PKCE S256 from RFC 7636) for admins whose email is in the admin list.
//
// Who may sign in (issue 20, item 1): only providers whose `adminSignIn` switch is on (off by default: a
// provider added for a SCIM client's JWTs is not a way into the admin app). The provider must state
// `email_verified: true`. The first sign-in of an admin through a provider binds the admin to the provider's
// `sub` (admin_oidc_identities); from then on a sign-in through that provider finds the admin by that binding,
// never by email, and another `sub` with the admin's email is refused (OpenID Connect Core §5.7: only iss + sub
// identify a person; an email can be reassigned or claimed at the provider). Admins list and remove their
// bindings (a removed binding is made again by the next sign-in, which again needs a verified email).
//
// Where the flow's secrets live: the server keeps one row per started sign-in (admin_oidc_sign_ins) with
// only SHA-256 hashes of the `state` and of a random browser binding; the starting browser keeps that binding
// in a short-lived HttpOnly cookie. The PKCE verifier and the nonce are HMACs of the state keyed with the
// binding, so they are never stored: a reader of the database cannot finish a sign-in, and a stolen cookie
// is useless once its row is used or expired. Server-side rows (rather than a signed cookie alone) make the
// state single use across every gateway process, without a signing key to distribute. The binding cookie
// ties the callback to the browser that started it, which closes login CSRF (RFC 6749 §10.12): a victim
// lured to the callback with an attacker's code and state has no matching cookie.
//
// The OpenID Connect protocol itself (discovery, the token request, ID token checks) is injected as
// `AdminOidcClient`, implemented in @roster/auth with openid-client, so the domain needs no HTTP client.

/** A started sign-in is valid this long (the admin types a password, maybe a second factor, at the provider). */
export const OIDC_SIGN_IN_TTL_MS = 10 * 60 * 1000;

const BINDING_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const VERIFIER_LABEL = 'roster admin oidc pkce v1';
const NONCE_LABEL = 'roster admin oidc nonce v1';

/**
 * Why a sign-in through a provider failed, as sent to the sign-in page (`/admin/sign-in?error=<code>`). Stable:
 * the admin SPA maps each to a message.
 */
export type OidcSignInFailure =
  /** The provider does not exist, is not OIDC, has no client id, or does not allow admin sign-in. */
  | 'provider_not_found'
  /** The provider's discovery, token or userinfo endpoint did not answer usably. */
  | 'provider_unavailable'
  /** The provider answered with an error (authorization or token endpoint), or a response that is not conform. */
  | 'provider_error'
  /** The person cancelled or refused at the provider (`error=access_denied`). */
  | 'access_denied'
  /** No started sign-in matches this state and browser: tampered, replayed, or started in another browser. */
  | 'state_mismatch'
  /** The sign-in was started more than OIDC_SIGN_IN_TTL_MS ago. */
  | 'sign_in_expired'
  /** The ID token failed validation (issuer, audience, nonce, expiry, signature). */
  | 'invalid_id_token'
  /** Neither the ID token nor userinfo carries an email. */
  | 'email_missing'
  /** The provider does not say the email is verified (`email_verified` false or missing). */
  | 'email_unverified'
  /** The verified email is not an admin's. */
  | 'not_an_admin'
  /** The admin with this email is bound to another account (`sub`) at this provider. */
  | 'identity_mismatch';

export interface OidcClientSettings {
  issuer: string;
  clientId: string;
  /** Absent: a public client (token_endpoint_auth_method none; PKCE protects the code). */
  clientSecret: string | null;
}

export interface OidcAuthorizationRequest {
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OidcIdentity {
  subject: string;
  email?: string | undefined;
  /** `email_verified` as the provider stated it (undefined when it did not say). */
  emailVerified?: boolean | undefined;
}

export type OidcOutcome<T> = { ok: true; value: T } | { ok: false; code: OidcSignInFailure; message: string; providerError?: string | undefined };

/** The protocol side, implemented with openid-client in @roster/auth (createAdminOidcClient). */
export interface AdminOidcClient {
  /** The provider's authorization endpoint URL with every parameter, or why it cannot be built. */
  authorizationUrl(provider: OidcClientSettings, request: OidcAuthorizationRequest): Promise<OidcOutcome<URL>>;
  /**
   * Validates the authorization response at `callbackUrl` (state, RFC 9207 `iss`), exchanges the code, validates
   * the ID token (issuer, audience, nonce, expiry) and returns who signed in; email from userinfo when the ID
   * token has none.
   */
  finish(provider: OidcClientSettings, callbackUrl: URL, checks: Omit<OidcAuthorizationRequest, 'redirectUri'>): Promise<OidcOutcome<OidcIdentity>>;
}

export interface AdminOidcSignInDeps {
  client: AdminOidcClient;
  admins: AdminService;
  sessions: AdminSessionService;
  audit: AuditService;
  /** `${PUBLIC_URL}/api/admin/oidc/callback`: registered at the provider as the redirect URI. */
  redirectUri: string;
  now?: Clock;
}

export interface StartedSignIn {
  authorizationUrl: string;
  /** Goes into the starting browser's HttpOnly cookie; never stored. */
  browserBinding: string;
  expiresAt: Date;
}

export type FinishedSignIn =
  | { ok: true; admin: { id: string; email: string }; session: { token: string; csrfToken: string; sessionId: string; expiresAt: Date } }
  | { ok: false; code: OidcSignInFailure };

interface ProviderRow {
  id: string;
  name: string;
  kind: string;
  issuer: string | null;
  client_id: string | null;
  client_secret: string | null;
  admin_sign_in: boolean;
}

/** A binding of an admin to a person at a provider, as the admin sees it. */
export interface AdminOidcIdentity {
  id: string;
  providerId: string;
  providerName: string;
  subject: string;
  /** The email the provider stated when the binding was made. */
  email: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

function derive(binding: string, label: string, state: string): string {
  // 32 bytes base64url: 43 characters of the unreserved set, a valid PKCE verifier (RFC 7636 §4.1).
  return createHmac('sha256', binding).update(`${label}\0${state}`).digest('base64url');
}

export function createAdminOidcSignIn(knex: Knex, deps: AdminOidcSignInDeps) {
  const now = deps.now ?? systemClock;
  const { client, audit } = deps;

  /** The provider as sign-in needs it (the client secret included: this never leaves the server). */
  async function signInProvider(id: string): Promise<{ name: string; settings: OidcClientSettings } | undefined> {
    const row = (await knex('auth_providers')
      .select('id', 'name', 'kind', 'issuer', 'client_id', 'client_secret', 'admin_sign_in')
      .where('id', id)
      .first()) as ProviderRow | undefined;
    if (!row || row.kind !== 'oidc' || !row.issuer || !row.client_id || row.admin_sign_in !== true) return undefined;
    return { name: row.name, settings: { issuer: row.issuer, clientId: row.client_id, clientSecret: row.client_secret } };
  }

  async function recordFailure(code: OidcSignInFailure, detail: Record<string, unknown>, requestId?: string, adminId?: string): Promise<void> {
    await audit.record({
      actorType: adminId ? 'admin' : 'system',
      adminId: adminId ?? null,
      operation: 'admin.session.oidc_failure',
      resourceType: 'AdminSession',
      status: 401,
      requestId: requestId ?? null,
      detail: { code, ...detail },
    });
  }

  /**
   * The admin this (provider, sub) signs in as: the bound one; or, on the first sign-in through the provider,
   * the admin with this (verified) email, who is bound now, unless already bound to another `sub` there.
   */
  async function adminFor(
    providerId: string,
    subject: string,
    email: string,
  ): Promise<{ ok: true; admin: { id: string; email: string }; bound: boolean; identityId: string } | { ok: false; code: OidcSignInFailure }> {
    const binding = (await knex('admin_oidc_identities as i')
      .join('admins as a', 'a.id', 'i.admin_id')
      .where({ 'i.auth_provider_id': providerId, 'i.subject': subject })
      .first('i.id', 'a.id as admin_id', 'a.email')) as { id: string; admin_id: string; email: string } | undefined;
    if (binding) {
      await knex('admin_oidc_identities').where('id', binding.id).update({ last_used_at: now() });
      return { ok: true, admin: { id: binding.admin_id, email: binding.email }, bound: false, identityId: binding.id };
    }
    const admin = (await whereEmailIs(knex('admins').select('id', 'email'), email).first()) as { id: string; email: string } | undefined;
    if (!admin) return { ok: false, code: 'not_an_admin' };
    // Both unique indexes decide a race of two first sign-ins: one insert wins, the other finds no row here.
    const [inserted] = (await knex('admin_oidc_identities')
      .insert({ admin_id: admin.id, auth_provider_id: providerId, subject, email, created_at: now(), last_used_at: now() })
      .onConflict()
      .ignore()
      .returning('id')) as Array<{ id: string }>;
    if (!inserted) return { ok: false, code: 'identity_mismatch' };
    return { ok: true, admin, bound: true, identityId: inserted.id };
  }

  return {
    /** The admin's bindings to provider accounts, newest first. */
    async listIdentities(adminId: string): Promise<AdminOidcIdentity[]> {
      const rows = (await knex('admin_oidc_identities as i')
        .join('auth_providers as p', 'p.id', 'i.auth_provider_id')
        .where('i.admin_id', adminId)
        .orderBy([{ column: 'i.created_at', order: 'desc' }, { column: 'i.id' }])
        .select('i.id', 'i.auth_provider_id', 'p.name', 'i.subject', 'i.email', 'i.created_at', 'i.last_used_at')) as Array<{
        id: string;
        auth_provider_id: string;
        name: string;
        subject: string;
        email: string;
        created_at: Date;
        last_used_at: Date | null;
      }>;
      return rows.map((row) => ({
        id: row.id,
        providerId: row.auth_provider_id,
        providerName: row.name,
        subject: row.subject,
        email: row.email,
        createdAt: new Date(row.created_at),
        lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
      }));
    },

    /** Removes one of the admin's own bindings; false when the admin has no binding with this id. */
    async removeIdentity(adminId: string, identityId: string, requestId?: string): Promise<boolean> {
      if (!isUuid(identityId)) return false;
      const [removed] = (await knex('admin_oidc_identities')
        .where({ id: identityId, admin_id: adminId })
        .delete()
        .returning(['auth_provider_id', 'subject'])) as Array<{ auth_provider_id: string; subject: string }>;
      if (!removed) return false;
      await audit.record({
        actorType: 'admin',
        adminId,
        operation: 'admin.oidc_identity.delete',
        resourceType: 'AdminOidcIdentity',
        resourceId: identityId,
        status: 204,
        requestId: requestId ?? null,
        detail: { providerId: removed.auth_provider_id, subject: removed.subject },
      });
      return true;
    },

    /** OIDC providers with a client id and admin sign-in on: what the sign-in page offers ("Sign in with X"). */
    async listProviders(): Promise<Array<{ id: string; name: string }>> {
      return (await knex('auth_providers')
        .select('id', 'name')
        .where('kind', 'oidc')
        .where('admin_sign_in', true)
        .whereNotNull('client_id')
        .whereNot('client_id', '')
        .orderByRaw('lower(name), id')) as Array<{ id: string; name: string }>;
    },

    /** Starts a sign-in: the authorization URL to send the browser to, and the binding for its cookie. */
    async start(providerId: string, requestId?: string): Promise<{ ok: true; value: StartedSignIn } | { ok: false; code: OidcSignInFailure }> {
      const provider = await signInProvider(providerId);
      if (!provider) {
        await recordFailure('provider_not_found', { providerId, step: 'start' }, requestId);
        return { ok: false, code: 'provider_not_found' };
      }
      const state = randomBytes(32).toString('base64url');
      const browserBinding = randomBytes(32).toString('base64url');
      const built = await client.authorizationUrl(provider.settings, {
        redirectUri: deps.redirectUri,
        state,
        nonce: derive(browserBinding, NONCE_LABEL, state),
        codeVerifier: derive(browserBinding, VERIFIER_LABEL, state),
      });
      if (!built.ok) {
        await recordFailure(built.code, { providerId, step: 'start', message: built.message }, requestId);
        return { ok: false, code: built.code };
      }
      const at = now();
      const expiresAt = new Date(at.getTime() + OIDC_SIGN_IN_TTL_MS);
      // Housekeeping without a timer: sign-ins nobody finished go when another one starts.
      await knex('admin_oidc_sign_ins').where('expires_at', '<=', at).delete();
      await knex('admin_oidc_sign_ins').insert({
        state_hash: sha256Hex(state),
        browser_hash: sha256Hex(browserBinding),
        auth_provider_id: providerId,
        created_at: at,
        expires_at: expiresAt,
      });
      return { ok: true, value: { authorizationUrl: built.value.href, browserBinding, expiresAt } };
    },

    /**
     * Finishes a sign-in at the callback: `callbackUrl` is `${PUBLIC_URL}/api/admin/oidc/callback` with the
     * query the provider sent. On success a session exists, exactly as after a password sign-in.
     */
    async finish(callbackUrl: URL, browserBinding: string | undefined, requestId?: string): Promise<FinishedSignIn> {
      const state = callbackUrl.searchParams.get('state');
      if (!state || !browserBinding || !BINDING_PATTERN.test(browserBinding)) {
        await recordFailure('state_mismatch', { reason: !state ? 'no state in the callback' : 'no sign-in cookie in this browser' }, requestId);
        return { ok: false, code: 'state_mismatch' };
      }
      // Single use across processes: the row is deleted by the one request that presents both its state and
      // its browser binding; another browser's request with this state leaves the row alone. Both are looked
      // up by SHA-256 of high-entropy values, so the comparison's timing tells nothing about them.
      const [row] = (await knex('admin_oidc_sign_ins')
        .where('state_hash', sha256Hex(state))
        .where('browser_hash', sha256Hex(browserBinding))
        .delete()
        .returning(['auth_provider_id', 'expires_at'])) as Array<{ auth_provider_id: string; expires_at: Date }>;
      if (!row) {
        await recordFailure('state_mismatch', { reason: 'unknown, used or foreign state' }, requestId);
        return { ok: false, code: 'state_mismatch' };
      }
      const providerId = row.auth_provider_id;
      if (new Date(row.expires_at).getTime() <= now().getTime()) {
        await recordFailure('sign_in_expired', { providerId }, requestId);
        return { ok: false, code: 'sign_in_expired' };
      }
      const provider = await signInProvider(providerId);
      if (!provider) {
        await recordFailure('provider_not_found', { providerId, step: 'callback' }, requestId);
        return { ok: false, code: 'provider_not_found' };
      }
      const outcome = await client.finish(provider.settings, callbackUrl, {
        state,
        nonce: derive(browserBinding, NONCE_LABEL, state),
        codeVerifier: derive(browserBinding, VERIFIER_LABEL, state),
      });
      if (!outcome.ok) {
        await recordFailure(outcome.code, { providerId, message: outcome.message, ...(outcome.providerError ? { providerError: outcome.providerError } : {}) }, requestId);
        return { ok: false, code: outcome.code };
      }
      const { subject, email, emailVerified } = outcome.value;
      if (!email) {
        await recordFailure('email_missing', { providerId, subject }, requestId);
        return { ok: false, code: 'email_missing' };
      }
      // Only an explicit true: a provider that does not say lets anyone register the admin's address there.
      if (emailVerified !== true) {
        await recordFailure('email_unverified', { providerId, subject, email, emailVerified: emailVerified ?? null }, requestId);
        return { ok: false, code: 'email_unverified' };
      }
      const found = await adminFor(providerId, subject, email);
      if (!found.ok) {
        await recordFailure(found.code, { providerId, subject, email }, requestId);
        return { ok: false, code: found.code };
      }
      const { admin } = found;
      if (found.bound) {
        await audit.record({
          actorType: 'admin',
          adminId: admin.id,
          operation: 'admin.oidc_identity.bind',
          resourceType: 'AdminOidcIdentity',
          resourceId: found.identityId,
          status: 201,
          requestId: requestId ?? null,
          detail: { providerId, providerName: provider.name, subject, email },
        });
      }
      const session = await deps.sessions.create(admin.id);
      await deps.admins.recordSignIn(admin.id);
      await audit.record({
        actorType: 'admin',
        adminId: admin.id,
        operation: 'admin.session.create',
        resourceType: 'AdminSession',
        resourceId: session.sessionId,
        status: 200,
        requestId: requestId ?? null,
        detail: { method: 'oidc', providerId, providerName: provider.name, subject },
      });
      return { ok: true, admin: { id: admin.id, email: admin.email }, session };
    },
  };
}

export type AdminOidcSignIn = ReturnType<typeof createAdminOidcSignIn>;
