// Errors named after the wire protocol they end up on. `description` is public (it goes into the response and
// helps the admin: "expired on DATE", "revoked"); `reason` is a short machine word for the audit log. Neither
// ever carries the credential itself.

/** RFC 6750 §3.1 error codes; `null` when no credential was sent at all (no error code then, §3.1). */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export class AuthError extends Error {
  override name = 'AuthError';

  constructor(
    readonly error: BearerErrorCode | null,
    readonly description: string,
    readonly status: 400 | 401 | 403,
    readonly reason: string,
    /** The SCIM client the credential belongs to, when the credential identified one (audit only). */
    readonly clientId: string | null = null,
  ) {
    super(description);
  }

  /** No credential, or a scheme other than Bearer: RFC 6750 §3.1 says "SHOULD NOT include an error code". */
  static missing(description: string, reason = 'missing'): AuthError {
    return new AuthError(null, description, 401, reason);
  }
  static invalidRequest(description: string, reason: string): AuthError {
    return new AuthError('invalid_request', description, 400, reason);
  }
  static invalidToken(description: string, reason: string, clientId: string | null = null): AuthError {
    return new AuthError('invalid_token', description, 401, reason, clientId);
  }
  static insufficientScope(description: string, clientId: string | null): AuthError {
    return new AuthError('insufficient_scope', description, 403, 'insufficient_scope', clientId);
  }
}

/** RFC 6749 §5.2 token endpoint error codes (plus `temporarily_unavailable` for throttling). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'temporarily_unavailable';

export class OAuthError extends Error {
  override name = 'OAuthError';

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status: 400 | 401 | 429,
    readonly reason: string,
    readonly clientId: string | null = null,
  ) {
    super(description);
  }

  static invalidRequest(description: string, reason = 'invalid_request'): OAuthError {
    return new OAuthError('invalid_request', description, 400, reason);
  }
  /** RFC 6749 §5.2: 401 (with WWW-Authenticate, added by the endpoint) when client authentication failed. */
  static invalidClient(description: string, reason: string, clientId: string | null = null): OAuthError {
    return new OAuthError('invalid_client', description, 401, reason, clientId);
  }
}
