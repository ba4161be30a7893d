import { ref, type Ref } from 'vue';
import { errorMessage } from '../api/client.ts';

/**
 * State of the one item a detail view shows (used inside setup stores): `current` with its own loading flag and
 * error, apart from the list. Opening another item clears the previous one first, so a detail view never shows
 * the wrong item while the next one loads; reloading the same item keeps it on screen.
 */
export function useLoadedItem<T>(fetchOne: (id: string) => Promise<T>, options: { onSwitch?: (id: string) => void } = {}) {
  const current = ref(null) as Ref<T | null>;
  const currentLoading = ref(false);
  const currentError = ref<string | null>(null);
  let currentId = '';

  async function loadOne(id: string) {
    if (currentId !== id) {
      current.value = null;
      options.onSwitch?.(id);
    }
    currentId = id;
    currentLoading.value = true;
    currentError.value = null;
    try {
      current.value = await fetchOne(id);
    } catch (e) {
      currentError.value = errorMessage(e);
    } finally {
      currentLoading.value = false;
    }
  }

  function reset() {
    currentId = '';
    current.value = null;
    currentLoading.value = false;
    currentError.value = null;
  }

  return { current, currentLoading, currentError, loadOne, reset };
}
