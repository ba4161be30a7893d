import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';

// Security Event Tokens (RFC 8417) as Roster signs them: JWTs with `typ: secevent+jwt`, signed with the keys
// published at `${baseUrl}/.well-known/jwks.json`, carrying `events` (event URI -> payload) and `jti`.

export interface SecurityEvent extends JWTPayload {
  jti: string;
  events: Record<string, Record<string, unknown>>;
}

export interface SetVerifierOptions {
  /** Roster's PUBLIC_URL: the issuer of its SETs, and where its JWKS lives. */
  baseUrl: string;
  /** The audience the stream was created with. */
  audience: string | string[];
  /** Defaults to `${baseUrl}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Defaults to baseUrl. */
  issuer?: string;
}

/** Returns a function that verifies a SET's signature (keys fetched and cached by jose), issuer, audience and type. */
export function createSetVerifier(options: SetVerifierOptions): (set: string) => Promise<SecurityEvent> {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const keys = createRemoteJWKSet(new URL(options.jwksUrl ?? `${baseUrl}/.well-known/jwks.json`));
  return async (set: string) => {
    const { payload } = await jwtVerify(set, keys, {
      issuer: options.issuer ?? baseUrl,
      audience: options.audience,
      // RFC 8417 §2.3: explicit typing keeps a SET from being taken for another kind of JWT.
      typ: 'secevent+jwt',
    });
    if (typeof payload.jti !== 'string' || typeof payload.events !== 'object' || payload.events === null) {
      throw new Error('not a Security Event Token: jti and events are required (RFC 8417 section 2.2)');
    }
    return payload as SecurityEvent;
  };
}

/** The claims of a SET without verifying it: for SETs that arrived over an authenticated channel (RFC 8936 poll over TLS). */
export function decodeSet(set: string): SecurityEvent {
  return decodeJwt(set) as SecurityEvent;
}
