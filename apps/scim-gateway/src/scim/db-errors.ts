import { ScimError } from './errors.js';

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
}

const UNIQUE_CONSTRAINTS: Record<string, string> = {
  users__lower_user_name: 'userName',
  groups__lower_display_name: 'displayName',
};

/**
 * Unique expression indexes of declared extension attributes (`users__ext_<hash>`), by name, to the attribute
 * each keeps unique. Filled when a schema set is built (schemas/declared.ts); an error is mapped after the
 * request's schema context has ended, so this lookup is by name alone. Index names hash the URN and attribute,
 * so one name never means two attributes.
 */
const extensionUniqueIndexes = new Map<string, string>();

export function rememberUniqueIndexes(indexes: ReadonlyMap<string, string>): void {
  for (const [name, label] of indexes) extensionUniqueIndexes.set(name, label);
}

/**
 * Maps database errors caused by client input to SCIM errors, in one place: a unique violation on userName
 * or displayName is 409 uniqueness (RFC 7644 §3.3), an unreadable value is 400. Everything else is left for
 * the error middleware (500 or 503).
 */
export function scimErrorFromDatabase(error: unknown): ScimError | undefined {
  const pg = error as PgError;
  if (!pg || typeof pg !== 'object' || typeof pg.code !== 'string') return undefined;
  if (pg.code === '23505') {
    const attribute = pg.constraint ? (UNIQUE_CONSTRAINTS[pg.constraint] ?? extensionUniqueIndexes.get(pg.constraint)) : undefined;
    return ScimError.uniqueness(attribute ? `${attribute} is already in use by another resource` : 'the resource conflicts with an existing one');
  }
  // foreign_key_violation on a membership: a member the request names was deleted after it was checked and
  // before the membership was written (a concurrent DELETE /Users/:id). The member does not exist any more.
  if (pg.code === '23503' && pg.constraint?.startsWith('group_members_')) {
    return ScimError.invalidValue('a member named in the request no longer exists (it was deleted while the request ran)');
  }
  // invalid_text_representation, datetime out of range, numeric out of range, string too long, character not in
  // repertoire (U+0000 in text), invalid datetime format, untranslatable character (\u0000 in jsonb), too complex
  if (['22P02', '22008', '22003', '22001', '22021', '22007', '22P05', '54000'].includes(pg.code)) {
    return ScimError.invalidValue('a value in the request cannot be stored: check its type and size');
  }
  return undefined;
}

/**
 * The database aborted the transaction to resolve a deadlock or a serialization conflict with a concurrent one
 * (40P01, 40001): the same request succeeds when sent again, so the answer is 503 with Retry-After, not 500.
 */
export function isTransientConflict(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: string };
  return code === '40P01' || code === '40001';
}

/** Connection-level failures: the database is down or overloaded, so the client should retry later. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004'].includes(code)) {
    return true;
  }
  return typeof message === 'string' && /Knex: Timeout acquiring a connection|Connection terminated|connection is closed|Client has encountered a connection error/i.test(message);
}

/**
 * PostgreSQL cancelled the statement because it ran past statement_timeout (57014 query_canceled, with this
 * message; a cancel by an operator, pg_cancel_backend, reads "due to user request" and stays a 500).
 */
export function isStatementTimeout(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code === '57014' && typeof message === 'string' && message.includes('statement timeout');
}

/**
 * Every connection of the pool stayed busy while this request waited for one (knex's acquireConnectionTimeout):
 * the process is overloaded, the database is not down. Told apart from an unavailable database so operators
 * and clients see which it is.
 */
export function isPoolExhausted(error: unknown): boolean {
  const { message } = (error ?? {}) as { message?: string };
  return typeof message === 'string' && message.startsWith('Knex: Timeout acquiring a connection');
}
