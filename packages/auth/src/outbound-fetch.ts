import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

// Requests Roster makes to URLs an admin typed (SAML metadata, OpenID Connect discovery): a way for whoever can
// edit an authentication provider to make the server knock on addresses it can reach and the admin cannot.
// So, on every hop (issue 20, item 9):
// - the scheme is https (http too only with ROSTER_ALLOW_INSECURE_ISSUERS=1, development and tests);
// - redirects are followed by hand, at most MAX_REDIRECTS, each target checked again (fetch's own `follow`
//   would take an https URL to http://127.0.0.1 unchecked);
// - the address connected to is not loopback, link-local (cloud metadata at 169.254.169.254) or unspecified,
//   checked on the address the socket actually uses (a `lookup` hook), so DNS answering differently between a
//   check and the connect changes nothing; ROSTER_ALLOW_INSECURE_ISSUERS=1 lifts this for local providers;
// - errors the admin sees are generic ("connection failed"): whether a port was closed, filtered or refused
//   is the map an attacker wants. The precise reason goes to the log only.

export const MAX_REDIRECTS = 3;

const DENIED = new BlockList();
DENIED.addSubnet('127.0.0.0', 8, 'ipv4');
DENIED.addSubnet('0.0.0.0', 8, 'ipv4');
DENIED.addSubnet('169.254.0.0', 16, 'ipv4');
DENIED.addAddress('::1', 'ipv6');
DENIED.addAddress('::', 'ipv6');
DENIED.addSubnet('fe80::', 10, 'ipv6');

/** Loopback, link-local or unspecified, IPv4-mapped IPv6 included. */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1]! : address;
  const family = isIP(plain);
  return family !== 0 && DENIED.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

export interface OutboundPolicy {
  /** Only https:// on every hop. */
  requireHttps: boolean;
  /** Refuse loopback, link-local and unspecified addresses. */
  denyInternal: boolean;
  /** Extra trusted CA certificates (tests with a self-signed server). */
  ca?: string | Buffer;
}

/** The policy ROSTER_ALLOW_INSECURE_ISSUERS decides. */
export function outboundPolicy(allowInsecure: boolean): OutboundPolicy {
  return { requireHttps: !allowInsecure, denyInternal: !allowInsecure };
}

/** A refused or failed outbound request: `publicReason` may be shown, `detail` goes to the log only. */
export class OutboundError extends Error {
  override name = 'OutboundError';
  constructor(
    readonly publicReason: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(publicReason, options);
  }
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: string;
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

const CONNECTION_FAILED = 'connection failed';

function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return (callback as (e: Error) => void)(error);
      const list = addresses as dns.LookupAddress[];
      const allowed = policy.denyInternal ? list.filter((entry) => !isInternalAddress(entry.address)) : list;
      if (allowed.length === 0) {
        const refused = Object.assign(new Error(`${hostname} resolves only to internal addresses (${list.map((entry) => entry.address).join(', ')})`), { code: 'EADDRNOTALLOWED' });
        return (callback as (e: Error) => void)(refused);
      }
      if ((options as { all?: boolean }).all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
      return (callback as (e: null, a: string, f: number) => void)(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

function checkTarget(url: URL, policy: OutboundPolicy, hop: number): void {
  const schemes = policy.requireHttps ? ['https:'] : ['https:', 'http:'];
  if (!schemes.includes(url.protocol)) {
    throw new OutboundError(hop === 0 ? 'the URL must be https://' : 'redirected to a URL that is not https://', `hop ${hop}: scheme ${url.protocol} not allowed`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // An IP literal never goes through lookup: check it here.
  if (policy.denyInternal && isIP(host) !== 0 && isInternalAddress(host)) {
    throw new OutboundError(CONNECTION_FAILED, `hop ${hop}: ${host} is a loopback, link-local or unspecified address`);
  }
}

function once(url: URL, request: OutboundRequest, policy: OutboundPolicy, signal: AbortSignal): Promise<OutboundResponse> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const outgoing = transport.request(
      url,
      {
        method: request.method ?? 'GET',
        headers: request.headers,
        lookup: guardedLookup(policy),
        signal,
        ...(policy.ca ? { ca: policy.ca } : {}),
      },
      (response) => {
        const declared = Number(response.headers['content-length'] ?? '0');
        const status = response.statusCode ?? 0;
        // A redirect's body is not read; anything else is bounded.
        if (declared > request.maxBytes && !(status >= 300 && status < 400)) {
          response.destroy();
          reject(new OutboundError('the response is too large', `declared ${declared} bytes`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > request.maxBytes) {
            response.destroy();
            reject(new OutboundError('the response is too large', `more than ${request.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (Array.isArray(value)) for (const item of value) headers.append(name, item);
            else if (value !== undefined) headers.set(name, value);
          }
          resolve({ status, headers, body: Buffer.concat(chunks), url: url.href });
        });
        response.on('error', (error) => reject(new OutboundError(CONNECTION_FAILED, `reading ${url.host}: ${error.message}`, { cause: error })));
      },
    );
    outgoing.on('error', (error: Error & { code?: string }) => {
      const detail = signal.aborted ? `${url.host}: timed out` : `${url.host}: ${error.code ?? ''} ${error.message}`.trim();
      reject(new OutboundError(CONNECTION_FAILED, detail, { cause: error }));
    });
    if (request.body !== undefined) outgoing.write(request.body);
    outgoing.end();
  });
}

/** One request with every hop checked (see the top of this file). Throws OutboundError. */
export async function fetchOutbound(target: string | URL, request: OutboundRequest, policy: OutboundPolicy): Promise<OutboundResponse> {
  let url: URL;
  try {
    url = new URL(target);
  } catch (error) {
    throw new OutboundError('the URL is not valid', String(target).slice(0, 200), { cause: error });
  }
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  for (let hop = 0; ; hop += 1) {
    checkTarget(url, policy, hop);
    const response = await once(url, request, policy, signal);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return response;
    if (hop >= MAX_REDIRECTS) throw new OutboundError('too many redirects', `more than ${MAX_REDIRECTS} redirects, last to ${location}`);
    try {
      url = new URL(location, url);
    } catch (error) {
      throw new OutboundError('redirected to an invalid URL', location.slice(0, 200), { cause: error });
    }
    // A redirect is followed with GET and no body (RFC 9110 §15.4: what 301/302/303 clients do).
    request = { ...request, method: 'GET', body: undefined };
  }
}

/** fetchOutbound in the shape openid-client's `customFetch` wants (a web Response; redirects are ours). */
export function outboundFetchFor(policy: OutboundPolicy, maxBytes = 1024 * 1024) {
  return async (url: string, options: { method: string; headers: Record<string, string>; body?: unknown; signal?: AbortSignal }): Promise<Response> => {
    const body = typeof options.body === 'string' ? options.body : options.body instanceof URLSearchParams ? options.body.toString() : undefined;
    const answered = await fetchOutbound(url, { method: options.method, headers: options.headers, body, timeoutMs: 30_000, maxBytes, ...(options.signal ? { signal: options.signal } : {}) }, policy);
    return new Response(answered.status === 204 || answered.status === 304 ? null : new Uint8Array(answered.body), { status: answered.status, headers: answered.headers });
  };
}
