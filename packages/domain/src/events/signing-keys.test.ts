import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createEventSigner } from './signing-keys.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.destroy();
});

const claims = { jti: 'a1', iss: 'https://roster.example.com', aud: 'https://crm.example.com', iat: 1765000000, txn: 'req-1', events: { 'urn:x': {} } };

describe('event signer', () => {
  it('signs a compact JWS with node:crypto that jose verifies against the published JWKS (ES256, typ secevent+jwt, kid)', async () => {
    const signer = createEventSigner(db.knex);
    const token = await signer.sign(claims);
    const jwks = createLocalJWKSet(await signer.jwks());
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { algorithms: ['ES256'], typ: 'secevent+jwt', issuer: claims.iss, audience: claims.aud });
    expect(payload).toEqual(claims);
    const [kid] = (await signer.list()).map((key) => key.kid);
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'secevent+jwt', kid });
    // RFC 7518 §3.4: the signature is R || S, 64 bytes, not a DER sequence.
    expect(Buffer.from(token.split('.')[2]!, 'base64url')).toHaveLength(64);
  });

  it('signs with the new key at once after a rotation, and the JWKS still verifies SETs of the retired one', async () => {
    const signer = createEventSigner(db.knex);
    const before = await signer.sign(claims);
    const kid = await signer.rotate();
    const after = await signer.sign(claims);
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    expect(decodeProtectedHeader(before).kid).not.toBe(kid);
    const jwks = createLocalJWKSet(await signer.jwks());
    await expect(jwtVerify(before, jwks)).resolves.toBeTruthy();
    await expect(jwtVerify(after, jwks)).resolves.toBeTruthy();
  });
});
