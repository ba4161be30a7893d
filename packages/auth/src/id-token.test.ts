import { KeyObject, sign as cryptoSign, type webcrypto } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { SignInProvider } from '@roster/domain';
import { createIdTokenVerifier } from './id-token.js';

// The ID token verification of sign-in resolution (node:crypto on keys jose fetched), against a JWKS served on
// 127.0.0.1: every accepted algorithm, and each refusal with the reason applications and the bench read.

const ISSUER = 'https://idp.example';
const CLIENT_ID = 'roster-app';
const NOW = new Date('2026-12-07T06:00:00.000Z');
const now = Math.floor(NOW.getTime() / 1000);

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
}

let server: http.Server;
let provider: SignInProvider;
const keys: Record<string, SigningKey> = {};
const published: JWK[] = [];

async function addKey(kid: string, alg: string, options: Parameters<typeof generateKeyPair>[1] = {}): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  published.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' });
  return (keys[kid] = { kid, alg, privateKey });
}

function sign(key: SigningKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, sub: 'sub-ada', aud: CLIENT_ID, iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

beforeAll(async () => {
  await addKey('rs', 'RS256');
  await addKey('ps', 'PS384');
  await addKey('es', 'ES256');
  await addKey('ed', 'EdDSA', { crv: 'Ed25519' });
  // Two keys under one kid (a rotation that reused it): which one signed is ambiguous, and the token refused.
  await addKey('twin', 'ES384');
  await addKey('twin', 'ES384');
  server = http.createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  provider = { id: 'p', kind: 'oidc', issuer: ISSUER, clientId: CLIENT_ID, jwksUri: `http://127.0.0.1:${port}/jwks`, identityMapping: { claim: 'sub', attribute: 'externalId' } };
});

afterAll(async () => {
  await new Promise((closed) => server.close(closed));
});

/** A token whose header jose would refuse to produce, signed with node:crypto. */
function signedByHand(key: SigningKey, header: Record<string, unknown>, encodedPayload: string): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${encodedPayload}`;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), KeyObject.from(key.privateKey as unknown as webcrypto.CryptoKey)).toString('base64url')}`;
}

const verifier = () => createIdTokenVerifier({ allowInsecureIssuers: true, clock: () => NOW });

describe('ID token verification', () => {
  it('accepts each asymmetric algorithm with the key its kid names, and answers the claims', async () => {
    const verify = verifier();
    for (const kid of ['rs', 'ps', 'es', 'ed']) {
      const outcome = await verify.verify(provider, await sign(keys[kid]!, { nonce: 'n' }), 'n');
      expect([kid, outcome]).toEqual([kid, { ok: true, claims: expect.objectContaining({ sub: 'sub-ada', aud: CLIENT_ID, nonce: 'n' }) }]);
    }
  });

  it('refuses a bad token with a precise reason, never its claims', async () => {
    const verify = verifier();
    const good = await sign(keys.rs!);
    const [header, payload] = good.split('.');
    const other = await sign(keys.es!);
    const cases: Array<[string, string, string]> = [
      ['another signature', `${header}.${payload}.${other.split('.')[2]}`, 'signature'],
      ['a key of another type under the kid', await sign({ ...keys.es!, kid: 'rs' }), 'signature'],
      ['an unknown kid', await sign({ ...keys.rs!, kid: 'gone' }), 'signature'],
      ['HMAC', await new SignJWT({ iss: ISSUER, sub: 'x', aud: CLIENT_ID, iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('s'.repeat(32))), 'algorithm'],
      ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`, 'algorithm'],
      ['a critical extension', signedByHand(keys.rs!, { alg: 'RS256', kid: 'rs', crit: ['exp'], exp: now }, payload!), 'invalid'],
      ['b64 false', signedByHand(keys.rs!, { alg: 'RS256', kid: 'rs', crit: ['b64'], b64: false }, payload!), 'invalid'],
      ['a kid two keys carry', await sign(keys.twin!), 'invalid'],
      ['a payload changed after signing', `${header}.${payload}!.${good.split('.')[2]}`, 'signature'],
      ['a signature not base64url', `${header}.${payload}.sig!`, 'invalid'],
      ['another issuer', await sign(keys.rs!, { iss: 'https://evil.example' }), 'claim_iss'],
      ['another audience', await sign(keys.rs!, { aud: ['other', 'third'] }), 'claim_aud'],
      ['no subject', await sign(keys.rs!, { sub: undefined }), 'claim_sub'],
      ['no iat', await sign(keys.rs!, { iat: undefined }), 'claim_iat'],
      ['exp not a number', await sign(keys.rs!, { exp: 'tomorrow' as unknown as number }), 'claim_exp'],
      ['not yet valid', await sign(keys.rs!, { nbf: now + 31 }), 'claim_nbf'],
      ['expired beyond the tolerance', await sign(keys.rs!, { exp: now - 30 }), 'expired'],
      ['several audiences without azp', await sign(keys.rs!, { aud: [CLIENT_ID, 'other'] }), 'azp'],
    ];
    for (const [what, token, reason] of cases) {
      const outcome = await verify.verify(provider, token);
      expect([what, outcome]).toEqual([what, { ok: false, reason, message: expect.stringMatching(/^(the ID token|idToken)/) }]);
    }
    expect(await verify.verify(provider, good, 'other-nonce')).toMatchObject({ ok: false, reason: 'nonce' });
  });

  it('accepts the clock tolerance of 30 seconds on exp and nbf', async () => {
    const verify = verifier();
    expect(await verify.verify(provider, await sign(keys.rs!, { exp: now - 29, nbf: now + 30 }))).toMatchObject({ ok: true });
    expect(await verify.verify(provider, await sign(keys.rs!, { aud: [CLIENT_ID, 'other'], azp: CLIENT_ID }))).toMatchObject({ ok: true });
    // b64 true (RFC 7797) is the encoding JWTs use anyway: understood, and accepted.
    expect(await verify.verify(provider, await sign(keys.rs!, {}, { b64: true, crit: ['b64'] }))).toMatchObject({ ok: true });
  });
});
