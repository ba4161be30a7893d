import type { Knex } from 'knex';
import { USER_INSERT_COLUMNS } from './rows.js';
import type { JsonObject, UserColumns } from './types.js';
import { userProviderLinksTable, usersTable } from '../models/index.js';

type Db = Knex | Knex.Transaction;

const U = usersTable.columns;
const L = userProviderLinksTable.columns;

export interface NewUser {
  columns: UserColumns;
  data: JsonObject;
  createdByClientId: string | null;
}

/**
 * The users arrive as one JSON array in one parameter, and jsonb_to_recordset turns it into rows. A VALUES list
 * of 1,000 users had 9,000 parameters, each numbered by knex and serialised by pg on every request
 * (docs/benchmarks.md, finding 35). Rows are inserted in the array's order (WITH ORDINALITY, ORDER BY), so of
 * several inputs with one userName the first is the one inserted. ON CONFLICT names the expression of the
 * unique index users__lower_user_name.
 */
const INSERT_USERS_SKIPPING_TAKEN =
  `INSERT INTO users (${USER_INSERT_COLUMNS}) SELECT ${USER_INSERT_COLUMNS} ` +
  `FROM ROWS FROM (jsonb_to_recordset(?::jsonb) AS (${U.userName} text, ${U.externalId} text, ${U.displayName} text, ${U.givenName} text, ` +
  `${U.familyName} text, ${U.active} boolean, ${U.emailsLower} text[], ${U.data} jsonb, ${U.createdByClientId} uuid)) ` +
  `WITH ORDINALITY AS u(${USER_INSERT_COLUMNS}, position) ORDER BY u.position ` +
  `ON CONFLICT ((lower(${U.userName}))) DO NOTHING RETURNING ${U.id}, ${U.version}, ${U.userName}`;

/**
 * Inserts many users in one statement. A user whose userName is taken (case-insensitively, by an existing
 * row or an earlier row of the same batch) is skipped rather than failing the statement: the result holds,
 * for each input in order, the new id and version, or null for a taken userName.
 */
export async function insertUsersSkippingTaken(db: Db, users: NewUser[]): Promise<Array<{ id: string; version: number } | null>> {
  if (users.length === 0) return [];
  const rows = users.map((user) => ({ ...user.columns, [U.data]: user.data, [U.createdByClientId]: user.createdByClientId }));
  const { rows: inserted } = (await db.raw(INSERT_USERS_SKIPPING_TAKEN, [JSON.stringify(rows)])) as { rows: Array<{ id: string; version: number; [U.userName]: string }> };
  const byName = new Map(inserted.map((row) => [row[U.userName].toLowerCase(), row]));
  const seen = new Set<string>();
  return users.map((user) => {
    const key = user.columns[U.userName].toLowerCase();
    const row = byName.get(key);
    // Only the first of several inputs with one userName can have been inserted; the rest are taken.
    if (!row || seen.has(key) || row[U.userName] !== user.columns[U.userName]) return null;
    seen.add(key);
    return { id: row.id, version: row.version };
  });
}

/** One JSON parameter, as INSERT_USERS_SKIPPING_TAKEN: a /Bulk of 1,000 users gives 1,000 links. */
const UPSERT_PROVIDER_LINKS =
  `INSERT INTO ${userProviderLinksTable.table} (${L.userId}, ${L.providerId}, ${L.externalId}) SELECT l.${L.userId}, l.${L.providerId}, l.${L.externalId} ` +
  `FROM jsonb_to_recordset(?::jsonb) AS l(${L.userId} uuid, ${L.providerId} uuid, ${L.externalId} text) ` +
  `ON CONFLICT (${L.userId}, ${L.providerId}) DO UPDATE SET ${L.externalId} = EXCLUDED.${L.externalId}`;

/** Provider links for many new users at once (see providerLinkRepository.upsert for the meaning). */
export async function insertProviderLinks(db: Db, links: Array<{ userId: string; providerId: string; externalId: string }>): Promise<void> {
  if (links.length === 0) return;
  const rows = links.map((link) => ({ [L.userId]: link.userId, [L.providerId]: link.providerId, [L.externalId]: link.externalId }));
  await db.raw(UPSERT_PROVIDER_LINKS, [JSON.stringify(rows)]);
}
