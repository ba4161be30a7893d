import type { Knex } from 'knex';
import type { JsonObject, UserColumns } from './types.js';

type Db = Knex | Knex.Transaction;

export interface NewUser {
  columns: UserColumns;
  data: JsonObject;
  createdByClientId: string | null;
}

/**
 * Inserts many users in one statement. A user whose userName is taken (case-insensitively, by an existing
 * row or an earlier row of the same batch) is skipped rather than failing the statement: the result holds,
 * for each input in order, the new id and version, or null for a taken userName.
 */
export async function insertUsersSkippingTaken(db: Db, users: NewUser[]): Promise<Array<{ id: string; version: number } | null>> {
  if (users.length === 0) return [];
  const rows = users.map((user) => ({ ...user.columns, data: JSON.stringify(user.data), created_by_client_id: user.createdByClientId }));
  // ON CONFLICT names the expression of the unique index users__lower_user_name.
  const inserted = (await db('users')
    .insert(rows)
    .onConflict(db.raw('(lower(user_name))'))
    .ignore()
    .returning(['id', 'version', 'user_name'])) as Array<{ id: string; version: number; user_name: string }>;
  const byName = new Map(inserted.map((row) => [row.user_name.toLowerCase(), row]));
  const seen = new Set<string>();
  return users.map((user) => {
    const key = user.columns.user_name.toLowerCase();
    const row = byName.get(key);
    // Only the first of several inputs with one userName can have been inserted; the rest are taken.
    if (!row || seen.has(key) || row.user_name !== user.columns.user_name) return null;
    seen.add(key);
    return { id: row.id, version: row.version };
  });
}

/** Provider links for many new users at once (see providerLinkRepository.upsert for the meaning). */
export async function insertProviderLinks(db: Db, links: Array<{ userId: string; providerId: string; externalId: string }>): Promise<void> {
  if (links.length === 0) return;
  await db('user_provider_links')
    .insert(links.map((link) => ({ user_id: link.userId, provider_id: link.providerId, external_id: link.externalId })))
    .onConflict(['user_id', 'provider_id'])
    .merge(['external_id']);
}
