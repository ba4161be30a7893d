import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

// The limits of issue 20 (items 5, 6, 7, 8b): their defaults, and one clear error line naming the variable.

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('resource limits configuration', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({}).limits).toEqual({
      dbStatementTimeoutMs: 15_000,
      clientMaxInFlight: 8,
      shutdownGraceMs: 2000,
      maxConnections: 4096,
      maxConnectionsPerAddress: 512,
      headersTimeoutMs: 20_000,
      requestTimeoutMs: 60_000,
    });
  });

  it('reads every variable', () => {
    const limits = loadConfig({
      ROSTER_DB_STATEMENT_TIMEOUT_MS: '0',
      ROSTER_CLIENT_MAX_IN_FLIGHT: '3',
      ROSTER_SHUTDOWN_GRACE_MS: '0',
      ROSTER_MAX_CONNECTIONS: '100',
      ROSTER_MAX_CONNECTIONS_PER_ADDRESS: '0',
      ROSTER_HEADERS_TIMEOUT_MS: '5000',
      ROSTER_REQUEST_TIMEOUT_MS: '5000',
    }).limits;
    expect(limits).toEqual({ dbStatementTimeoutMs: 0, clientMaxInFlight: 3, shutdownGraceMs: 0, maxConnections: 100, maxConnectionsPerAddress: 0, headersTimeoutMs: 5000, requestTimeoutMs: 5000 });
  });

  it.each([
    [{ ROSTER_DB_STATEMENT_TIMEOUT_MS: 'soon' }, 'ROSTER_DB_STATEMENT_TIMEOUT_MS: must be a whole number, got "soon"'],
    [{ ROSTER_DB_STATEMENT_TIMEOUT_MS: '50' }, 'ROSTER_DB_STATEMENT_TIMEOUT_MS: must be 0 (off) or at least 100, got 50'],
    [{ ROSTER_CLIENT_MAX_IN_FLIGHT: '0' }, 'ROSTER_CLIENT_MAX_IN_FLIGHT: must be between 1 and 10000, got 0'],
    [{ ROSTER_SHUTDOWN_GRACE_MS: '-1' }, 'ROSTER_SHUTDOWN_GRACE_MS: must be a whole number, got "-1"'],
    [{ ROSTER_MAX_CONNECTIONS: '0' }, 'ROSTER_MAX_CONNECTIONS: must be between 1 and 1000000, got 0'],
    [{ ROSTER_MAX_CONNECTIONS_PER_ADDRESS: 'many' }, 'ROSTER_MAX_CONNECTIONS_PER_ADDRESS: must be a whole number, got "many"'],
    [{ ROSTER_HEADERS_TIMEOUT_MS: '999' }, 'ROSTER_HEADERS_TIMEOUT_MS: must be between 1000 and 600000, got 999'],
    [{ ROSTER_REQUEST_TIMEOUT_MS: '10000' }, 'ROSTER_HEADERS_TIMEOUT_MS: must not exceed ROSTER_REQUEST_TIMEOUT_MS (10000), got 20000'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(refusal(env)).toBe(message);
  });
});

describe('ROSTER_ENCRYPTION_KEY', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('is unset by default and reads one or more keys, the first one encrypting', () => {
    expect(loadConfig({}).encryptionKeys).toBeUndefined();
    const keys = loadConfig({ ROSTER_ENCRYPTION_KEY: `${key},${Buffer.alloc(32, 8).toString('base64url')}` }).encryptionKeys!;
    expect(keys).toHaveLength(2);
    expect(keys[0]!.id).toMatch(/^[0-9a-f]{8}$/);
  });

  it.each([
    ['secret-but-not-base64!', 'ROSTER_ENCRYPTION_KEY: the key is not base64 or base64url; generate one with: openssl rand -base64 32'],
    [Buffer.alloc(24, 1).toString('base64'), 'ROSTER_ENCRYPTION_KEY: the key decodes to 24 bytes; AES-256 needs exactly 32 (openssl rand -base64 32)'],
    [`${Buffer.alloc(32, 7).toString('base64')},,`, 'ROSTER_ENCRYPTION_KEY: key 2 is empty; give one or more comma-separated 32-byte keys in base64 (openssl rand -base64 32)'],
  ])('refuses %j with one line naming the variable, without echoing the value', (value, message) => {
    const line = refusal({ ROSTER_ENCRYPTION_KEY: value });
    expect(line).toBe(message);
    expect(line).not.toContain(value);
  });
});
