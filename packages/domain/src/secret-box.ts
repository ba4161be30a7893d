import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

// Secrets Roster must be able to read back (an event stream's push Authorization header, the private event signing
// keys) cannot be hashed like credentials: they are encrypted at rest with AES-256-GCM (NIST SP 800-38D) under the
// keys of ROSTER_ENCRYPTION_KEY (docs/operations.md). A stored value is one string:
//
//   enc:v1:<key id>:<iv>:<ciphertext and 16-byte tag>    (iv and ciphertext base64url; the key id names the key)
//   plain:<value>                                         (written while no key is configured)
//   <value>                                               (written before encryption existed: read as plain)
//
// The row's identity (stream id, kid) is the additional authenticated data, so a ciphertext copied into another
// row does not decrypt. The first key encrypts; every key decrypts, so the key can be rotated by putting a new one
// first and keeping the old one until the start-up step has re-encrypted every value under the new one.

const PREFIX = 'enc:v1:';
const PLAIN = 'plain:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** One 32-byte AES key. The material never prints: not in logs, not in `util.inspect`, not in JSON. */
export class EncryptionKey {
  /** The first 8 hex characters of SHA-256 of the key: names the key in stored values without revealing it. */
  readonly id: string;
  readonly #material: Buffer;

  constructor(material: Buffer) {
    if (material.length !== 32) throw new Error(`an encryption key is 32 bytes, got ${material.length}`);
    this.#material = Buffer.from(material);
    this.id = createHash('sha256').update(material).digest('hex').slice(0, 8);
  }

  /** @internal for SecretBox */
  material(): Buffer {
    return this.#material;
  }

  toJSON(): string {
    return `EncryptionKey(${this.id})`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }

  static generate(): EncryptionKey {
    return new EncryptionKey(randomBytes(32));
  }

  /** base64url text of the key, for the embedded database's key file. */
  export(): string {
    return this.#material.toString('base64url');
  }
}

/**
 * Parses ROSTER_ENCRYPTION_KEY: one or more comma-separated 32-byte keys in base64 or base64url. Throws an Error
 * whose message says what is wrong (without echoing the value).
 */
export function parseEncryptionKeys(raw: string): EncryptionKey[] {
  const parts = raw.split(',').map((part) => part.trim());
  const keys = parts.map((part, index) => {
    const name = parts.length > 1 ? `key ${index + 1}` : 'the key';
    if (!part) throw new Error(`${name} is empty; give one or more comma-separated 32-byte keys in base64 (openssl rand -base64 32)`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(part)) throw new Error(`${name} is not base64 or base64url; generate one with: openssl rand -base64 32`);
    const bytes = Buffer.from(part.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length !== 32) throw new Error(`${name} decodes to ${bytes.length} bytes; AES-256 needs exactly 32 (openssl rand -base64 32)`);
    return new EncryptionKey(bytes);
  });
  const ids = new Set(keys.map((key) => key.id));
  if (ids.size !== keys.length) throw new Error('the same key is listed twice');
  return keys;
}

/** A stored value could not be read: encrypted under a key that is not configured, or altered. */
export class UnreadableSecretError extends Error {
  override name = 'UnreadableSecretError';
  constructor(
    message: string,
    /** The id of the key the value was encrypted with (from the stored value). */
    readonly keyId: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SecretBox {
  /** The key new values are encrypted with; null: none configured, values are stored plain. */
  readonly currentKeyId: string | null;
  /** The stored form of `value` for the row named by `aad`. */
  seal(value: string, aad: string): string;
  /** The value of a stored form; throws UnreadableSecretError when it cannot be read. */
  open(stored: string, aad: string): string;
  /** Whether a stored value is already in the form `seal` writes now (so start-up need not rewrite it). */
  isCurrent(stored: string): boolean;
  /** SQL LIKE pattern matching every stored value in the current form (for "WHERE value NOT LIKE ?"). */
  currentPattern(): string;
}

export function createSecretBox(keys: readonly EncryptionKey[] = []): SecretBox {
  const byId = new Map(keys.map((key) => [key.id, key]));
  const current = keys[0];
  return {
    currentKeyId: current?.id ?? null,

    seal(value, aad) {
      if (!current) return PLAIN + value;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.material(), iv);
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${current.id}:${iv.toString('base64url')}:${body.toString('base64url')}`;
    },

    open(stored, aad) {
      if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
      if (!stored.startsWith(PREFIX)) return stored;
      const [keyId, iv, body] = stored.slice(PREFIX.length).split(':');
      if (keyId === undefined || iv === undefined || body === undefined) throw new UnreadableSecretError('the stored value is not a valid enc:v1 value', null);
      const key = byId.get(keyId);
      if (!key) {
        throw new UnreadableSecretError(
          current
            ? `it was encrypted with key ${keyId}, which ROSTER_ENCRYPTION_KEY does not hold (it holds ${[...byId.keys()].join(', ')})`
            : `it was encrypted with key ${keyId}, and ROSTER_ENCRYPTION_KEY is not set`,
          keyId,
        );
      }
      const ivBytes = Buffer.from(iv, 'base64url');
      const bytes = Buffer.from(body, 'base64url');
      if (ivBytes.length !== IV_BYTES || bytes.length < TAG_BYTES) throw new UnreadableSecretError('the stored value is truncated', keyId);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.material(), ivBytes);
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch (error) {
        // GCM's tag check failed: altered, or copied from another row (the AAD differs).
        throw new UnreadableSecretError(`it does not authenticate under key ${keyId} (altered, or moved from another row)`, keyId, { cause: error });
      }
    },

    isCurrent(stored) {
      return current ? stored.startsWith(`${PREFIX}${current.id}:`) : !stored.startsWith(PREFIX);
    },

    currentPattern() {
      return current ? `${PREFIX}${current.id}:%` : `${PLAIN}%`;
    },
  };
}
