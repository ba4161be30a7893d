import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { applicationsApi, type Application, type ApplicationInput, type CreatedApplication } from '../api/applications.ts';

/** Applications (read-only directory access, sign-in resolution, event polling) and their one-time credentials. */
export const useApplicationsStore = defineStore('applications', () => {
  const items = ref<Application[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<string | null>(null);

  async function load() {
    loading.value = true;
    error.value = null;
    try {
      items.value = (await applicationsApi.list()).items;
      loaded.value = true;
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      loading.value = false;
    }
  }

  /** The returned object carries the one-time credential for the dialog; the store keeps the application without it. */
  async function create(input: ApplicationInput): Promise<CreatedApplication> {
    const created = await applicationsApi.create(input);
    const { token: _token, clientSecret: _secret, clientId: _clientId, ...application } = created;
    items.value = [...items.value, application].sort((a, b) => a.name.localeCompare(b.name));
    return created;
  }

  async function remove(id: string) {
    await applicationsApi.remove(id);
    items.value = items.value.filter((item) => item.id !== id);
  }

  function $reset() {
    items.value = [];
    loading.value = false;
    loaded.value = false;
    error.value = null;
  }

  return { items, loading, loaded, error, load, create, remove, $reset };
});
