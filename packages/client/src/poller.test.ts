import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createRosterClient } from './client.js';
import { startEventPoller } from './poller.js';
import { createSetVerifier, type SecurityEvent } from './sets.js';

// The poller and the SET verifier against a real HTTP server on 127.0.0.1 that speaks the RFC 8936 poll
// contract ({maxEvents, returnImmediately, ack, setErrs} -> {sets, moreAvailable}) and publishes a JWKS, as
// Roster's event streams do. It records every request, so the tests assert what the poller acknowledged.

const STREAM = 'stream-1';
const TOKEN = 'roster_ast_' + 'T'.repeat(43);
let server: http.Server;
let baseUrl: string;
let key: CryptoKey;
let jwk: JWK;
const queue: Array<{ jti: string; set: string }> = [];
const requests: Array<Record<string, unknown>> = [];
const maxPerAnswer = 2;

async function makeSet(jti: string, events: Record<string, unknown>, options: { typ?: string; audience?: string } = {}): Promise<string> {
  return new SignJWT({ events, jti })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: options.typ ?? 'secevent+jwt' })
    .setIssuer(baseUrl)
    .setAudience(options.audience ?? 'sign-in-app')
    .setIssuedAt()
    .sign(key);
}

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  key = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  server = http.createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== `/api/v1/event-streams/${STREAM}/poll` || req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.statusCode = req.headers.authorization === `Bearer ${TOKEN}` ? 404 : 401;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: res.statusCode === 401 ? 'invalid_token' : 'not_found', message: 'refused' }));
      return;
    }
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as { maxEvents: number; ack?: string[] };
      requests.push(request);
      // Acknowledged SETs leave the queue (RFC 8936 §2.4); the rest stay until acknowledged.
      for (const jti of request.ack ?? []) queue.splice(queue.findIndex((entry) => entry.jti === jti) >>> 0, 1);
      const pending = queue.filter((entry) => !(request.ack ?? []).includes(entry.jti));
      const answer = pending.slice(0, Math.min(request.maxEvents, maxPerAnswer));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ sets: Object.fromEntries(answer.map((entry) => [entry.jti, entry.set])), moreAvailable: pending.length > answer.length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('event poller (RFC 8936)', () => {
  it('hands every SET to the handler, follows moreAvailable, and acknowledges what it processed', async () => {
    const deactivated = 'urn:ietf:params:SCIM:event:prov:patch:full';
    for (let index = 1; index <= 3; index += 1) queue.push({ jti: `j${index}`, set: await makeSet(`j${index}`, { [deactivated]: { id: `u${index}` } }) });
    const seen: string[] = [];
    const client = createRosterClient({ baseUrl, credentials: { token: TOKEN } });
    const poller = startEventPoller({
      client,
      streamId: STREAM,
      verify: createSetVerifier({ baseUrl, audience: 'sign-in-app' }),
      intervalMs: 20,
      onEvent: (event: SecurityEvent) => {
        seen.push(event.jti);
      },
    });
    await until('three events and their acknowledgement', () => seen.length === 3 && queue.length === 0);
    await poller.stop();
    expect(seen).toEqual(['j1', 'j2', 'j3']);
    expect(requests[0]).toEqual({ maxEvents: 100, returnImmediately: true, ack: [] });
    const acked = requests.flatMap((request) => (request.ack as string[]) ?? []);
    expect(acked).toEqual(['j1', 'j2', 'j3']);
  });

  it('reports a SET the handler refused in setErrs instead of acknowledging it, and refuses a forged one', async () => {
    requests.length = 0;
    queue.push({ jti: 'bad', set: await makeSet('bad', { x: {} }, { audience: 'someone-else' }) });
    queue.push({ jti: 'boom', set: await makeSet('boom', { x: {} }) });
    const poller = startEventPoller({
      client: createRosterClient({ baseUrl, credentials: { token: TOKEN } }),
      streamId: STREAM,
      verify: createSetVerifier({ baseUrl, audience: 'sign-in-app' }),
      intervalMs: 20,
      onEvent: () => {
        throw new Error('cannot handle this one');
      },
    });
    await until('both reported', () => requests.some((request) => request.setErrs !== undefined && Object.keys(request.setErrs as object).length === 2));
    await poller.stop();
    const report = requests.find((request) => request.setErrs !== undefined)!;
    expect(report.ack).toEqual([]);
    expect(report.setErrs).toEqual({
      bad: { err: 'invalid_request', description: expect.stringContaining('aud') },
      boom: { err: 'invalid_request', description: 'cannot handle this one' },
    });
    queue.length = 0;
  });

  it('verifies SETs: signature, issuer, audience and the secevent+jwt type (RFC 8417 §2.3)', async () => {
    const verify = createSetVerifier({ baseUrl, audience: 'sign-in-app' });
    expect((await verify(await makeSet('ok', { e: {} }))).jti).toBe('ok');
    await expect(verify(await makeSet('typ', { e: {} }, { typ: 'JWT' }))).rejects.toThrow(/typ/);
    const other = await generateKeyPair('ES256');
    const forged = await new SignJWT({ events: {}, jti: 'f' }).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'secevent+jwt' }).setIssuer(baseUrl).setAudience('sign-in-app').sign(other.privateKey);
    await expect(verify(forged)).rejects.toThrow(/signature/);
  });

  it('reports a refused poll as RosterApiError with the code', async () => {
    const client = createRosterClient({ baseUrl, credentials: { token: 'roster_ast_' + 'W'.repeat(43) } });
    await expect(client.pollEvents(STREAM, { returnImmediately: true })).rejects.toMatchObject({ name: 'RosterApiError', status: 401, code: 'invalid_token' });
  });
});
