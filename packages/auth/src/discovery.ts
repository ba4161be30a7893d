import * as oidc from 'openid-client';
import type { Clock, DiscoveryOutcome, OidcProviderMetadata } from '@roster/domain';
import { OutboundError, outboundFetchFor, outboundPolicy, type OutboundPolicy } from './outbound-fetch.js';
import type { OutboundLog } from './saml-fetch.js';

// OpenID Connect discovery (OpenID Connect Discovery 1.0 §4) through openid-client, which also checks that
// the document's `issuer` equals the URL asked for (§4.3). Results are cached per issuer and refreshed after
// `ttlMs`; when a refresh fails the last good metadata (or what the database stored at save time) keeps
// serving, so a provider's brief outage does not lock every SCIM client out. Its HTTP requests go through
// outbound-fetch.ts: https on every hop, redirects checked by hand, no loopback or link-local targets (unless
// ROSTER_ALLOW_INSECURE_ISSUERS=1), and network failures reported as "connection failed", the detail logged.

export interface OidcDiscoveryOptions {
  /** http:// issuers only when ROSTER_ALLOW_INSECURE_ISSUERS=1 (openid-client refuses them otherwise). */
  allowInsecureIssuers: boolean;
  /** How long discovered metadata is used before it is fetched again. Default 1 hour. */
  ttlMs?: number;
  /** Per-request timeout in seconds. Default 10 (openid-client's own default is 30). */
  timeoutSeconds?: number;
  clock?: Clock;
  /** Where the precise reason of a network failure goes. */
  log?: OutboundLog;
  /** Overrides what allowInsecureIssuers decides (tests). */
  policy?: OutboundPolicy;
}

export interface OidcDiscovery {
  /** A fresh discovery; never throws: the outcome carries the exact error for the admin. */
  discover(issuer: string): Promise<DiscoveryOutcome>;
  /** Cached metadata for `issuer`, refreshed after the TTL; falls back to `stored` when discovery fails. */
  metadataFor(issuer: string, stored?: Partial<OidcProviderMetadata> | null): Promise<OidcProviderMetadata | null>;
}

function outboundCause(error: unknown): OutboundError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if (current instanceof OutboundError) return current;
  }
  return undefined;
}

function describe(error: unknown): { code: string; message: string } {
  // Network failures read the same whatever happened (closed port, refused address, timeout): the log has it.
  const outbound = outboundCause(error);
  if (outbound) return { code: 'discovery_unreachable', message: `could not fetch the discovery document: ${outbound.publicReason}` };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    let message = error.message;
    if (code === 'OAUTH_HTTP_REQUEST_FORBIDDEN') {
      message = 'the issuer uses http://; only https:// issuers are accepted (ROSTER_ALLOW_INSECURE_ISSUERS=1 allows http for development)';
    }
    // fetch failures hide the real reason (ECONNREFUSED, ENOTFOUND, certificate errors) in `cause`.
    const cause = error.cause instanceof Error ? error.cause : undefined;
    if (cause && !message.includes(cause.message)) message = `${message}: ${cause.message}`;
    if (error instanceof oidc.ResponseBodyError) message = `${message} (HTTP ${error.status})`;
    return { code: typeof code === 'string' ? code : error.name, message };
  }
  return { code: 'unknown', message: String(error) };
}

export function createOidcDiscovery(options: OidcDiscoveryOptions): OidcDiscovery {
  const ttlMs = options.ttlMs ?? 3_600_000;
  const clock = options.clock ?? (() => new Date());
  const cache = new Map<string, { metadata: OidcProviderMetadata; fetchedAt: number }>();
  const inflight = new Map<string, Promise<DiscoveryOutcome>>();
  const policy = options.policy ?? outboundPolicy(options.allowInsecureIssuers);
  const fetchGuarded = outboundFetchFor(policy);

  async function run(issuer: string): Promise<DiscoveryOutcome> {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      return { ok: false, error: { code: 'invalid_issuer', message: `"${issuer}" is not a URL` } };
    }
    try {
      // The client id is irrelevant to discovery; openid-client needs one to build its Configuration.
      const configuration = await oidc.discovery(url, 'roster', undefined, undefined, {
        execute: options.allowInsecureIssuers ? [oidc.allowInsecureRequests] : [],
        timeout: options.timeoutSeconds ?? 10,
        [oidc.customFetch]: fetchGuarded,
      });
      const server = configuration.serverMetadata();
      if (typeof server.jwks_uri !== 'string') {
        return { ok: false, error: { code: 'no_jwks_uri', message: 'the discovery document has no jwks_uri, so token signatures cannot be checked' } };
      }
      if (!options.allowInsecureIssuers && !server.jwks_uri.startsWith('https://')) {
        return { ok: false, error: { code: 'insecure_jwks_uri', message: 'the jwks_uri is not https://' } };
      }
      const metadata: OidcProviderMetadata = {
        issuer: server.issuer,
        jwks_uri: server.jwks_uri,
        token_endpoint: server.token_endpoint,
        authorization_endpoint: server.authorization_endpoint,
        userinfo_endpoint: server.userinfo_endpoint,
        end_session_endpoint: server.end_session_endpoint,
        id_token_signing_alg_values_supported: server.id_token_signing_alg_values_supported,
        discovered_at: clock().toISOString(),
      };
      cache.set(metadata.issuer, { metadata, fetchedAt: clock().getTime() });
      return { ok: true, metadata };
    } catch (error) {
      const outbound = outboundCause(error);
      if (outbound) options.log?.warn({ issuer: url.origin, reason: outbound.detail }, 'OpenID Connect discovery failed');
      return { ok: false, error: describe(error) };
    }
  }

  function discover(issuer: string): Promise<DiscoveryOutcome> {
    // Concurrent requests for one issuer share one fetch.
    let pending = inflight.get(issuer);
    if (!pending) {
      pending = run(issuer).finally(() => inflight.delete(issuer));
      inflight.set(issuer, pending);
    }
    return pending;
  }

  return {
    discover,
    async metadataFor(issuer, stored) {
      const cached = cache.get(issuer);
      if (cached && clock().getTime() - cached.fetchedAt < ttlMs) return cached.metadata;
      const outcome = await discover(issuer);
      if (outcome.ok) return outcome.metadata;
      if (cached) {
        // Keep serving the last good metadata, and do not retry on every request until the TTL passes again.
        cached.fetchedAt = clock().getTime() - ttlMs + Math.min(ttlMs, 60_000);
        return cached.metadata;
      }
      if (stored && typeof stored.jwks_uri === 'string' && typeof stored.issuer === 'string') return stored as OidcProviderMetadata;
      return null;
    },
  };
}
