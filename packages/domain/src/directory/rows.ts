import type { GroupRecord, JsonObject, UserRecord } from './types.js';

export const USER_COLUMNS = ['r.id', 'r.seq', 'r.user_name', 'r.external_id', 'r.active', 'r.lock_reason', 'r.data', 'r.created_by_client_id', 'r.version', 'r.created_at', 'r.updated_at'];
/**
 * The columns a new user is written with, in this order: UserColumns, then `data` and the creating client
 * (userRepository.insert for POST /Users, insertUsersSkippingTaken for /Bulk).
 */
export const USER_INSERT_COLUMNS = 'user_name, external_id, display_name, given_name, family_name, active, emails_lower, data, created_by_client_id';
export const GROUP_COLUMNS = ['r.id', 'r.seq', 'r.display_name', 'r.external_id', 'r.data', 'r.created_by_client_id', 'r.version', 'r.created_at', 'r.updated_at'];

export interface UserRow {
  id: string;
  seq: number | string;
  user_name: string;
  external_id: string | null;
  active: boolean;
  lock_reason: string | null;
  data: JsonObject | string;
  created_by_client_id: string | null;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface GroupRow {
  id: string;
  seq: number | string;
  display_name: string;
  external_id: string | null;
  data: JsonObject | string;
  created_by_client_id: string | null;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

const json = (value: JsonObject | string): JsonObject => (typeof value === 'string' ? (JSON.parse(value) as JsonObject) : value);
const date = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

export function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    seq: Number(row.seq),
    userName: row.user_name,
    externalId: row.external_id,
    active: row.active,
    lockReason: row.lock_reason,
    data: json(row.data),
    createdByClientId: row.created_by_client_id,
    version: row.version,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

export function toGroupRecord(row: GroupRow): GroupRecord {
  return {
    id: row.id,
    seq: Number(row.seq),
    displayName: row.display_name,
    externalId: row.external_id,
    data: json(row.data),
    createdByClientId: row.created_by_client_id,
    version: row.version,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else can name no resource, and must not reach PostgreSQL as a uuid cast. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * The one spelling of an id that is compared in JavaScript: a UUID in lower case, as PostgreSQL prints it
 * (RFC 9562 §4: UUIDs compare case-insensitively), anything else as written. Member ids from clients go
 * through this before they meet ids read from the database.
 */
export function canonicalId(value: string): string {
  return isUuid(value) ? value.toLowerCase() : value;
}
