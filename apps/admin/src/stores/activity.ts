import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { activityApi, type ActivityEvent, type ActivityStats, type ReadCount, type StatsBucket } from '../api/activity.ts';
import { usePagedList } from './paged-list.ts';

/** A range relative to now, or `custom` (from/to as given). */
export type ActivityRange = '1h' | '24h' | '7d' | '30d' | 'custom';

export const RANGE_MS: Record<Exclude<ActivityRange, 'custom'>, number> = { '1h': 3600_000, '24h': 24 * 3600_000, '7d': 7 * 24 * 3600_000, '30d': 30 * 24 * 3600_000 };

export interface ActivityFilters {
  range: ActivityRange;
  clientId: string;
  status: '' | 'success' | 'error';
  /** ISO 8601 instants (or empty); for a relative range, set when the filters are applied. */
  from: string;
  to: string;
}

/**
 * The chart's bucket from the length of the range, so a few minutes of traffic never land in one bar:
 * minutes up to 6 hours (the server's limit), hours up to 3 days, days beyond.
 */
export function bucketFor(from: string, to: string, now = Date.now()): StatsBucket {
  const start = from ? Date.parse(from) : now - 24 * 3600_000;
  const end = to ? Date.parse(to) : now;
  const span = end - start;
  if (span <= 6 * 3600_000) return 'minute';
  return span <= 3 * 24 * 3600_000 ? 'hour' : 'day';
}

export const useActivityStore = defineStore('activity', () => {
  const list = usePagedList<ActivityEvent, ActivityFilters>(
    () => ({ range: '24h', clientId: '', status: '', from: '', to: '' }),
    (f, limit, offset) =>
      activityApi.list({ clientId: f.clientId || undefined, status: f.status, from: f.from || undefined, to: f.to || undefined, limit, offset }),
  );
  // Counted reads share the client and time filters (they are all successes, so the status filter hides them when "Failed").
  const reads = usePagedList<ReadCount, Record<string, never>>(
    () => ({}),
    (_f, limit, offset) => {
      const f = list.filters.value;
      if (f.status === 'error') return Promise.resolve({ items: [], total: 0 });
      return activityApi.reads({ clientId: f.clientId || undefined, from: f.from || undefined, to: f.to || undefined, limit, offset });
    },
  );
  const stats = ref<ActivityStats | null>(null);
  const statsError = ref<string | null>(null);

  /** A relative range becomes from/to as of now. */
  function resolveRange(now = Date.now()) {
    const f = list.filters.value;
    if (f.range === 'custom') return;
    list.filters.value = { ...f, from: new Date(now - RANGE_MS[f.range]).toISOString(), to: '' };
  }

  async function loadStats() {
    const f = list.filters.value;
    statsError.value = null;
    try {
      stats.value = await activityApi.stats({ bucket: bucketFor(f.from, f.to), from: f.from || undefined, to: f.to || undefined, clientId: f.clientId || undefined });
    } catch (e) {
      statsError.value = errorMessage(e);
    }
  }

  async function loadAll() {
    resolveRange();
    reads.offset.value = 0;
    await Promise.all([list.load(), loadStats(), reads.load()]);
  }

  async function applyFilters(next: Partial<ActivityFilters>) {
    list.filters.value = { ...list.filters.value, ...next };
    list.offset.value = 0;
    await loadAll();
  }

  function csvUrl(): string {
    const f = list.filters.value;
    return activityApi.csvUrl({ clientId: f.clientId || undefined, status: f.status, from: f.from || undefined, to: f.to || undefined });
  }

  function $reset() {
    list.reset();
    reads.reset();
    stats.value = null;
    statsError.value = null;
  }

  return { ...list, reads, stats, statsError, bucketFor, loadStats, loadAll, applyFilters, csvUrl, $reset };
});
