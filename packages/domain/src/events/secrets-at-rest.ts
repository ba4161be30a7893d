import type { Knex } from 'knex';
import { UnreadableSecretError, type SecretBox } from '../secret-box.js';
import { markAuthorizationHeaderUnreadable } from './streams.js';

// The start-up step that brings the event secrets under the current encryption key (docs/operations.md,
// "Encryption key"): push Authorization headers and private signing keys stored plain (before encryption, or
// while no key was set) or under an older key are re-encrypted under the first key of ROSTER_ENCRYPTION_KEY.
//
// Idempotent and safe with several processes at once: each row is rewritten only if it still holds the value that
// was read (compare and set), so two processes doing it together write each row once, and a row the admin changed
// meanwhile is left as the admin wrote it. A stream whose header cannot be decrypted is marked failing with the
// reason, so the admin sees it before any delivery is tried.

export interface SecretsSweepResult {
  /** Values rewritten under the current key by this process. */
  reencrypted: number;
  /** Values no configured key decrypts: what they are and why. */
  unreadable: Array<{ kind: 'stream_authorization_header' | 'signing_key'; id: string; reason: string }>;
}

export async function reencryptEventSecrets(knex: Knex, secrets: SecretBox): Promise<SecretsSweepResult> {
  const result: SecretsSweepResult = { reencrypted: 0, unreadable: [] };
  const current = secrets.currentKeyId;
  // Without a key nothing can be encrypted; still find the encrypted headers nobody here can read.
  const stale = (column: string) => (current ? knex.raw(`${column} NOT LIKE ?`, [secrets.currentPattern()]) : knex.raw(`${column} LIKE 'enc:%'`));

  const streams = (await knex('event_streams').select('id', 'authorization_header').whereNotNull('authorization_header').andWhere(stale('authorization_header'))) as Array<{
    id: string;
    authorization_header: string;
  }>;
  for (const row of streams) {
    try {
      const value = secrets.open(row.authorization_header, row.id);
      if (!current) continue;
      result.reencrypted += await knex('event_streams')
        .where({ id: row.id, authorization_header: row.authorization_header })
        .update({ authorization_header: secrets.seal(value, row.id) });
    } catch (error) {
      if (!(error instanceof UnreadableSecretError)) throw error;
      result.unreadable.push({ kind: 'stream_authorization_header', id: row.id, reason: error.message });
      await markAuthorizationHeaderUnreadable(knex, row, error);
    }
  }

  if (!current) return result;
  const keys = (await knex('event_signing_keys').select('kid', 'private_jwk').andWhere(stale('private_jwk'))) as Array<{ kid: string; private_jwk: string }>;
  for (const row of keys) {
    try {
      const value = secrets.open(row.private_jwk, row.kid);
      result.reencrypted += await knex('event_signing_keys').where({ kid: row.kid, private_jwk: row.private_jwk }).update({ private_jwk: secrets.seal(value, row.kid) });
    } catch (error) {
      if (!(error instanceof UnreadableSecretError)) throw error;
      // The signer replaces an unreadable key when it would sign with it; a retired one only ages out of the JWKS.
      result.unreadable.push({ kind: 'signing_key', id: row.kid, reason: error.message });
    }
  }
  return result;
}
