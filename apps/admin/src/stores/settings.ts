import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { settingsApi, type Settings } from '../api/settings.ts';

export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Settings | null>(null);
  const loading = ref(false);
  const saving = ref(false);
  const error = ref<string | null>(null);

  async function load() {
    loading.value = true;
    error.value = null;
    try {
      settings.value = await settingsApi.get();
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      loading.value = false;
    }
  }

  /** Saves one change; on failure the previous value is restored and the error thrown for the view. */
  async function update(patch: Partial<Settings>) {
    const previous = settings.value;
    if (previous) settings.value = { ...previous, ...patch };
    saving.value = true;
    try {
      settings.value = await settingsApi.update(patch);
    } catch (e) {
      settings.value = previous;
      throw e;
    } finally {
      saving.value = false;
    }
  }

  function $reset() {
    settings.value = null;
    loading.value = false;
    saving.value = false;
    error.value = null;
  }

  return { settings, loading, saving, error, load, update, $reset };
});
