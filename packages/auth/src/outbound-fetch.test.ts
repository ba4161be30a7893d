import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminOidcClient } from './admin-oidc-client.js';
import { createOidcDiscovery } from './discovery.js';
import { OutboundError, fetchOutbound, isInternalAddress, outboundPolicy, type OutboundPolicy } from './outbound-fetch.js';
import { createSamlMetadataFetcher } from './saml-fetch.js';

// Issue 20, item 9: SAML metadata fetch and OIDC discovery follow redirects by hand with the https rule on every
// hop, never reach loopback or link-local addresses unless insecure issuers are allowed, and tell the admin only
// "connection failed" (the log gets the detail). Real servers on 127.0.0.1: plain HTTP, and HTTPS with a
// certificate made for the test by openssl.

interface Served {
  port: number;
  hits: number;
  close(): Promise<void>;
}

async function serve(server: http.Server | https.Server | net.Server, counter: { hits: number }): Promise<Served> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get hits() {
      return counter.hits;
    },
    close: () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

const METADATA = '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/"/>';
let dir: string;
let cert: Buffer;
let plain: Served;
let resetter: Served;
let tls: Served;
let closedPort: number;
const logged: Array<Record<string, unknown>> = [];
const log = { warn: (details: Record<string, unknown>) => void logged.push(details) };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-outbound-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  cert = fs.readFileSync(path.join(dir, 'cert.pem'));

  const plainCount = { hits: 0 };
  plain = await serve(
    http.createServer((req, res) => {
      plainCount.hits += 1;
      res.writeHead(200, { 'content-type': 'application/xml' }).end(METADATA);
    }),
    plainCount,
  );
  const resetCount = { hits: 0 };
  resetter = await serve(
    net.createServer((socket) => {
      resetCount.hits += 1;
      socket.destroy();
    }),
    resetCount,
  );
  const tlsCount = { hits: 0 };
  tls = await serve(
    https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert }, (req, res) => {
      tlsCount.hits += 1;
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      if (url.pathname === '/to-http') return void res.writeHead(302, { location: `http://127.0.0.1:${plain.port}/metadata` }).end();
      if (url.pathname === '/.well-known/openid-configuration') return void res.writeHead(302, { location: `http://127.0.0.1:${plain.port}/.well-known/openid-configuration` }).end();
      if (url.pathname === '/to-https') return void res.writeHead(301, { location: '/metadata' }).end();
      if (url.pathname === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      res.writeHead(200, { 'content-type': 'application/xml' }).end(METADATA);
    }),
    tlsCount,
  );
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  await Promise.all([plain?.close(), resetter?.close(), tls?.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** https only on every hop, but loopback allowed, trusting the test certificate: the redirect rule alone. */
const httpsOnly = (): OutboundPolicy => ({ requireHttps: true, denyInternal: false, ca: cert });

async function refusal(promise: Promise<unknown>): Promise<OutboundError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OutboundError);
  return error as OutboundError;
}

describe('outbound requests to admin-typed URLs', () => {
  it('know loopback, link-local and unspecified addresses, mapped ones included', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '169.254.169.254', '0.0.0.0', '::1', '::', 'fe80::1', '::ffff:127.0.0.1']) expect(isInternalAddress(address), address).toBe(true);
    for (const address of ['10.0.0.1', '192.0.2.1', '2001:db8::1', '8.8.8.8']) expect(isInternalAddress(address), address).toBe(false);
  });

  it('never connect to loopback or link-local targets when insecure issuers are off, by literal or by name', async () => {
    const before = tls.hits;
    for (const url of [`https://127.0.0.1:${tls.port}/metadata`, `https://localhost:${tls.port}/metadata`, `https://[::1]:${tls.port}/`, 'https://169.254.169.254/latest/meta-data/']) {
      const error = await refusal(fetchOutbound(url, { timeoutMs: 5000, maxBytes: 1024 }, outboundPolicy(false)));
      expect(error.publicReason, url).toBe('connection failed');
    }
    expect(tls.hits).toBe(before);
  });

  it('follow a redirect only when its target keeps to https', async () => {
    const followed = await fetchOutbound(`https://127.0.0.1:${tls.port}/to-https`, { timeoutMs: 5000, maxBytes: 4096 }, httpsOnly());
    expect(followed.status).toBe(200);
    expect(followed.body.toString()).toBe(METADATA);
    const before = plain.hits;
    const downgraded = await refusal(fetchOutbound(`https://127.0.0.1:${tls.port}/to-http`, { timeoutMs: 5000, maxBytes: 4096 }, httpsOnly()));
    expect(downgraded.publicReason).toBe('redirected to a URL that is not https://');
    expect(plain.hits).toBe(before);
    expect((await refusal(fetchOutbound(`https://127.0.0.1:${tls.port}/loop`, { timeoutMs: 5000, maxBytes: 4096 }, httpsOnly()))).publicReason).toBe('too many redirects');
  });
});

describe('SAML metadata fetch', () => {
  it('refuses an https URL that redirects to http, and a loopback URL, without reaching the http server', async () => {
    const before = plain.hits;
    const strict = createSamlMetadataFetcher({ allowInsecure: false, policy: httpsOnly(), log });
    await expect(strict(`https://127.0.0.1:${tls.port}/to-http`)).rejects.toThrow('could not fetch metadata: redirected to a URL that is not https://');
    await expect(createSamlMetadataFetcher({ allowInsecure: false })(`https://127.0.0.1:${tls.port}/metadata`)).rejects.toThrow('could not fetch metadata: connection failed');
    expect(plain.hits).toBe(before);
    expect(await strict(`https://127.0.0.1:${tls.port}/to-https`)).toBe(METADATA);
  });

  it('says the same for a closed port and a connection reset; the log tells them apart', async () => {
    const fetcher = createSamlMetadataFetcher({ allowInsecure: true, log });
    logged.length = 0;
    const closed = await fetcher(`http://127.0.0.1:${closedPort}/metadata`).catch((error: Error) => error.message);
    const reset = await fetcher(`http://127.0.0.1:${resetter.port}/metadata`).catch((error: Error) => error.message);
    expect(closed).toBe('could not fetch metadata: connection failed');
    expect(reset).toBe(closed);
    expect(JSON.stringify(logged)).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(logged)).toMatch(/ECONNRESET|socket hang up/);
  });
});

describe('OpenID Connect discovery', () => {
  it('refuses a loopback issuer with a generic reason when insecure issuers are off', async () => {
    const outcome = await createOidcDiscovery({ allowInsecureIssuers: false, log }).discover(`https://127.0.0.1:${tls.port}`);
    expect(outcome).toEqual({ ok: false, error: { code: 'discovery_unreachable', message: 'could not fetch the discovery document: connection failed' } });
  });

  it('does not follow a redirect from https to http', async () => {
    const before = plain.hits;
    const outcome = await createOidcDiscovery({ allowInsecureIssuers: false, policy: httpsOnly(), log }).discover(`https://127.0.0.1:${tls.port}`);
    expect(outcome).toEqual({ ok: false, error: { code: 'discovery_unreachable', message: 'could not fetch the discovery document: redirected to a URL that is not https://' } });
    expect(plain.hits).toBe(before);
  });

  it('guards the discovery of admin sign-in the same way', async () => {
    const before = tls.hits;
    const client = createAdminOidcClient({ allowInsecureIssuers: false });
    const outcome = await client.authorizationUrl(
      { issuer: `https://127.0.0.1:${tls.port}`, clientId: 'roster', clientSecret: null },
      { redirectUri: 'https://roster.example/api/admin/oidc/callback', state: 's', nonce: 'n', codeVerifier: 'v'.repeat(43) },
    );
    expect(outcome).toMatchObject({ ok: false, code: 'provider_unavailable' });
    expect(tls.hits).toBe(before);
  });
});
