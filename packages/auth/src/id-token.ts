import { KeyObject, constants, verify as verifySignature, type VerifyKeyObjectInput, type webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { systemClock, type Clock, type SignInProvider } from '@roster/domain';

// Verification of an OpenID Connect ID token that an application hands to sign-in resolution, so the
// application need not verify it itself (OpenID Connect Core 1.0 §3.1.3.7): signature by the provider's keys
// (its jwks_uri from discovery, fetched and cached by jose), `iss` equal to the provider's issuer, `aud`
// containing our client id at the provider (and `azp` equal to it when there are several audiences), `exp`
// in the future, and `nonce` equal to the one the application sent when it sent one.
//
// jose finds, fetches and caches the keys (createRemoteJWKSet: the JWKS and each key imported once per
// algorithm); the signature is checked here with node:crypto, synchronously, on a KeyObject made once per key,
// and the claims as jose's jwtVerify checks them (RFC 7519 §7.2), failing with jose's own error classes. jose 6
// verifies through WebCrypto, which runs each verification as a job on libuv's thread pool: about three times
// the CPU of node:crypto's verify for an RS256 ID token (docs/benchmarks.md, "Sign-in resolution (issue 19)").

export type IdTokenOutcome = { ok: true; claims: JWTPayload } | { ok: false; reason: string; message: string };

/**
 * Only asymmetric signatures: `none` and HMAC (keyed with the client secret) are refused. Per algorithm, how
 * node:crypto verifies it (RFC 7518 §3.3-3.5, RFC 8037 §3.1): the digest, RSASSA-PSS with a salt as long as the
 * digest, and ECDSA signatures as R || S (not DER).
 */
const SIGNATURES: Record<string, { digest: string | null; pss?: true; ecdsa?: true }> = {
  RS256: { digest: 'sha256' },
  RS384: { digest: 'sha384' },
  RS512: { digest: 'sha512' },
  PS256: { digest: 'sha256', pss: true },
  PS384: { digest: 'sha384', pss: true },
  PS512: { digest: 'sha512', pss: true },
  ES256: { digest: 'sha256', ecdsa: true },
  ES384: { digest: 'sha384', ecdsa: true },
  ES512: { digest: 'sha512', ecdsa: true },
  EdDSA: { digest: null },
};
/** ID token claims that must be present (OpenID Connect Core 1.0 §2). */
const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat'];
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Clock skew accepted on exp/iat/nbf, seconds. */
const CLOCK_TOLERANCE_S = 30;
const MAX_TOKEN_LENGTH = 16_384;

export interface IdTokenVerifierOptions {
  /** ROSTER_ALLOW_INSECURE_ISSUERS: accept an http:// jwks_uri (development and tests only). */
  allowInsecureIssuers: boolean;
  clock?: Clock;
  /** Keys are refetched at most this often when a token names an unknown kid (jose cooldown). Default 30 s. */
  jwksCooldownMs?: number;
  /** Keys are kept this long. Default 10 minutes. */
  jwksCacheMaxAgeMs?: number;
}

export function createIdTokenVerifier(options: IdTokenVerifierOptions) {
  const clock = options.clock ?? systemClock;
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  function keySet(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
    let found = keySets.get(jwksUri);
    if (!found) {
      found = createRemoteJWKSet(new URL(jwksUri), {
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
        timeoutDuration: 5_000,
      });
      // Bounded: one entry per provider; a provider whose jwks_uri changed leaves an old entry behind.
      if (keySets.size >= 1000) keySets.delete(keySets.keys().next().value!);
      keySets.set(jwksUri, found);
    }
    return found;
  }

  return {
    async verify(provider: SignInProvider, idToken: string, nonce?: string): Promise<IdTokenOutcome> {
      const refuse = (reason: string, message: string): IdTokenOutcome => ({ ok: false, reason, message });
      if (provider.kind !== 'oidc' || !provider.issuer || !provider.clientId || !provider.jwksUri) {
        return refuse('not_oidc', 'idToken applies only to an OpenID Connect provider with a client id; send claims instead');
      }
      if (idToken.length > MAX_TOKEN_LENGTH || idToken.split('.').length !== 3) return refuse('malformed', 'idToken is not a signed JWT (JWS compact serialization)');
      if (!options.allowInsecureIssuers && !provider.jwksUri.startsWith('https:')) return refuse('insecure_jwks', 'the provider publishes its keys over http, which only ROSTER_ALLOW_INSECURE_ISSUERS=1 permits');
      let payload: JWTPayload;
      try {
        payload = await verifyJwt(idToken, keySet(provider.jwksUri), { issuer: provider.issuer, audience: provider.clientId, now: clock() });
      } catch (error) {
        return refuse(reasonOf(error), `the ID token was refused: ${messageOf(error)}`);
      }
      // OpenID Connect Core 1.0 §3.1.3.7 (4, 5): with several audiences, azp names the client it was issued to.
      if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== provider.clientId) {
        return refuse('azp', 'the ID token has several audiences and its azp is not our client id');
      }
      if (nonce !== undefined && payload.nonce !== nonce) return refuse('nonce', 'the ID token nonce does not match the nonce sent');
      return { ok: true, claims: payload };
    },
  };
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;
type CryptoKey = webcrypto.CryptoKey;

/** KeyObjects made from jose's imported keys, once per key (jose keeps one CryptoKey per key and algorithm). */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

function keyObjectOf(key: CryptoKey): KeyObject {
  let found = keyObjects.get(key);
  if (!found) {
    found = KeyObject.from(key);
    keyObjects.set(key, found);
  }
  return found;
}

function decodedJson(part: string): unknown {
  return JSON.parse(utf8.decode(Buffer.from(part, 'base64url')));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether the signature verifies with this key (a signature of the wrong shape does not). */
function signatureVerifies(alg: string, key: CryptoKey, signingInput: Buffer, signature: Buffer): boolean {
  const how = SIGNATURES[alg]!;
  const input: VerifyKeyObjectInput = { key: keyObjectOf(key) };
  if (how.pss) {
    input.padding = constants.RSA_PKCS1_PSS_PADDING;
    input.saltLength = constants.RSA_PSS_SALTLEN_DIGEST;
  }
  if (how.ecdsa) input.dsaEncoding = 'ieee-p1363';
  try {
    return verifySignature(how.digest, signingInput, input, signature);
  } catch {
    return false;
  }
}

/**
 * A JWS compact serialization verified and its claims checked as jose's `jwtVerify` does with our options
 * (algorithms, issuer, audience, required claims, 30 s of clock tolerance); errors are jose's classes, so
 * reasonOf and messageOf read them the same way.
 */
async function verifyJwt(token: string, keys: KeySet, expected: { issuer: string; audience: string; now: Date }): Promise<JWTPayload> {
  const [encodedHeader, encodedPayload, encodedSignature] = token.split('.') as [string, string, string];
  // As jose: the header and the signature must decode; the payload is only signed bytes until the signature holds.
  if (!BASE64URL.test(encodedHeader) || !BASE64URL.test(encodedSignature)) throw new joseErrors.JWSInvalid('JWS is not base64url');
  let header: unknown;
  try {
    header = decodedJson(encodedHeader);
  } catch (cause) {
    throw new joseErrors.JWSInvalid('JWS Protected Header is invalid', { cause });
  }
  if (!isObject(header)) throw new joseErrors.JWSInvalid('JWS Protected Header must be an object');
  // RFC 7515 §4.1.11: an extension we do not understand must be refused. As jose, we understand only b64
  // (RFC 7797), and a JWT must keep its payload encoded (b64 true).
  if (header.crit !== undefined && !(Array.isArray(header.crit) && header.crit.length > 0 && header.crit.every((name) => name === 'b64') && header.b64 === true)) {
    throw new joseErrors.JWSInvalid('JWS "crit" Header Parameter names an extension that is not supported');
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || alg === '') throw new joseErrors.JWSInvalid('JWS "alg" (Algorithm) Header Parameter missing or invalid');
  if (!Object.hasOwn(SIGNATURES, alg)) throw new joseErrors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  const signingInput = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
  const signature = Buffer.from(encodedSignature, 'base64url');
  // Several keys matching the token's kid and alg fail with jose's JWKSMultipleMatchingKeys, as jwtVerify did.
  const verified = signatureVerifies(alg, (await keys(header as ProtectedHeaderParameters)) as unknown as CryptoKey, signingInput, signature);
  if (!verified) throw new joseErrors.JWSSignatureVerificationFailed();

  let payload: unknown;
  try {
    if (!BASE64URL.test(encodedPayload)) throw new TypeError('the payload is not base64url');
    payload = decodedJson(encodedPayload);
  } catch (cause) {
    throw new joseErrors.JWTInvalid('JWT Claims Set must be a top-level JSON object', { cause });
  }
  if (!isObject(payload)) throw new joseErrors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
  const claims = payload as JWTPayload;
  for (const claim of REQUIRED_CLAIMS) {
    if (!Object.hasOwn(claims, claim)) throw new joseErrors.JWTClaimValidationFailed(`missing required "${claim}" claim`, claims, claim, 'missing');
  }
  if (claims.iss !== expected.issuer) throw new joseErrors.JWTClaimValidationFailed('unexpected "iss" claim value', claims, 'iss', 'check_failed');
  const audience = claims.aud;
  if (!(typeof audience === 'string' ? audience === expected.audience : Array.isArray(audience) && audience.includes(expected.audience))) {
    throw new joseErrors.JWTClaimValidationFailed('unexpected "aud" claim value', claims, 'aud', 'check_failed');
  }
  const now = Math.floor(expected.now.getTime() / 1000);
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    if (claims[claim] !== undefined && typeof claims[claim] !== 'number') throw new joseErrors.JWTClaimValidationFailed(`"${claim}" claim must be a number`, claims, claim, 'invalid');
  }
  if (claims.nbf !== undefined && claims.nbf > now + CLOCK_TOLERANCE_S) throw new joseErrors.JWTClaimValidationFailed('"nbf" claim timestamp check failed', claims, 'nbf', 'check_failed');
  if (claims.exp! <= now - CLOCK_TOLERANCE_S) throw new joseErrors.JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
  return claims;
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim_${error.claim}`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) return 'signature';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm';
  if (error instanceof joseErrors.JWKSTimeout) return 'keys_unavailable';
  if (error instanceof joseErrors.JOSEError) return 'invalid';
  // A network error fetching the keys: not the caller's fault (the endpoint answers 503), and not a sign-in.
  return 'keys_unavailable';
}

function messageOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the ${error.claim} claim is not acceptable (${error.reason})`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify with the provider\'s keys';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the provider matches its kid';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'its signing algorithm is not accepted';
  if (error instanceof joseErrors.JWKSTimeout) return "the provider's keys could not be fetched in time";
  if (error instanceof joseErrors.JOSEError) return 'it is not a valid JWT';
  return "the provider's keys could not be fetched";
}

export type IdTokenVerifier = ReturnType<typeof createIdTokenVerifier>;
