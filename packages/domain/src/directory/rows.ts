import { groupsTable, usersTable } from '../models/index.js';
import type { GroupRecord, JsonObject, UserRecord } from './types.js';

const U = usersTable.columns;
const G = groupsTable.columns;

export const USER_COLUMNS = [U.id, U.seq, U.userName, U.externalId, U.active, U.lockReason, U.data, U.createdByClientId, U.version, U.createdAt, U.updatedAt].map((column) => `r.${column}`);
/**
 * The columns a new user is written with, in this order: UserColumns, then `data` and the creating client
 * (userRepository.insert for POST /Users, insertUsersSkippingTaken for /Bulk).
 */
export const USER_INSERT_COLUMNS = [U.userName, U.externalId, U.displayName, U.givenName, U.familyName, U.active, U.emailsLower, U.data, U.createdByClientId].join(', ');
export const GROUP_COLUMNS = [G.id, G.seq, G.displayName, G.externalId, G.data, G.createdByClientId, G.version, G.createdAt, G.updatedAt].map((column) => `r.${column}`);

export interface UserRow {
  [U.id]: string;
  [U.seq]: number | string;
  [U.userName]: string;
  [U.externalId]: string | null;
  [U.active]: boolean;
  [U.lockReason]: string | null;
  [U.data]: JsonObject | string;
  [U.createdByClientId]: string | null;
  [U.version]: number;
  [U.createdAt]: Date | string;
  [U.updatedAt]: Date | string;
}

export interface GroupRow {
  [G.id]: string;
  [G.seq]: number | string;
  [G.displayName]: string;
  [G.externalId]: string | null;
  [G.data]: JsonObject | string;
  [G.createdByClientId]: string | null;
  [G.version]: number;
  [G.createdAt]: Date | string;
  [G.updatedAt]: Date | string;
}

const json = (value: JsonObject | string): JsonObject => (typeof value === 'string' ? (JSON.parse(value) as JsonObject) : value);
const date = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

export function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row[U.id],
    seq: Number(row[U.seq]),
    userName: row[U.userName],
    externalId: row[U.externalId],
    active: row[U.active],
    lockReason: row[U.lockReason],
    data: json(row[U.data]),
    createdByClientId: row[U.createdByClientId],
    version: row[U.version],
    createdAt: date(row[U.createdAt]),
    updatedAt: date(row[U.updatedAt]),
  };
}

export function toGroupRecord(row: GroupRow): GroupRecord {
  return {
    id: row[G.id],
    seq: Number(row[G.seq]),
    displayName: row[G.displayName],
    externalId: row[G.externalId],
    data: json(row[G.data]),
    createdByClientId: row[G.createdByClientId],
    version: row[G.version],
    createdAt: date(row[G.createdAt]),
    updatedAt: date(row[G.updatedAt]),
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
