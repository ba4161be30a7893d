import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EncryptionKey, UnreadableSecretError, createSecretBox, parseEncryptionKeys } from './secret-box.js';

const keyA = new EncryptionKey(Buffer.alloc(32, 1));
const keyB = new EncryptionKey(Buffer.alloc(32, 2));

describe('secret box', () => {
  it('round-trips a value and stores it as enc:v1:<key id>:<iv>:<ciphertext>, not in clear', () => {
    const box = createSecretBox([keyA]);
    const stored = box.seal('Bearer s3cret-value', 'row-1');
    expect(stored).toMatch(new RegExp(`^enc:v1:${keyA.id}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$`));
    expect(stored).not.toContain('s3cret');
    expect(box.open(stored, 'row-1')).toBe('Bearer s3cret-value');
    // A fresh IV each time: the same value never gives the same ciphertext.
    expect(box.seal('Bearer s3cret-value', 'row-1')).not.toBe(stored);
  });

  it('names the key by the first 8 hex characters of its SHA-256', () => {
    expect(keyA.id).toBe('72cd6e84');
  });

  it('refuses a value encrypted under a key it does not hold, naming that key', () => {
    const stored = createSecretBox([keyA]).seal('v', 'row-1');
    expect(() => createSecretBox([keyB]).open(stored, 'row-1')).toThrow(UnreadableSecretError);
    expect(() => createSecretBox([keyB]).open(stored, 'row-1')).toThrow(`encrypted with key ${keyA.id}, which ROSTER_ENCRYPTION_KEY does not hold`);
    expect(() => createSecretBox().open(stored, 'row-1')).toThrow('ROSTER_ENCRYPTION_KEY is not set');
  });

  it('refuses a ciphertext moved to another row (the row id is the additional authenticated data)', () => {
    const box = createSecretBox([keyA]);
    const stored = box.seal('v', 'row-1');
    expect(() => box.open(stored, 'row-2')).toThrow('does not authenticate');
  });

  it('refuses an altered ciphertext or a truncated value', () => {
    const box = createSecretBox([keyA]);
    const stored = box.seal('value', 'row-1');
    const body = stored.split(':')[4]!;
    const flipped = (body[0] === 'A' ? 'B' : 'A') + body.slice(1);
    expect(() => box.open(stored.replace(body, flipped), 'row-1')).toThrow('does not authenticate');
    expect(() => box.open(`enc:v1:${keyA.id}:abc`, 'row-1')).toThrow('not a valid enc:v1 value');
    expect(() => box.open(`enc:v1:${keyA.id}:AAAAAAAAAAAAAAAA:AAAA`, 'row-1')).toThrow('truncated');
  });

  it('rotates: the first key encrypts, every key decrypts, and only values under the first key are current', () => {
    const old = createSecretBox([keyA]).seal('v', 'row-1');
    const rotated = createSecretBox([keyB, keyA]);
    expect(rotated.open(old, 'row-1')).toBe('v');
    expect(rotated.isCurrent(old)).toBe(false);
    const fresh = rotated.seal('v', 'row-1');
    expect(fresh.startsWith(`enc:v1:${keyB.id}:`)).toBe(true);
    expect(rotated.isCurrent(fresh)).toBe(true);
    expect(rotated.currentPattern()).toBe(`enc:v1:${keyB.id}:%`);
  });

  it('reads plain values: marked plain: and the legacy unmarked ones; without a key it writes plain:', () => {
    const keyed = createSecretBox([keyA]);
    expect(keyed.open('Bearer legacy', 'row-1')).toBe('Bearer legacy');
    expect(keyed.open('plain:Bearer marked', 'row-1')).toBe('Bearer marked');
    expect(keyed.isCurrent('Bearer legacy')).toBe(false);
    expect(keyed.isCurrent('plain:Bearer marked')).toBe(false);
    const plain = createSecretBox();
    expect(plain.currentKeyId).toBeNull();
    expect(plain.seal('Bearer x', 'row-1')).toBe('plain:Bearer x');
    expect(plain.open('plain:Bearer x', 'row-1')).toBe('Bearer x');
  });

  it('never prints key material', () => {
    const material = randomBytes(32);
    const key = new EncryptionKey(material);
    const printed = `${inspect(key)} ${JSON.stringify({ key })} ${inspect({ keys: [key] })}`;
    expect(printed).not.toContain(material.toString('base64'));
    expect(printed).not.toContain(material.toString('hex').slice(0, 16));
    expect(printed).toContain(key.id);
  });
});

describe('parseEncryptionKeys (ROSTER_ENCRYPTION_KEY)', () => {
  it('accepts comma-separated base64 and base64url keys, first one first', () => {
    const a = Buffer.alloc(32, 0xfb);
    const keys = parseEncryptionKeys(` ${a.toString('base64')} , ${Buffer.alloc(32, 2).toString('base64url')}`);
    expect(keys.map((key) => key.id)).toEqual([new EncryptionKey(a).id, keyB.id]);
    expect(parseEncryptionKeys(a.toString('base64url'))[0]!.id).toBe(new EncryptionKey(a).id);
  });

  it.each([
    ['', 'the key is empty'],
    ['not base64!', 'the key is not base64 or base64url'],
    [Buffer.alloc(16).toString('base64'), 'the key decodes to 16 bytes; AES-256 needs exactly 32'],
    [`${Buffer.alloc(32, 1).toString('base64')},`, 'key 2 is empty'],
    [`${Buffer.alloc(32, 1).toString('base64')},${Buffer.alloc(32, 1).toString('base64url')}`, 'the same key is listed twice'],
  ])('refuses %j: %s', (raw, message) => {
    expect(() => parseEncryptionKeys(raw)).toThrow(message);
  });
});
