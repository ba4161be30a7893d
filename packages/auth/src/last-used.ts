import type { Knex } from 'knex';
import type { Clock } from '@roster/domain';

/** last_used_at is written at most this often per credential (not on every request). */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;

/**
 * Records when a credential was last used, off the request's path: at most one write per credential and
 * LAST_USED_WRITE_INTERVAL_MS in this process, and the WHERE clause keeps other processes from writing more
 * than once an interval too. Shared by SCIM client credentials (`scim_credentials`) and application
 * credentials (`application_credentials`); `settled()` lets shutdown wait for the writes in flight.
 */
export function createLastUsedRecorder(options: { knex: Knex; table: string; clock: Clock; maxEntries: number; onError?: ((error: unknown) => void) | undefined }) {
  const { knex, table, clock, maxEntries } = options;
  const written = new Map<string, number>();
  const pending = new Set<Promise<void>>();
  return {
    touch(credentialId: string): void {
      const now = clock().getTime();
      const last = written.get(credentialId);
      if (last !== undefined && now - last < LAST_USED_WRITE_INTERVAL_MS) return;
      written.set(credentialId, now);
      if (written.size > maxEntries) written.delete(written.keys().next().value!);
      const write = knex(table)
        .where('id', credentialId)
        .where((builder) => builder.whereNull('last_used_at').orWhere('last_used_at', '<', new Date(now - LAST_USED_WRITE_INTERVAL_MS)))
        .update({ last_used_at: new Date(now) })
        .then(
          () => undefined,
          (error: unknown) => options.onError?.(error),
        )
        .finally(() => pending.delete(write));
      pending.add(write);
    },
    async settled(): Promise<void> {
      await Promise.all([...pending]);
    },
  };
}
