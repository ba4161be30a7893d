import type { Knex } from 'knex';
import { identityValueSql } from '../identity-mapping.js';
import { userProviderLinksTable, usersTable } from '../models/index.js';

type Db = Knex | Knex.Transaction;

const U = usersTable.columns;
const L = userProviderLinksTable.columns;

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
    `SELECT u.id AS ${L.userId}, c.auth_provider_id AS ${L.providerId}, ${identityValueSql('u', 'p.identity_mapping')} AS value ` +
    `FROM ${users} JOIN scim_clients c ON c.id = u.${U.createdByClientId} JOIN auth_providers p ON p.id = c.auth_provider_id ` +
    `WHERE ${where}), ` +
    `removed AS (DELETE FROM ${userProviderLinksTable.table} l WHERE l.${L.userId} IN (SELECT ${L.userId} FROM target) ` +
    `AND NOT EXISTS (SELECT 1 FROM target t WHERE t.${L.userId} = l.${L.userId} AND t.${L.providerId} = l.${L.providerId} AND t.value IS NOT NULL) RETURNING l.${L.userId}, l.${L.providerId}), ` +
    `written AS (INSERT INTO ${userProviderLinksTable.table} (${L.userId}, ${L.providerId}, ${L.externalId}) SELECT ${L.userId}, ${L.providerId}, value FROM target WHERE value IS NOT NULL ` +
    `ON CONFLICT (${L.userId}, ${L.providerId}) DO UPDATE SET ${L.externalId} = EXCLUDED.${L.externalId}, ${L.updatedAt} = now() ` +
    `WHERE ${userProviderLinksTable.table}.${L.externalId} IS DISTINCT FROM EXCLUDED.${L.externalId} RETURNING ${L.userId}, ${L.providerId}, ${L.externalId})`
  );
}

const MAINTAIN_LINKS_SQL =
  `WITH ${linkWriteCtes(`${usersTable.table} u`, 'u.id = ANY(?::uuid[])')} ` +
  `SELECT ${L.userId}, ${L.providerId}, ${L.externalId} FROM written UNION ALL SELECT ${L.userId}, ${L.providerId}, NULL FROM removed`;

const UPSERT_LINK =
  `INSERT INTO ${userProviderLinksTable.table} (${L.userId}, ${L.providerId}, ${L.externalId}) VALUES (?, ?, ?)
   ON CONFLICT (${L.userId}, ${L.providerId}) DO UPDATE SET ${L.externalId} = EXCLUDED.${L.externalId}, ${L.updatedAt} = now()
   WHERE ${userProviderLinksTable.table}.${L.externalId} IS DISTINCT FROM EXCLUDED.${L.externalId}`;
// Qualified names for the knex builders below, spelled out once at load.
const L_USER_ID = `l.${L.userId}`;
const L_PROVIDER_ID = `l.${L.providerId}`;
const L_EXTERNAL_ID = `l.${L.externalId}`;
const U_ACTIVE = `u.${U.active}`;
const LINKS_AS_L = `${userProviderLinksTable.table} as l`;

/** A link that a write changed: its new value, or `externalId` null when it was removed. */
export interface LinkChange {
  userId: string;
  providerId: string;
  externalId: string | null;
}

/** Brings the users' links in step with their owner client's provider mapping; answers the links it changed. */
export async function maintainLinks(db: Db, userIds: readonly string[]): Promise<LinkChange[]> {
  if (userIds.length === 0) return [];
  const result = (await db.raw(MAINTAIN_LINKS_SQL, [[...userIds]])) as { rows: Array<{ [L.userId]: string; [L.providerId]: string; [L.externalId]: string | null }> };
  return result.rows.map((row) => ({ userId: row[L.userId], providerId: row[L.providerId], externalId: row[L.externalId] }));
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
      await db(userProviderLinksTable.table).where({ [L.userId]: userId, [L.providerId]: providerId }).delete();
      return;
    }
    await db.raw(
      UPSERT_LINK,
      [userId, providerId, externalId],
    );
  },

  async listForUser(db: Db, userId: string): Promise<Array<{ providerId: string; externalId: string }>> {
    const rows = (await db(userProviderLinksTable.table).select(L.providerId, L.externalId).where(L.userId, userId)) as Array<{ [L.providerId]: string; [L.externalId]: string }>;
    return rows.map((row) => ({ providerId: row[L.providerId], externalId: row[L.externalId] }));
  },

  /** Active users linked to this provider identity: more than one means the sign-in must be refused. */
  async findActiveUsers(db: Db, providerId: string, externalId: string): Promise<string[]> {
    const rows = (await db(LINKS_AS_L)
      .join('users as u', 'u.id', L_USER_ID)
      .select('u.id')
      .where({ [L_PROVIDER_ID]: providerId, [L_EXTERNAL_ID]: externalId, [U_ACTIVE]: true })) as Array<{ id: string }>;
    return rows.map((row) => row.id);
  },
};
