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
 * Maps database errors caused by client input to SCIM errors, in one place: a unique violation on userName
 * or displayName is 409 uniqueness (RFC 7644 §3.3), an unreadable value is 400. Everything else is left for
 * the error middleware (500 or 503).
 */
export function scimErrorFromDatabase(error: unknown): ScimError | undefined {
  const pg = error as PgError;
  if (!pg || typeof pg !== 'object' || typeof pg.code !== 'string') return undefined;
  if (pg.code === '23505') {
    const attribute = pg.constraint ? UNIQUE_CONSTRAINTS[pg.constraint] : undefined;
    return ScimError.uniqueness(attribute ? `${attribute} is already in use by another resource` : 'the resource conflicts with an existing one');
  }
  // invalid_text_representation, datetime out of range, numeric out of range, string too long, untranslatable character
  if (['22P02', '22008', '22003', '22001', '22021', '22007', '54000'].includes(pg.code)) {
    return ScimError.invalidValue('a value in the request cannot be stored: check its type and size');
  }
  return undefined;
}

/** Connection-level failures: the database is down or overloaded, so the client should retry later. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004'].includes(code)) {
    return true;
  }
  return typeof message === 'string' && /Knex: Timeout acquiring a connection|Connection terminated|connection is closed|Client has encountered a connection error/i.test(message);
}
