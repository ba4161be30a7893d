import { parseEncryptionKeys, type EncryptionKey } from '@roster/domain';
import { parseTrustedProxies, type TrustedProxies } from './middleware/client-address.js';

// Configuration is read from the environment once, validated, and frozen. An invalid value stops the process
// at start with one line naming the variable (see main.ts); nothing reads process.env after this.

export interface Config {
  /** PORT: TCP port to listen on. Default 8080. */
  port: number;
  /** HOST: address to bind. Default 127.0.0.1 (loopback): put a reverse proxy in front for the network. */
  host: string;
  /** PUBLIC_URL: the URL clients use to reach Roster, without trailing slash; builds meta.location and OAuth metadata. */
  publicUrl: string;
  /** DATABASE_URL: postgres:// URL. Absent: the embedded database (PGlite) in `dataDir`. */
  databaseUrl: string | undefined;
  /** ROSTER_DATA_DIR: embedded database directory. Default ./.roster-data. */
  dataDir: string;
  /** ROSTER_ADMIN_EMAIL + ROSTER_ADMIN_PASSWORD: ensure this admin exists at start (both or neither). */
  bootstrapAdmin: { email: string; password: string } | undefined;
  /**
   * ROSTER_ALLOW_INSECURE_ISSUERS=1: allow http:// OIDC issuers. Development and tests only: an http issuer's
   * keys can be swapped by anyone on the path, so Roster warns loudly at start when this is on.
   */
  allowInsecureIssuers: boolean;
  /** LOG_LEVEL: pino level (fatal, error, warn, info, debug, trace, silent). Default info. */
  logLevel: string;
  /** ROSTER_DB_POOL_MAX: PostgreSQL pool size per process. Default 10. */
  dbPoolMax: number;
  /** ROSTER_DB_PREPARED_STATEMENTS: named prepared statements for the hot reads on PostgreSQL. Default 1. */
  dbPreparedStatements: boolean;
  /** ROSTER_ACCESS_TOKEN_TTL: lifetime in seconds of OAuth access tokens we issue (300..21600). Default 3600. */
  accessTokenTtlSeconds: number;
  /** ROSTER_RATE_LIMIT_PER_SECOND / ROSTER_RATE_LIMIT_BURST: token bucket per SCIM client. Defaults 200 / 400. */
  rateLimit: { perSecond: number; burst: number };
  /** ROSTER_SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for in-flight requests. Default 10000. */
  shutdownTimeoutMs: number;
  /** ROSTER_CREDENTIAL_CACHE_MS: how long a verified credential is trusted without asking the database. Default 5000 (the revocation bound across processes). */
  credentialCacheMs: number;
  /**
   * ROSTER_TRUSTED_PROXIES: comma-separated IPs or CIDR ranges of the load balancers in front. X-Forwarded-For
   * is read only on requests arriving from one of them, walked from the right (middleware/client-address.ts).
   * Default none: the socket's address is the client's. The throttles of /oauth/token and admin sign-in key
   * on that address, so behind a balancer without this setting every client shares one.
   */
  trustedProxies: TrustedProxies | undefined;
  /** Resource limits against one client starving the others (issue 20: items 5, 6, 7, 8b); see `loadLimits`. */
  limits: Limits;
  /**
   * Event delivery tuning (docs/events.md). ROSTER_EVENT_RETRY_BASE_MS: the first push retry waits 1-2 times this
   * (default 2000, so within 5 s), doubling up to 1 h. ROSTER_EVENT_LEASE_MS: how long a process holds a stream
   * without renewing; another process takes over a crashed one after at most this (default 15000).
   * ROSTER_EVENT_VISIBILITY_MS: a polled SET not acknowledged within this is handed out again (default 60000).
   */
  events: { retryBaseMs: number; leaseMs: number; visibilityTimeoutMs: number };
  /**
   * ROSTER_ENCRYPTION_KEY: one or more comma-separated 32-byte keys (base64 or base64url; `openssl rand -base64 32`)
   * that encrypt the secrets Roster must read back (push Authorization headers, private event signing keys) with
   * AES-256-GCM. The first key encrypts, every key decrypts: rotate by putting a new key first and dropping the old
   * one after a start (docs/operations.md). Unset: the embedded database generates one into
   * `<ROSTER_DATA_DIR>/encryption.key`; on PostgreSQL those secrets are stored unencrypted, with a warning at start.
   */
  encryptionKeys: readonly EncryptionKey[] | undefined;
}


/**
 * Limits that keep one client, or one address, from starving the others. Every value has a default that suits a
 * single process behind a reverse proxy; the reverse proxy (connection and request limits of its own) is still the
 * first line (docs/operations.md, "Security model").
 */
export interface Limits {
  /**
   * ROSTER_DB_STATEMENT_TIMEOUT_MS: PostgreSQL's statement_timeout, set once per connection (no round trip per
   * query). A statement running longer is cancelled and the request answered with a SCIM error saying it was too
   * expensive. Default 15000; 0 turns it off (not recommended).
   */
  dbStatementTimeoutMs: number;
  /**
   * ROSTER_CLIENT_MAX_IN_FLIGHT: requests one SCIM client may have running at once in a process; the next is
   * answered 429 with Retry-After. Keeps one client from holding every database connection. Default 8.
   */
  clientMaxInFlight: number;
  /**
   * ROSTER_SHUTDOWN_GRACE_MS: after SIGTERM, /readyz answers 503 at once while the listener keeps accepting for
   * this long, so a load balancer sees the process leave before connections are refused. Default 2000.
   */
  shutdownGraceMs: number;
  /** ROSTER_MAX_CONNECTIONS: open connections the process accepts; more are dropped (logged). Default 4096; keep it below `ulimit -n`. */
  maxConnections: number;
  /**
   * ROSTER_MAX_CONNECTIONS_PER_ADDRESS: open connections from one remote address; more are closed at once
   * (logged). Default 512. Behind a reverse proxy every connection comes from the proxy: raise it to
   * ROSTER_MAX_CONNECTIONS there, or 0 (off).
   */
  maxConnectionsPerAddress: number;
  /** ROSTER_HEADERS_TIMEOUT_MS: time to receive a request's headers (Node's headersTimeout). Default 20000. */
  headersTimeoutMs: number;
  /** ROSTER_REQUEST_TIMEOUT_MS: time to receive a whole request, body included (Node's requestTimeout); answered 408. Default 60000. */
  requestTimeoutMs: number;
}

function loadLimits(env: Env): Limits {
  const limits: Limits = {
    dbStatementTimeoutMs: integer(env, 'ROSTER_DB_STATEMENT_TIMEOUT_MS', 15_000, 0, 3_600_000),
    clientMaxInFlight: integer(env, 'ROSTER_CLIENT_MAX_IN_FLIGHT', 8, 1, 10_000),
    shutdownGraceMs: integer(env, 'ROSTER_SHUTDOWN_GRACE_MS', 2000, 0, 300_000),
    maxConnections: integer(env, 'ROSTER_MAX_CONNECTIONS', 4096, 1, 1_000_000),
    maxConnectionsPerAddress: integer(env, 'ROSTER_MAX_CONNECTIONS_PER_ADDRESS', 512, 0, 1_000_000),
    headersTimeoutMs: integer(env, 'ROSTER_HEADERS_TIMEOUT_MS', 20_000, 1000, 600_000),
    requestTimeoutMs: integer(env, 'ROSTER_REQUEST_TIMEOUT_MS', 60_000, 1000, 3_600_000),
  };
  if (limits.dbStatementTimeoutMs > 0 && limits.dbStatementTimeoutMs < 100) {
    throw new ConfigError('ROSTER_DB_STATEMENT_TIMEOUT_MS', `must be 0 (off) or at least 100, got ${limits.dbStatementTimeoutMs}`);
  }
  // Node requires headersTimeout <= requestTimeout (http.Server, "server.headersTimeout").
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new ConfigError('ROSTER_HEADERS_TIMEOUT_MS', `must not exceed ROSTER_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs}), got ${limits.headersTimeoutMs}`);
  }
  return Object.freeze(limits);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function flag(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw.toLowerCase() === 'false') return false;
  if (raw === '1' || raw.toLowerCase() === 'true') return true;
  throw new ConfigError(name, `must be 1 or 0, got "${raw}"`);
}

function encryptionKeys(env: Env): readonly EncryptionKey[] | undefined {
  const raw = env.ROSTER_ENCRYPTION_KEY;
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    return Object.freeze(parseEncryptionKeys(raw));
  } catch (error) {
    // The message never repeats the value: it is a secret.
    throw new ConfigError('ROSTER_ENCRYPTION_KEY', (error as Error).message);
  }
}

function trustedProxies(env: Env): TrustedProxies | undefined {
  const raw = env.ROSTER_TRUSTED_PROXIES?.trim();
  if (!raw) return undefined;
  try {
    const parsed = parseTrustedProxies(raw);
    return parsed.cidrs.length ? parsed : undefined;
  } catch (error) {
    throw new ConfigError('ROSTER_TRUSTED_PROXIES', `must be a comma-separated list of IP addresses or CIDR ranges: ${(error as Error).message}`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST?.trim() || '127.0.0.1';

  let publicUrl = env.PUBLIC_URL?.trim() || `http://localhost:${port}`;
  try {
    const parsed = new URL(publicUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    if (parsed.search || parsed.hash) throw new Error('query');
  } catch {
    throw new ConfigError('PUBLIC_URL', `must be an absolute http(s) URL without query, got "${publicUrl}"`);
  }
  publicUrl = publicUrl.replace(/\/+$/, '');

  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined) {
    if (!['postgres:', 'postgresql:'].includes(URL.parse(databaseUrl)?.protocol ?? '')) throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL');
  }

  const email = env.ROSTER_ADMIN_EMAIL?.trim() || undefined;
  const password = env.ROSTER_ADMIN_PASSWORD || undefined;
  if (email && !password) throw new ConfigError('ROSTER_ADMIN_PASSWORD', 'is required when ROSTER_ADMIN_EMAIL is set');
  if (password && !email) throw new ConfigError('ROSTER_ADMIN_EMAIL', 'is required when ROSTER_ADMIN_PASSWORD is set');
  if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) throw new ConfigError('ROSTER_ADMIN_EMAIL', 'must be an email address');
  if (password && password.length < 12) throw new ConfigError('ROSTER_ADMIN_PASSWORD', 'must be at least 12 characters');

  const logLevel = env.LOG_LEVEL?.trim().toLowerCase() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);

  return Object.freeze({
    port,
    host,
    publicUrl,
    databaseUrl,
    dataDir: env.ROSTER_DATA_DIR?.trim() || '.roster-data',
    bootstrapAdmin: email && password ? { email, password } : undefined,
    allowInsecureIssuers: flag(env, 'ROSTER_ALLOW_INSECURE_ISSUERS'),
    logLevel,
    dbPoolMax: integer(env, 'ROSTER_DB_POOL_MAX', 10, 1, 200),
    dbPreparedStatements: env.ROSTER_DB_PREPARED_STATEMENTS === undefined || env.ROSTER_DB_PREPARED_STATEMENTS.trim() === '' ? true : flag(env, 'ROSTER_DB_PREPARED_STATEMENTS'),
    accessTokenTtlSeconds: integer(env, 'ROSTER_ACCESS_TOKEN_TTL', 3600, 300, 21600),
    rateLimit: {
      perSecond: integer(env, 'ROSTER_RATE_LIMIT_PER_SECOND', 200, 1, 1_000_000),
      burst: integer(env, 'ROSTER_RATE_LIMIT_BURST', 400, 1, 1_000_000),
    },
    shutdownTimeoutMs: integer(env, 'ROSTER_SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    credentialCacheMs: integer(env, 'ROSTER_CREDENTIAL_CACHE_MS', 5000, 0, 5000),
    trustedProxies: trustedProxies(env),
    limits: loadLimits(env),
    events: {
      retryBaseMs: integer(env, 'ROSTER_EVENT_RETRY_BASE_MS', 2000, 10, 2500),
      leaseMs: integer(env, 'ROSTER_EVENT_LEASE_MS', 15_000, 1000, 25_000),
      visibilityTimeoutMs: integer(env, 'ROSTER_EVENT_VISIBILITY_MS', 60_000, 1000, 3_600_000),
    },
    encryptionKeys: encryptionKeys(env),
  });
}
