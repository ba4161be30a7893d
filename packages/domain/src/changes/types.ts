// What the directory change log records (table directory_changes). One record per change of a user, a group,
// a membership or a provider link, written in the transaction of the change itself (docs/changes.md).

export const CHANGE_KINDS = [
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.locked',
  'user.unlocked',
  'user.deleted',
  'group.created',
  'group.updated',
  'group.deleted',
  'group.members.added',
  'group.members.removed',
  'link.changed',
] as const;

export type ChangeKind = (typeof CHANGE_KINDS)[number];

export type ChangeResourceType = 'User' | 'Group';

/** Who made a change: a SCIM client, an admin, an application, or Roster itself (retention, relinking). */
export type ChangeActorType = 'scim_client' | 'admin' | 'application' | 'system';

export interface ChangeActor {
  type: ChangeActorType;
  /** The SCIM client's, admin's or application's id; null for the system. */
  id: string | null;
}

/**
 * Kind-specific detail. `attributes`: the SCIM attribute names a `*.updated` change touched (top-level names,
 * extension attributes as `urn:...:name`). `reason`: a lock's reason. `members`: the user ids a membership change
 * added or removed (at most MEMBERS_PER_CHANGE per record; a larger change is several records, in order).
 * `providerId`/`externalId`: a provider link's new value (`externalId` null when the link was removed).
 */
export interface ChangeDetail {
  attributes?: string[];
  reason?: string;
  members?: string[];
  providerId?: string;
  externalId?: string | null;
  [key: string]: unknown;
}

export interface ChangeInput {
  kind: ChangeKind;
  resourceType: ChangeResourceType;
  resourceId: string;
  /** The resource's externalId at the time of the change (RFC 9967 subjects carry it). */
  externalId?: string | null;
  /** The SCIM client that owns the resource (created it), for streams scoped to chosen clients. */
  ownerClientId?: string | null;
  detail?: ChangeDetail | null;
}

/** The request a change belongs to: one per transaction, shared by every change it records. */
export interface ChangeContext {
  actor: ChangeActor;
  requestId?: string | null;
}

export interface DirectoryChange {
  /** The record's number. Unique, allocated at insert; not the reading order (see `cursor`). */
  position: number;
  /**
   * Where a reader stands after this change: pass it as `after` to read what follows. Opaque text, ordered the
   * way the log is read (by transaction, then position), so a reader never skips a change committed later.
   */
  cursor: ChangeCursor;
  kind: ChangeKind;
  resourceType: ChangeResourceType;
  resourceId: string;
  externalId: string | null;
  ownerClientId: string | null;
  actor: ChangeActor;
  requestId: string | null;
  at: Date;
  detail: ChangeDetail;
}

/** A reader's place in the log. `CHANGE_LOG_START` reads from the oldest retained change. */
export type ChangeCursor = string;

export const CHANGE_LOG_START: ChangeCursor = '0.0';

/** A membership change of more members than this is recorded as several records, each naming at most this many. */
export const MEMBERS_PER_CHANGE = 1000;
