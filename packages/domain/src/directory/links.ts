import type { Knex } from 'knex';
import { identityValueSql } from '../identity-mapping.js';

type Db = Knex | Knex.Transaction;

/**
 * The links of these users, derived from what is stored: a user provisioned by a SCIM client is linked to that
 * client's authentication provider by the user value the provider's identity mapping names (externalId,
 * userName, the primary email or the enterprise employeeNumber; identity-mapping.ts). A link whose value is
 * gone, or to a provider the client no longer belongs to, is deleted. Users whose provisioning client was
 * deleted keep the links they have.
 *
 * Every write of a user calls this (in its transaction), and so does a rebuild after a mapping changed or a
 * client moved (link-rebuilds.ts): one statement however many users, so it is one round trip per write and
 * one per batch. The DELETE and the upsert touch disjoint rows, which a data-modifying CTE allows.
 *
 * `linkWriteCtes` is that work as the CTEs `target`, `removed` and `written`, over the users of `users` (a FROM
 * item aliased `u` with the users columns) that `where` selects: the rebuild puts its own batch in front of it.
 */
export function linkWriteCtes(users: string, where: string): string {
  return (
    'target AS (' +
    `SELECT u.id AS user_id, c.auth_provider_id AS provider_id, ${identityValueSql('u', 'p.identity_mapping')} AS value ` +
    `FROM ${users} JOIN scim_clients c ON c.id = u.created_by_client_id JOIN auth_providers p ON p.id = c.auth_provider_id ` +
    `WHERE ${where}), ` +
    'removed AS (DELETE FROM user_provider_links l WHERE l.user_id IN (SELECT user_id FROM target) ' +
    'AND NOT EXISTS (SELECT 1 FROM target t WHERE t.user_id = l.user_id AND t.provider_id = l.provider_id AND t.value IS NOT NULL) RETURNING l.user_id, l.provider_id), ' +
    'written AS (INSERT INTO user_provider_links (user_id, provider_id, external_id) SELECT user_id, provider_id, value FROM target WHERE value IS NOT NULL ' +
    'ON CONFLICT (user_id, provider_id) DO UPDATE SET external_id = EXCLUDED.external_id, updated_at = now() ' +
    'WHERE user_provider_links.external_id IS DISTINCT FROM EXCLUDED.external_id RETURNING user_id, provider_id, external_id)'
  );
}

const MAINTAIN_LINKS_SQL =
  `WITH ${linkWriteCtes('users u', 'u.id = ANY(?::uuid[])')} ` +
  'SELECT user_id, provider_id, external_id FROM written UNION ALL SELECT user_id, provider_id, NULL FROM removed';

/** A link that a write changed: its new value, or `externalId` null when it was removed. */
export interface LinkChange {
  userId: string;
  providerId: string;
  externalId: string | null;
}

/** Brings the users' links in step with their owner client's provider mapping; answers the links it changed. */
export async function maintainLinks(db: Db, userIds: readonly string[]): Promise<LinkChange[]> {
  if (userIds.length === 0) return [];
  const result = (await db.raw(MAINTAIN_LINKS_SQL, [[...userIds]])) as { rows: Array<{ user_id: string; provider_id: string; external_id: string | null }> };
  return result.rows.map((row) => ({ userId: row.user_id, providerId: row.provider_id, externalId: row.external_id }));
}

/**
 * A user's identities at authentication providers (user_provider_links): the mapped value per provider. One
 * link per (user, provider); the same value may link several users, since externalId is not unique
 * (RFC 7643 §3.1): a sign-in that matches more than one active user must be refused by the caller.
 */
export const providerLinkRepository = {
  /**
   * Writes one link as given (a raw write for tests and tools); the write paths call `maintainLinks`, which
   * derives the value from the provider's identity mapping.
   */
  async upsert(db: Db, userId: string, providerId: string, externalId: string | null): Promise<void> {
    if (externalId === null || externalId === '') {
      await db('user_provider_links').where({ user_id: userId, provider_id: providerId }).delete();
      return;
    }
    await db.raw(
      `INSERT INTO user_provider_links (user_id, provider_id, external_id) VALUES (?, ?, ?)
       ON CONFLICT (user_id, provider_id) DO UPDATE SET external_id = EXCLUDED.external_id, updated_at = now()
       WHERE user_provider_links.external_id IS DISTINCT FROM EXCLUDED.external_id`,
      [userId, providerId, externalId],
    );
  },

  async listForUser(db: Db, userId: string): Promise<Array<{ providerId: string; externalId: string }>> {
    const rows = (await db('user_provider_links').select('provider_id', 'external_id').where('user_id', userId)) as Array<{ provider_id: string; external_id: string }>;
    return rows.map((row) => ({ providerId: row.provider_id, externalId: row.external_id }));
  },

  /** Active users linked to this provider identity: more than one means the sign-in must be refused. */
  async findActiveUsers(db: Db, providerId: string, externalId: string): Promise<string[]> {
    const rows = (await db('user_provider_links as l')
      .join('users as u', 'u.id', 'l.user_id')
      .select('u.id')
      .where({ 'l.provider_id': providerId, 'l.external_id': externalId, 'u.active': true })) as Array<{ id: string }>;
    return rows.map((row) => row.id);
  },
};
