import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { authProvidersApi, type AuthProvider, type ProviderInput } from '../api/auth-providers.ts';

export const useAuthProvidersStore = defineStore('authProviders', () => {
  const items = ref<AuthProvider[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<string | null>(null);

  async function load() {
    loading.value = true;
    error.value = null;
    try {
      items.value = (await authProvidersApi.list()).items;
      loaded.value = true;
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      loading.value = false;
    }
  }

  async function create(input: ProviderInput): Promise<AuthProvider> {
    const created = await authProvidersApi.create(input);
    items.value = [...items.value, created];
    return created;
  }

  async function update(id: string, input: Partial<ProviderInput>): Promise<AuthProvider> {
    const updated = await authProvidersApi.update(id, input);
    items.value = items.value.map((p) => (p.id === id ? updated : p));
    return updated;
  }

  /** Throws the server's refusal (e.g. a SCIM client still uses the provider) for the view to show. */
  async function remove(id: string) {
    await authProvidersApi.remove(id);
    items.value = items.value.filter((p) => p.id !== id);
  }

  function byId(id: string | null | undefined): AuthProvider | undefined {
    return items.value.find((p) => p.id === id);
  }

  function $reset() {
    items.value = [];
    loading.value = false;
    loaded.value = false;
    error.value = null;
  }

  return { items, loading, loaded, error, load, create, update, remove, byId, $reset };
});
