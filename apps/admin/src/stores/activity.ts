import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { activityApi, type ActivityEvent, type ActivityStats } from '../api/activity.ts';
import { usePagedList } from './paged-list.ts';

export interface ActivityFilters {
  clientId: string;
  status: '' | 'success' | 'error';
  /** ISO 8601 instants (or empty). */
  from: string;
  to: string;
}

export const useActivityStore = defineStore('activity', () => {
  const list = usePagedList<ActivityEvent, ActivityFilters>(
    () => ({ clientId: '', status: '', from: '', to: '' }),
    (f, limit, offset) =>
      activityApi.list({ clientId: f.clientId || undefined, status: f.status, from: f.from || undefined, to: f.to || undefined, limit, offset }),
  );
  const stats = ref<ActivityStats | null>(null);
  const statsError = ref<string | null>(null);

  /** Hour buckets for ranges up to three days, day buckets beyond. */
  function bucketFor(from: string, to: string): 'hour' | 'day' {
    const start = from ? Date.parse(from) : Date.now() - 24 * 3600_000;
    const end = to ? Date.parse(to) : Date.now();
    return end - start > 3 * 24 * 3600_000 ? 'day' : 'hour';
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
    await Promise.all([list.load(), loadStats()]);
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
    stats.value = null;
    statsError.value = null;
  }

  return { ...list, stats, statsError, bucketFor, loadStats, loadAll, applyFilters, csvUrl, $reset };
});
