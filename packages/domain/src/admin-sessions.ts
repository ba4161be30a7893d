import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { sha256Hex } from './admins.js';

// Server-side admin sessions. The browser holds a random session token in an HttpOnly cookie; the database
// holds only its SHA-256, so a leaked table opens no session. The CSRF token is derived from the session
// token (HMAC-SHA256 keyed with it), so it can be handed out again on GET /session without being stored in
// clear, cannot be computed without the cookie, and reveals nothing about the cookie.

/** An idle session ends after this long without a request. */
export const SESSION_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
/** A session ends this long after sign-in, however busy. */
export const SESSION_ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000;
/**
 * last_seen_at is written at most this often per session: one UPDATE per minute instead of one per request.
 * The idle timeout is therefore exact to within this interval (a session may end up to one minute early).
 */
export const SESSION_TOUCH_INTERVAL_MS = 60 * 1000;

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const CSRF_LABEL = 'roster admin csrf v1';

export interface AdminSessionOptions {
  now?: () => Date;
  idleTimeoutMs?: number;
  absoluteTimeoutMs?: number;
}

export interface AuthenticatedSession {
  sessionId: string;
  admin: { id: string; email: string };
  csrfToken: string;
}

interface SessionRow {
  id: string;
  admin_id: string;
  email: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update(CSRF_LABEL).digest('base64url');
}

/** Constant-time check of a presented X-CSRF-Token against the one derived from the session token. */
export function verifyCsrfToken(sessionToken: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const actual = Buffer.from(presented);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function createAdminSessionService(knex: Knex, options: AdminSessionOptions = {}) {
  const now = options.now ?? (() => new Date());
  const idleMs = options.idleTimeoutMs ?? SESSION_IDLE_TIMEOUT_MS;
  const absoluteMs = options.absoluteTimeoutMs ?? SESSION_ABSOLUTE_TIMEOUT_MS;

  return {
    idleTimeoutMs: idleMs,
    absoluteTimeoutMs: absoluteMs,

    async create(adminId: string): Promise<{ token: string; csrfToken: string; sessionId: string; expiresAt: Date }> {
      const token = randomBytes(32).toString('base64url');
      const csrfToken = csrfTokenFor(token);
      const at = now();
      const expiresAt = new Date(at.getTime() + absoluteMs);
      const [row] = (await knex('admin_sessions')
        .insert({ admin_id: adminId, token_hash: sha256Hex(token), csrf_token_hash: sha256Hex(csrfToken), created_at: at, last_seen_at: at, expires_at: expiresAt })
        .returning('id')) as Array<{ id: string }>;
      return { token, csrfToken, sessionId: row!.id, expiresAt };
    },

    /** The session of this cookie value, or undefined when unknown, idle too long or past its absolute end. */
    async authenticate(token: string): Promise<AuthenticatedSession | undefined> {
      if (!TOKEN_PATTERN.test(token)) return undefined;
      const row = (await knex('admin_sessions as s')
        .join('admins as a', 'a.id', 's.admin_id')
        .select('s.id', 's.admin_id', 'a.email', 's.created_at', 's.last_seen_at', 's.expires_at')
        .where('s.token_hash', sha256Hex(token))
        .first()) as SessionRow | undefined;
      if (!row) return undefined;
      const at = now().getTime();
      const lastSeen = new Date(row.last_seen_at).getTime();
      if (at >= new Date(row.expires_at).getTime() || at - lastSeen >= idleMs) {
        await knex('admin_sessions').where('id', row.id).delete();
        return undefined;
      }
      if (at - lastSeen >= SESSION_TOUCH_INTERVAL_MS) await knex('admin_sessions').where('id', row.id).update({ last_seen_at: new Date(at) });
      return { sessionId: row.id, admin: { id: row.admin_id, email: row.email }, csrfToken: csrfTokenFor(token) };
    },

    async revoke(token: string): Promise<void> {
      if (!TOKEN_PATTERN.test(token)) return;
      await knex('admin_sessions').where('token_hash', sha256Hex(token)).delete();
    },

    /** Drops sessions past either timeout (housekeeping; authenticate refuses them anyway). */
    async purgeExpired(): Promise<number> {
      const at = now();
      return knex('admin_sessions')
        .where('expires_at', '<=', at)
        .orWhere('last_seen_at', '<=', new Date(at.getTime() - idleMs))
        .delete();
    },
  };
}

export type AdminSessionService = ReturnType<typeof createAdminSessionService>;

// Sign-in throttling (issue 20, item 8). Failed sign-ins are counted in the database, so every gateway process
// sees the same counts, under one of two keys decided after the account lookup:
// - an email that names an admin: per (admin id, client address). The key is the id the lookup found, never
//   the typed text, so no spelling of the email (case, `İ`) escapes the count, and failures from one address
//   never slow the admin at another: a stranger cannot lock a named admin out, only slow guessing from where
//   the stranger is.
// - an email that names nobody: per client address (spraying guesses across accounts). This address-wide
//   limit never applies to an existing admin, so a shared NAT address full of typos does not lock them out.
// Past a threshold within the window, each further failure blocks that key for a doubling delay (30 s,
// 1 min, 2 min ... capped at 15 min); while blocked, the sign-in answers 429 without checking the password
// (checking it would let the guessing go on, and spend an scrypt per try).

/** Who a sign-in names, as the throttle keys it: an admin's id, or nobody. */
export type SignInSubject = { adminId: string } | { adminId: null };

export interface SignInThrottleOptions {
  now?: () => Date;
  /** Failures per (admin, address) before delays start. Default 5. */
  accountThreshold?: number;
  /** Failures for unknown accounts per address before delays start. Default 20 (several admins may share one NAT address). */
  addressThreshold?: number;
  /** Failures older than this are forgotten. Default 15 min. */
  windowMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

interface ThrottleRow {
  key: string;
  failures: number;
  first_failed_at: Date;
  blocked_until: Date | null;
}

export function createSignInThrottle(knex: Knex, options: SignInThrottleOptions = {}) {
  const now = options.now ?? (() => new Date());
  const accountThreshold = options.accountThreshold ?? 5;
  const addressThreshold = options.addressThreshold ?? 20;
  const windowMs = options.windowMs ?? 15 * 60 * 1000;
  const baseDelayMs = options.baseDelayMs ?? 30 * 1000;
  const maxDelayMs = options.maxDelayMs ?? 15 * 60 * 1000;

  const keyOf = (subject: SignInSubject, address: string): { key: string; threshold: number } =>
    subject.adminId === null
      ? { key: `address:${address}`, threshold: addressThreshold }
      : { key: `admin:${subject.adminId}@${address}`, threshold: accountThreshold };

  return {
    /** Milliseconds until a sign-in naming `subject` from this address may be tried again; 0 when allowed. */
    async retryAfterMs(subject: SignInSubject, address: string): Promise<number> {
      const at = now().getTime();
      const row = (await knex('admin_sign_in_throttle').select('blocked_until').where('key', keyOf(subject, address).key).first()) as
        | Pick<ThrottleRow, 'blocked_until'>
        | undefined;
      return row?.blocked_until ? Math.max(0, new Date(row.blocked_until).getTime() - at) : 0;
    },

    async recordFailure(subject: SignInSubject, address: string): Promise<void> {
      const at = now();
      const { key, threshold } = keyOf(subject, address);
      await knex.transaction(async (trx) => {
        await trx('admin_sign_in_throttle').insert({ key, failures: 0, first_failed_at: at }).onConflict('key').ignore();
        const row = (await trx('admin_sign_in_throttle').select('key', 'failures', 'first_failed_at', 'blocked_until').where('key', key).forUpdate().first()) as ThrottleRow;
        const blocked = row.blocked_until !== null && new Date(row.blocked_until).getTime() > at.getTime();
        const stale = !blocked && at.getTime() - new Date(row.first_failed_at).getTime() > windowMs;
        const failures = stale ? 1 : row.failures + 1;
        const over = failures - threshold;
        const blockedUntil = over >= 0 ? new Date(at.getTime() + Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(over, 30))) : null;
        await trx('admin_sign_in_throttle')
          .where('key', key)
          .update({ failures, first_failed_at: stale ? at : row.first_failed_at, blocked_until: blockedUntil });
      });
    },

    /** Forgets keys whose window and block have both passed (housekeeping, run on successful sign-ins). */
    async purgeStale(): Promise<number> {
      const at = now();
      return knex('admin_sign_in_throttle')
        .where('first_failed_at', '<', new Date(at.getTime() - windowMs))
        .where((inner) => inner.whereNull('blocked_until').orWhere('blocked_until', '<', at))
        .delete();
    },

    /**
     * A correct password clears that admin's count at this address. The address count of unknown accounts
     * stays: otherwise one valid account would let an attacker reset it while spraying guesses at others.
     */
    async recordSuccess(adminId: string, address: string): Promise<void> {
      await knex('admin_sign_in_throttle').where('key', keyOf({ adminId }, address).key).delete();
    },
  };
}

export type SignInThrottle = ReturnType<typeof createSignInThrottle>;
