import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { KEY_FILE, KeyFileError, loadOrCreateKeyFile, resolveSecretBox } from './encryption-key.js';
import type { Logger } from './logger.js';

// Which key encrypts the event secrets when ROSTER_ENCRYPTION_KEY is unset: the embedded database's key file, or
// none (PostgreSQL) with one warning.

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-key-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function recordingLogger() {
  const lines: Array<{ level: string; args: unknown[] }> = [];
  const log = (level: string) => (...args: unknown[]) => void lines.push({ level, args });
  return { lines, logger: { info: log('info'), warn: log('warn'), error: log('error') } as unknown as Logger };
}

describe('the embedded database key file', () => {
  it('is generated once, readable by the owner only, and read back on the next start', () => {
    const dir = path.join(tempDir(), 'data');
    const first = loadOrCreateKeyFile(dir);
    expect(first.created).toBe(true);
    const file = path.join(dir, KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = loadOrCreateKeyFile(dir);
    expect(second).toMatchObject({ created: false });
    expect(second.key.id).toBe(first.key.id);
  });

  it('refuses a damaged key file instead of replacing it (that would make every stored secret unreadable)', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, KEY_FILE), 'not a key\n');
    expect(() => loadOrCreateKeyFile(dir)).toThrow(KeyFileError);
    expect(() => loadOrCreateKeyFile(dir)).toThrow(/encryption\.key does not hold one 32-byte base64 key/);
    expect(fs.readFileSync(path.join(dir, KEY_FILE), 'utf8')).toBe('not a key\n');
  });
});

describe('resolveSecretBox', () => {
  it('uses ROSTER_ENCRYPTION_KEY when set, and writes no key file', () => {
    const dir = tempDir();
    const { logger, lines } = recordingLogger();
    const box = resolveSecretBox(loadConfig({ ROSTER_DATA_DIR: dir, ROSTER_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') }), logger);
    expect(box.currentKeyId).toMatch(/^[0-9a-f]{8}$/);
    expect(fs.existsSync(path.join(dir, KEY_FILE))).toBe(false);
    expect(lines).toEqual([]);
  });

  it('on the embedded database without the variable, uses the generated key file', () => {
    const dir = tempDir();
    const { logger } = recordingLogger();
    const box = resolveSecretBox(loadConfig({ ROSTER_DATA_DIR: dir }), logger);
    expect(box.currentKeyId).toBe(loadOrCreateKeyFile(dir).key.id);
  });

  it('on PostgreSQL without the variable, stores plain and warns once that secrets are unencrypted', () => {
    const { logger, lines } = recordingLogger();
    const box = resolveSecretBox(loadConfig({ DATABASE_URL: 'postgres://roster@127.0.0.1/roster' }), logger);
    expect(box.currentKeyId).toBeNull();
    expect(box.seal('Bearer x', 'id')).toBe('plain:Bearer x');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(String(lines[0]!.args[0])).toContain('ROSTER_ENCRYPTION_KEY is not set');
  });
});
