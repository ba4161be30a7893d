import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

/**
 * A user's identity at an authentication provider: the externalId a SCIM client of that provider sent
 * (RFC 7643 §3.1). One link per (user, provider); the same externalId may link several users, since
 * externalId is not unique: a sign-in that matches more than one active user must be refused by the caller.
 */
export const providerLinkRepository = {
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
