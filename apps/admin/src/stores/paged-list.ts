import { ref, type Ref } from 'vue';
import { errorMessage, type Page } from '../api/client.ts';

export const PAGE_SIZE = 25;

/**
 * State of one paged, filtered list (used inside setup stores). A newer load wins over a slower older one,
 * so typing in a search box never shows stale results.
 */
export function usePagedList<T, F extends object>(initialFilters: () => F, fetchPage: (filters: F, limit: number, offset: number) => Promise<Page<T>>) {
  const items = ref([]) as Ref<T[]>;
  const total = ref(0);
  const offset = ref(0);
  const limit = ref(PAGE_SIZE);
  const filters = ref(initialFilters()) as Ref<F>;
  const loading = ref(false);
  const error = ref<string | null>(null);
  let generation = 0;

  async function load() {
    const mine = ++generation;
    loading.value = true;
    error.value = null;
    try {
      const page = await fetchPage(filters.value, limit.value, offset.value);
      if (mine !== generation) return;
      items.value = page.items;
      total.value = page.total;
    } catch (e) {
      if (mine === generation) error.value = errorMessage(e);
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  /** New filters start again at the first page. */
  async function setFilters(next: Partial<F>) {
    filters.value = { ...filters.value, ...next };
    offset.value = 0;
    await load();
  }

  async function setOffset(next: number) {
    offset.value = Math.max(0, next);
    await load();
  }

  function reset() {
    generation++;
    items.value = [];
    total.value = 0;
    offset.value = 0;
    limit.value = PAGE_SIZE;
    filters.value = initialFilters();
    loading.value = false;
    error.value = null;
  }

  return { items, total, offset, limit, filters, loading, error, load, setFilters, setOffset, reset };
}
