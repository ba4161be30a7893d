import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Knex } from 'knex';
import { createAuditService } from './audit.js';

// Admin accounts of the web app. Passwords are hashed with scrypt (memory-hard, in node:crypto) with a
// per-password random salt; the parameters travel inside the stored string so they can be raised later
// without invalidating existing hashes. Setup tokens (the one-time link printed at the first start) are
// high-entropy random values stored only as SHA-256 hashes, like every other secret of Roster.

export const MIN_PASSWORD_LENGTH = 12;
/** scrypt runs over the whole input: a cap keeps one request from buying unbounded CPU. */
export const MAX_PASSWORD_LENGTH = 1024;
/** How long the setup link printed at the first start stays valid. */
export const SETUP_TOKEN_TTL_MS = 60 * 60 * 1000;

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 64, saltLength: 16 };

export interface Admin {
  id: string;
  email: string;
  createdAt: Date;
  lastSignInAt: Date | null;
}

interface AdminRow {
  id: string;
  email: string;
  password_hash: string | null;
  created_at: Date;
  last_sign_in_at: Date | null;
}

const ADMIN_COLUMNS = ['id', 'email', 'created_at', 'last_sign_in_at'];

function toAdmin(row: Omit<AdminRow, 'password_hash'>): Admin {
  return { id: row.id, email: row.email, createdAt: new Date(row.created_at), lastSignInAt: row.last_sign_in_at ? new Date(row.last_sign_in_at) : null };
}

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function scryptOptions(N: number, r: number, p: number): ScryptOptions {
  // Node's default maxmem (32 MiB) is exactly 128 * N * r at N = 2^15: leave headroom.
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

/** `scrypt$N$r$p$salt$key` (salt and key base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLength);
  const key = await scryptAsync(password, salt, SCRYPT.keyLength, scryptOptions(SCRYPT.N, SCRYPT.r, SCRYPT.p));
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Constant-time comparison of a password with a stored hash; a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((value) => Number.isInteger(value) && value > 0) || N > 2 ** 20) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length < 16) return false;
  const actual = await scryptAsync(password, salt, expected.length, scryptOptions(N, r, p));
  return timingSafeEqual(actual, expected);
}

// Verifying against this when the email is unknown makes a miss cost as much as a wrong password, so the
// response time does not tell which emails are admins.
let dummyHash: Promise<string> | undefined;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * The one case folding of admin emails: PostgreSQL's `lower()`, the same expression as the unique index
 * admins__lower_email. Every lookup of an admin by email goes through here, so nothing folds with
 * JavaScript's rules beside it (they differ: `İ` U+0130 is `i` to PostgreSQL under most locales and `i̇` to
 * JavaScript), and the sign-in throttle keys on the admin's id found by this lookup, never on the typed text.
 */
export function whereEmailIs<Q extends Knex.QueryBuilder>(builder: Q, email: string): Q {
  return builder.whereRaw('lower(email) = lower(?)', [email]) as Q;
}

/** A sign-in in two steps: who the email names (for the throttle), then the password check. */
export interface SignInAttempt {
  /** The admin the email names, or null when it names none. */
  adminId: string | null;
  /** The admin when the password is right; costs the same whether or not the email named an admin. */
  verify(password: string): Promise<Admin | undefined>;
}

export function isValidEmail(value: string): boolean {
  return value.length <= 320 && /^[^\s@]+@[^\s@]+$/.test(value);
}

export type CreateAdminResult = { ok: true; admin: Admin } | { ok: false; reason: 'email_taken' };
export type DeleteAdminResult = { ok: true } | { ok: false; reason: 'not_found' | 'last_admin' };
export type CompleteSetupResult = { ok: true; admin: Admin } | { ok: false; reason: 'invalid_token' | 'setup_complete' | 'email_taken' };

export interface AdminServiceOptions {
  now?: () => Date;
}

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string; message?: string };
  return e.code === UNIQUE_VIOLATION && (e.constraint === constraint || (e.message ?? '').includes(constraint));
}

/** Admin accounts and the first-start setup link. Every change writes an audit event naming who made it. */
export function createAdminService(knex: Knex, options: AdminServiceOptions = {}) {
  const now = options.now ?? (() => new Date());
  const audit = createAuditService(knex);

  // Changes that depend on how many admins exist (the last one cannot go; setup only while none exists)
  // take this lock, so two concurrent requests cannot both see "one admin left" and delete both.
  async function lockAdmins(trx: Knex.Transaction): Promise<number> {
    await trx.raw('LOCK TABLE admins IN SHARE ROW EXCLUSIVE MODE');
    const [row] = (await trx('admins').count<Array<{ total: number | string }>>('* as total')) as Array<{ total: number | string }>;
    return Number(row?.total ?? 0);
  }

  async function insertAdmin(trx: Knex.Transaction, email: string, password: string): Promise<Admin | undefined> {
    const passwordHash = await hashPassword(password);
    try {
      const [row] = (await trx('admins').insert({ email, password_hash: passwordHash }).returning(ADMIN_COLUMNS)) as AdminRow[];
      return toAdmin(row!);
    } catch (error) {
      if (isUniqueViolation(error, 'admins__lower_email')) return undefined;
      throw error;
    }
  }

  /**
   * Looks the email up once: the caller learns which admin it names (the sign-in throttle keys on that id)
   * and then checks the password against the same row.
   */
  async function beginSignIn(email: string): Promise<SignInAttempt> {
    const row = (await whereEmailIs(knex('admins').select('id', 'email', 'password_hash', 'created_at', 'last_sign_in_at'), email).first()) as AdminRow | undefined;
    return {
      adminId: row?.id ?? null,
      async verify(password: string): Promise<Admin | undefined> {
        if (!row?.password_hash) {
          dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
          await verifyPassword(password, await dummyHash);
          return undefined;
        }
        return (await verifyPassword(password, row.password_hash)) ? toAdmin(row) : undefined;
      },
    };
  }

  return {
    beginSignIn,

    async count(): Promise<number> {
      const [row] = (await knex('admins').count<Array<{ total: number | string }>>('* as total')) as Array<{ total: number | string }>;
      return Number(row?.total ?? 0);
    },

    async get(id: string): Promise<Admin | undefined> {
      const row = (await knex('admins').select(ADMIN_COLUMNS).where('id', id).first()) as AdminRow | undefined;
      return row ? toAdmin(row) : undefined;
    },

    async list(query: { q?: string; limit: number; offset: number }): Promise<{ items: Admin[]; total: number }> {
      const base = (): Knex.QueryBuilder => {
        const builder = knex('admins');
        if (query.q) builder.whereILike('email', `%${query.q.replace(/[\\%_]/g, '\\$&')}%`);
        return builder;
      };
      const [rows, [count]] = await Promise.all([
        base().select(ADMIN_COLUMNS).orderByRaw('lower(email), id').limit(query.limit).offset(query.offset),
        base().count<Array<{ total: number | string }>>('* as total'),
      ]);
      return { items: (rows as AdminRow[]).map(toAdmin), total: Number(count?.total ?? 0) };
    },

    async create(input: { email: string; password: string }, actorAdminId: string, requestId?: string): Promise<CreateAdminResult> {
      return knex.transaction(async (trx) => {
        const admin = await insertAdmin(trx, input.email, input.password);
        if (!admin) return { ok: false, reason: 'email_taken' } as const;
        await audit.record(
          { actorType: 'admin', adminId: actorAdminId, operation: 'admin.admin.create', resourceType: 'Admin', resourceId: admin.id, status: 201, requestId, detail: { email: admin.email } },
          trx,
        );
        return { ok: true, admin } as const;
      });
    },

    /** Removes an admin and (by cascade) its sessions; the last admin cannot be removed. */
    async delete(id: string, actorAdminId: string, requestId?: string): Promise<DeleteAdminResult> {
      return knex.transaction(async (trx) => {
        const total = await lockAdmins(trx);
        const row = (await trx('admins').select('id', 'email').where('id', id).first()) as { id: string; email: string } | undefined;
        if (!row) return { ok: false, reason: 'not_found' } as const;
        if (total <= 1) return { ok: false, reason: 'last_admin' } as const;
        await trx('admins').where('id', id).delete();
        await audit.record(
          { actorType: 'admin', adminId: actorAdminId, operation: 'admin.admin.delete', resourceType: 'Admin', resourceId: id, status: 204, requestId, detail: { email: row.email } },
          trx,
        );
        return { ok: true } as const;
      });
    },

    /**
     * The admin named by ROSTER_ADMIN_EMAIL/ROSTER_ADMIN_PASSWORD exists with that password after this call.
     * A changed password signs that admin out everywhere (its sessions were opened with the old one).
     */
    async ensureBootstrapAdmin(email: string, password: string): Promise<{ admin: Admin; action: 'created' | 'password_updated' | 'unchanged' }> {
      return knex.transaction(async (trx) => {
        await lockAdmins(trx);
        const row = (await whereEmailIs(trx('admins').select('id', 'email', 'password_hash', 'created_at', 'last_sign_in_at'), email).first()) as AdminRow | undefined;
        if (!row) {
          const admin = await insertAdmin(trx, email, password);
          if (!admin) throw new Error('bootstrap admin vanished during creation');
          await audit.record({ actorType: 'system', operation: 'admin.admin.bootstrap', resourceType: 'Admin', resourceId: admin.id, detail: { email, action: 'created' } }, trx);
          return { admin, action: 'created' } as const;
        }
        if (row.password_hash && (await verifyPassword(password, row.password_hash))) return { admin: toAdmin(row), action: 'unchanged' } as const;
        await trx('admins').where('id', row.id).update({ password_hash: await hashPassword(password) });
        await trx('admin_sessions').where('admin_id', row.id).delete();
        await audit.record({ actorType: 'system', operation: 'admin.admin.bootstrap', resourceType: 'Admin', resourceId: row.id, detail: { email: row.email, action: 'password_updated' } }, trx);
        return { admin: toAdmin(row), action: 'password_updated' } as const;
      });
    },

    /** The admin with this email and password, or undefined; costs the same whether or not the email exists. */
    async verifyCredentials(email: string, password: string): Promise<Admin | undefined> {
      const attempt = await beginSignIn(email);
      return attempt.verify(password);
    },

    async recordSignIn(id: string): Promise<void> {
      await knex('admins').where('id', id).update({ last_sign_in_at: now() });
    },

    /**
     * A new one-time setup token while no admin exists (undefined otherwise). Earlier unused tokens are
     * dropped: only the link printed by the latest start works.
     */
    async createSetupToken(): Promise<{ token: string; expiresAt: Date } | undefined> {
      return knex.transaction(async (trx) => {
        if ((await lockAdmins(trx)) > 0) return undefined;
        const token = randomBytes(32).toString('base64url');
        const expiresAt = new Date(now().getTime() + SETUP_TOKEN_TTL_MS);
        await trx('admin_setup_tokens').whereNull('used_at').delete();
        await trx('admin_setup_tokens').insert({ token_hash: sha256Hex(token), expires_at: expiresAt });
        return { token, expiresAt };
      });
    },

    /**
     * What a setup link is worth before the form is filled in: `valid`, `used`, `expired`, `unknown` (never
     * issued, or replaced by a later start) or `setup_complete` (an admin exists). Looked up by hash, like
     * completeSetup; changes nothing.
     */
    async checkSetupToken(token: string): Promise<'valid' | 'used' | 'expired' | 'unknown' | 'setup_complete'> {
      if (Number((await knex('admins').count<Array<{ n: number }>>('* as n'))[0]?.n ?? 0) > 0) return 'setup_complete';
      const row = (await knex('admin_setup_tokens').where('token_hash', sha256Hex(token)).first('used_at', 'expires_at')) as { used_at: Date | null; expires_at: Date } | undefined;
      if (!row) return 'unknown';
      if (row.used_at) return 'used';
      return new Date(row.expires_at).getTime() <= now().getTime() ? 'expired' : 'valid';
    },

    /** Creates the first admin with a valid, unused, unexpired setup token; refused once any admin exists. */
    async completeSetup(input: { token: string; email: string; password: string }, requestId?: string): Promise<CompleteSetupResult> {
      return knex.transaction(async (trx) => {
        if ((await lockAdmins(trx)) > 0) return { ok: false, reason: 'setup_complete' } as const;
        // Lookup by hash: the comparison happens on a SHA-256 of the presented value, so its timing says
        // nothing about the stored token.
        const used = (await trx('admin_setup_tokens')
          .where('token_hash', sha256Hex(input.token))
          .whereNull('used_at')
          .where('expires_at', '>', now())
          .update({ used_at: now() })
          .returning('id')) as Array<{ id: string }>;
        if (used.length === 0) return { ok: false, reason: 'invalid_token' } as const;
        const admin = await insertAdmin(trx, input.email, input.password);
        if (!admin) return { ok: false, reason: 'email_taken' } as const;
        await audit.record(
          { actorType: 'admin', adminId: admin.id, operation: 'admin.admin.setup', resourceType: 'Admin', resourceId: admin.id, status: 201, requestId, detail: { email: admin.email } },
          trx,
        );
        return { ok: true, admin } as const;
      });
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
