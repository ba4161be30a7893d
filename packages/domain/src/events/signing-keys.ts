import { KeyObject, sign } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Knex } from 'knex';
import { createSecretBox, UnreadableSecretError, type SecretBox } from '../secret-box.js';
import { SET_TYP } from './types.js';

// The ES256 keys SETs are signed with (RFC 8417 §5.1: SETs are signed; RFC 7518 §3.4). Roster generates the first
// key when it first signs; `rotate` adds a new key and retires the others, which stay in the JWKS for the overlap
// so a receiver that cached them keeps verifying SETs signed just before the rotation. The private key is held
// only in this table, encrypted under ROSTER_ENCRYPTION_KEY with its kid as AAD (secret-box.ts), and in memory; no
// API returns it.

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

const TABLE = 'event_signing_keys';
/** How long a process signs with the key it read before it looks for a newer one. */
const KEY_CACHE_MS = 60_000;
/** How long a retired key stays published. Longer than any receiver's JWKS cache and than KEY_CACHE_MS. */
export const RETIRED_KEY_OVERLAP_MS = 7 * 86_400_000;

interface KeyRow {
  kid: string;
  public_jwk: JWK | string;
  /** enc:v1:... (secret-box.ts), plain:<JSON>, or the JWK's JSON text of a key written before encryption. */
  private_jwk: string;
  created_at: Date;
  retired_at: Date | null;
}

function jwkOf(value: JWK | string): JWK {
  return typeof value === 'string' ? (JSON.parse(value) as JWK) : value;
}

export interface SigningKeyInfo {
  kid: string;
  createdAt: Date;
  retiredAt: Date | null;
}

/**
 * A key ready to sign with: node's KeyObject (imported once per key, not per SET) and the protected header, which
 * is the same for every SET a key signs, already in base64url.
 */
interface ReadyKey {
  kid: string;
  key: KeyObject;
  header: string;
}

function readyKey(kid: string, key: SigningKey): ReadyKey {
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: SET_TYP, kid })).toString('base64url');
  // importJWK answers bytes only for symmetric ("oct") keys, never for the EC keys of this table.
  if (key instanceof Uint8Array) throw new TypeError(`signing key ${kid} is not an EC key`);
  return { kid, key: KeyObject.from(key), header };
}

/**
 * The compact JWS (RFC 7515 §7.1) of `claims`. Signed synchronously with node:crypto: jose signs through
 * WebCrypto, asynchronously, which cost several times more CPU per SET than the signature itself (docs/benchmarks.md,
 * "Event delivery"). ES256 signatures are the 64-byte R || S form (RFC 7518 §3.4), not DER: `ieee-p1363`.
 */
export function signCompact(ready: Pick<ReadyKey, 'key' | 'header'>, claims: Record<string, unknown>): string {
  const input = `${ready.header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), { key: ready.key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export interface EventSignerOptions {
  now?: () => Date;
  /** Encrypts private keys at rest; default: none (stored plain:). */
  secrets?: SecretBox;
  /** A key this process cannot decrypt was found where it would sign (it is replaced by a new one). */
  onUnreadableKey?(kid: string, error: UnreadableSecretError): void;
}

export function createEventSigner(knex: Knex, options: EventSignerOptions = {}) {
  const now = options.now ?? (() => new Date());
  const secrets = options.secrets ?? createSecretBox();
  let cached: (ReadyKey & { at: number }) | undefined;
  let loading: Promise<{ kid: string; key: SigningKey }> | undefined;

  async function newKeyRow(): Promise<{ kid: string; public_jwk: string; private_jwk: string }> {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    return { kid, public_jwk: JSON.stringify({ ...publicJwk, kid, alg: 'ES256', use: 'sig' }), private_jwk: secrets.seal(JSON.stringify(privateJwk), kid) };
  }

  async function loadCurrent(): Promise<{ kid: string; key: SigningKey }> {
    let row = (await knex(TABLE).whereNull('retired_at').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'kid' }]).first()) as KeyRow | undefined;
    if (!row) {
      // Two processes starting together may both create a key: both are published, the newest signs. Harmless.
      await knex(TABLE).insert(await newKeyRow());
      row = (await knex(TABLE).whereNull('retired_at').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'kid' }]).first()) as KeyRow;
    }
    const readable = await readableKey(row);
    return { kid: readable.kid, key: await importJWK(jwkOf(readable.privateJwk), 'ES256') };
  }

  /** The key's private JWK in clear; a key this process cannot decrypt is replaced by a new one, answered instead. */
  async function readableKey(row: KeyRow): Promise<{ kid: string; privateJwk: string }> {
    try {
      return { kid: row.kid, privateJwk: secrets.open(row.private_jwk, row.kid) };
    } catch (error) {
      if (!(error instanceof UnreadableSecretError)) throw error;
      // Encrypted under a key this process does not hold: signing stops for nobody. A new key replaces it (the
      // unreadable one is retired, still published for the overlap); the caller logs and audits why.
      options.onUnreadableKey?.(row.kid, error);
      const fresh = await newKeyRow();
      await knex.transaction(async (trx) => {
        await trx(TABLE).where({ kid: row.kid }).whereNull('retired_at').update({ retired_at: now() });
        await trx(TABLE).insert(fresh);
      });
      return { kid: fresh.kid, privateJwk: secrets.open(fresh.private_jwk, fresh.kid) };
    }
  }

  async function current(): Promise<ReadyKey> {
    if (cached && Date.now() - cached.at < KEY_CACHE_MS) return cached;
    loading ??= loadCurrent().finally(() => {
      loading = undefined;
    });
    const loaded = await loading;
    // The same key as last time (the usual case after KEY_CACHE_MS) keeps its KeyObject and header.
    cached = cached?.kid === loaded.kid ? { ...cached, at: Date.now() } : { ...readyKey(loaded.kid, loaded.key), at: Date.now() };
    return cached;
  }

  /**
   * The key to sign with now: the one in memory even past KEY_CACHE_MS (a fresh read then starts in the
   * background, and a failed one is simply tried again at the next signature), else read now. A poll signs
   * inside its transaction: on the embedded database that transaction holds the only connection, so a read
   * awaited there would wait for itself. `ready()` before the transaction leaves a key in memory.
   */
  async function signingKey(): Promise<ReadyKey> {
    if (!cached) return current();
    if (Date.now() - cached.at >= KEY_CACHE_MS) void current().catch(() => undefined);
    return cached;
  }

  return {
    /** Reads the signing key (creating the first one) unless it is in memory; call it outside a transaction. */
    async ready(): Promise<void> {
      await current();
    },

    /** Signs SET claims as a JWS with `typ: secevent+jwt` (RFC 8417 §2.3) and the key's `kid`. */
    async sign(claims: Record<string, unknown>): Promise<string> {
      return signCompact(await signingKey(), claims);
    },

    /** The public keys receivers verify with: the signing key and the retired ones still in their overlap. */
    async jwks(): Promise<{ keys: JWK[] }> {
      await current();
      const since = new Date(now().getTime() - RETIRED_KEY_OVERLAP_MS);
      const rows = (await knex(TABLE)
        .select('public_jwk')
        .where((q) => q.whereNull('retired_at').orWhere('retired_at', '>', since))
        .orderBy('created_at', 'desc')) as Array<Pick<KeyRow, 'public_jwk'>>;
      return { keys: rows.map((row) => jwkOf(row.public_jwk)) };
    },

    async list(): Promise<SigningKeyInfo[]> {
      const rows = (await knex(TABLE).select('kid', 'created_at', 'retired_at').orderBy('created_at', 'desc')) as KeyRow[];
      return rows.map((row) => ({ kid: row.kid, createdAt: new Date(row.created_at), retiredAt: row.retired_at ? new Date(row.retired_at) : null }));
    },

    /** Adds a new signing key and retires the others (still published for RETIRED_KEY_OVERLAP_MS). Answers the new kid. */
    async rotate(): Promise<string> {
      const row = await newKeyRow();
      await knex.transaction(async (trx) => {
        await trx(TABLE).whereNull('retired_at').update({ retired_at: now() });
        await trx(TABLE).insert(row);
      });
      cached = undefined;
      return row.kid;
    },
  };
}

export type EventSigner = ReturnType<typeof createEventSigner>;
