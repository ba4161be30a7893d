// The wire shapes of Roster's application API (docs/applications.md). They mirror @roster/domain's
// SignInResolution and LockReason, declared here again so that this package needs no database driver.

/** Why an account is locked: `deactivated_by_provider` (SCIM active=false), `deletion_refused` (a refused SCIM DELETE locked it), `locked`. */
export type LockReason = 'deactivated_by_provider' | 'deletion_refused' | 'locked';
export type SignInStatus = 'found' | 'inactive' | 'unknown' | 'ambiguous';
export type ApplicationScope = 'directory.read' | 'signin.resolve' | 'events.poll';

export interface SignInUser {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
  name: Record<string, unknown> | null;
  emails: Array<{ value: string; type?: string; primary?: boolean }>;
  active: true;
}

export interface GroupRef {
  value: string;
  display: string | null;
}

/** Only `found` admits the person; `inactive` carries the reason, `unknown` and `ambiguous` nothing more. */
export interface SignInResolution {
  status: SignInStatus;
  reason?: LockReason;
  user?: SignInUser;
  groups?: GroupRef[];
}

export type ResolveSignInRequest =
  | { providerId: string; claims: Record<string, unknown> }
  /** Roster verifies the ID token (signature by the provider's keys, issuer, audience, expiry, nonce). */
  | { providerId: string; idToken: string; nonce?: string };

/** A SCIM resource as Roster serves it (RFC 7643). */
export interface ScimUser {
  schemas: string[];
  id: string;
  externalId?: string;
  userName: string;
  active?: boolean;
  displayName?: string;
  name?: Record<string, unknown>;
  emails?: Array<{ value: string; type?: string; primary?: boolean }>;
  groups?: Array<{ value: string; display?: string; $ref?: string }>;
  meta?: Record<string, unknown>;
  [attribute: string]: unknown;
}

export interface ScimGroup {
  schemas: string[];
  id: string;
  displayName: string;
  externalId?: string;
  members?: Array<{ value: string; display?: string; $ref?: string }>;
  meta?: Record<string, unknown>;
  [attribute: string]: unknown;
}

export interface ScimListResponse<T> {
  schemas: string[];
  totalResults: number;
  startIndex?: number;
  itemsPerPage?: number;
  Resources: T[];
}

/** RFC 8936 §2.4: the poll request. */
export interface PollRequest {
  maxEvents?: number;
  returnImmediately?: boolean;
  /** jti of the SETs processed since the last poll. */
  ack?: string[];
  /** jti -> error (RFC 8936 §2.4.1, §2.4.3) for SETs that could not be processed. */
  setErrs?: Record<string, { err: string; description: string }>;
}

/** RFC 8936 §2.5: the poll response; `sets` maps jti to the SET (a JWT). */
export interface PollResponse {
  sets: Record<string, string>;
  moreAvailable?: boolean;
}
