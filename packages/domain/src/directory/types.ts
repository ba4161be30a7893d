import type { Knex } from 'knex';

// Rows of the directory as the repositories return them. `data` is the canonical SCIM JSON of the resource
// (RFC 7643 attribute names, extension attributes under their schema URN), without id, meta, password,
// users' `groups` and groups' `members`; the columns are indexed copies of the filterable attributes.

export type JsonObject = Record<string, unknown>;

export interface UserColumns {
  user_name: string;
  external_id: string | null;
  display_name: string | null;
  given_name: string | null;
  family_name: string | null;
  active: boolean;
  emails_lower: string[];
}

export interface UserRecord {
  id: string;
  seq: number;
  userName: string;
  externalId: string | null;
  active: boolean;
  lockReason: string | null;
  data: JsonObject;
  createdByClientId: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupColumns {
  display_name: string;
  external_id: string | null;
}

export interface GroupRecord {
  id: string;
  seq: number;
  displayName: string;
  externalId: string | null;
  data: JsonObject;
  createdByClientId: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A reference to a group or a member as SCIM shows it (`groups` of a user, `members` of a group). */
export interface ResourceRef {
  value: string;
  display: string | null;
}

/** Who may see what: a client with data scope "own" sees only the resources it provisioned. */
export interface Visibility {
  ownerClientId?: string | null;
}

/** A compiled SQL condition over the resource row aliased `r`. */
export interface SqlCondition {
  sql: string;
  bindings: Knex.RawBinding[];
}

export interface ListQuery extends Visibility {
  where?: SqlCondition;
  /** ORDER BY expression over `r` (compiled from sortBy); `r.seq` always breaks ties. */
  orderBy?: SqlCondition;
  descending?: boolean;
  offset: number;
  limit: number;
  /** Keyset paging (RFC 9865 cursors): rows after this seq in default order. */
  afterSeq?: number;
  /** Skip the count query (cursor pages still report totalResults; callers decide). */
  withTotal?: boolean;
}
