import type { Knex } from 'knex';
import { groupsTable, usersTable } from '../models/index.js';

// Rows of the directory as the repositories return them. `data` is the canonical SCIM JSON of the resource
// (RFC 7643 attribute names, extension attributes under their schema URN), without id, meta, password,
// users' `groups` and groups' `members`; the columns are indexed copies of the filterable attributes.

export type JsonObject = Record<string, unknown>;

const U = usersTable.columns;
const G = groupsTable.columns;

/** The indexed copies of a user's filterable attributes, by column. */
export interface UserColumns {
  [U.userName]: string;
  [U.externalId]: string | null;
  [U.displayName]: string | null;
  [U.givenName]: string | null;
  [U.familyName]: string | null;
  [U.active]: boolean;
  [U.emailsLower]: string[];
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
  [G.displayName]: string;
  [G.externalId]: string | null;
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
