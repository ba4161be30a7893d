import fs from 'node:fs';
import path from 'node:path';
import { createSecretBox, EncryptionKey, parseEncryptionKeys, type SecretBox } from '@roster/domain';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

// Which key encrypts the event secrets at rest (docs/operations.md, "Encryption key"):
// - ROSTER_ENCRYPTION_KEY when set (every process of a PostgreSQL deployment must have the same value);
// - else, on the embedded database, a key generated once into <ROSTER_DATA_DIR>/encryption.key (mode 0600), so a
//   single-machine install is encrypted without setup; a backup of the data directory must include that file;
// - else (PostgreSQL without the variable) none: the secrets are stored unencrypted, and Roster says so once.

export const KEY_FILE = 'encryption.key';

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

/** Reads the embedded database's key file, creating it (mode 0600) on first use. */
export function loadOrCreateKeyFile(dataDir: string): { key: EncryptionKey; created: boolean } {
  const file = path.join(path.resolve(dataDir), KEY_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fresh = EncryptionKey.generate();
  try {
    // 'wx': never overwrite a key that exists (that would make every stored secret unreadable).
    fs.writeFileSync(file, `${fresh.export()}\n`, { flag: 'wx', mode: 0o600 });
    return { key: fresh, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyFileError(`could not create ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const [key] = parseEncryptionKeys(fs.readFileSync(file, 'utf8').trim());
    return { key: key!, created: false };
  } catch (error) {
    throw new KeyFileError(`${file} does not hold one 32-byte base64 key (${(error as Error).message}); restore it from the backup of this data directory`, { cause: error });
  }
}

export function resolveSecretBox(config: Config, logger: Logger): SecretBox {
  if (config.encryptionKeys) return createSecretBox(config.encryptionKeys);
  if (!config.databaseUrl) {
    const { key, created } = loadOrCreateKeyFile(config.dataDir);
    if (created) logger.info({ keyId: key.id, file: path.join(config.dataDir, KEY_FILE) }, 'generated the encryption key for secrets at rest; back it up with the data directory');
    return createSecretBox([key]);
  }
  logger.warn('ROSTER_ENCRYPTION_KEY is not set: event stream Authorization headers and event signing keys are stored unencrypted in PostgreSQL until it is set (docs/operations.md)');
  return createSecretBox();
}
