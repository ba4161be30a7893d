// One error class for every domain service. The admin API maps `code` to an HTTP status in one place
// (not_found 404, conflict 409, invalid_input 400, in_use 409, immutable 400 ...); the message is written for
// the admin who will read it, `details` carries machine-readable context (a field name, the blocking clients).

export type DomainErrorCode = 'not_found' | 'conflict' | 'invalid_input' | 'in_use' | 'immutable' | 'unavailable';

export class DomainError extends Error {
  override name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }

  static notFound(what: string, id: string): DomainError {
    return new DomainError('not_found', `${what} ${id} was not found`, { id });
  }

  static invalidInput(message: string, field?: string): DomainError {
    return new DomainError('invalid_input', message, field ? { field } : undefined);
  }
}

/** Throws `DomainError(code)` when `condition` is false; narrows like an assertion. */
export function assertThat(condition: unknown, code: DomainErrorCode, message: string, details?: Record<string, unknown>): asserts condition {
  if (!condition) throw new DomainError(code, message, details);
}

/**
 * The unique index a PostgreSQL unique violation (SQLSTATE 23505) broke, or undefined for any other error.
 * pg and PGlite both expose `constraint`; the message is a fallback for drivers that do not.
 */
export function uniqueViolationConstraint(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, constraint, message } = error as { code?: unknown; constraint?: unknown; message?: unknown };
  if (code !== '23505') return undefined;
  if (typeof constraint === 'string') return constraint;
  const match = typeof message === 'string' ? /unique constraint "([^"]+)"/.exec(message) : null;
  return match?.[1] ?? '';
}

/**
 * Runs `work` and turns a unique violation of one of the named indexes into `DomainError('conflict')`, so the
 * mapping from index name to message lives beside the service that owns the table.
 */
export async function mapUniqueViolations<T>(work: () => Promise<T>, messages: Record<string, () => DomainError>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const constraint = uniqueViolationConstraint(error);
    const make = constraint === undefined ? undefined : messages[constraint];
    if (make) {
      const mapped = make();
      throw new DomainError(mapped.code, mapped.message, mapped.details, { cause: error });
    }
    throw error;
  }
}

/** A source of the current time; tests inject a fixed or steppable one. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
