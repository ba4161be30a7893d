import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { scimClientsApi, type CreatedScimClient, type ScimClient, type ScimClientInput } from '../api/scim-clients.ts';
import { useLoadedItem } from './loaded-item.ts';

/** The client without its one-time secret fields: what may be kept in memory after the dialog closes. */
export function withoutSecrets(created: CreatedScimClient): ScimClient {
  const { token: _token, clientSecret: _secret, clientId: _clientId, ...client } = created;
  return { ...client, oauthClientId: client.oauthClientId ?? _clientId ?? null };
}

export const useScimClientsStore = defineStore('scimClients', () => {
  const items = ref<ScimClient[]>([]);
  const total = ref(0);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const { current, currentLoading, currentError, loadOne, reset: resetCurrent } = useLoadedItem<ScimClient>((id) => scimClientsApi.get(id));

  async function load() {
    loading.value = true;
    error.value = null;
    try {
      const page = await scimClientsApi.list();
      items.value = page.items;
      total.value = page.total;
      loaded.value = true;
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      loading.value = false;
    }
  }

  /**
   * Creates the client. The returned object carries the one-time secret for the dialog that shows it; the store
   * itself keeps only the client without it.
   */
  async function create(input: ScimClientInput): Promise<CreatedScimClient> {
    const created = await scimClientsApi.create(input);
    items.value = [...items.value, withoutSecrets(created)];
    total.value += 1;
    return created;
  }

  async function update(id: string, input: Partial<Omit<ScimClientInput, 'authMethod'>>): Promise<ScimClient> {
    const updated = await scimClientsApi.update(id, input);
    items.value = items.value.map((c) => (c.id === id ? updated : c));
    if (current.value?.id === id) current.value = updated;
    return updated;
  }

  async function remove(id: string) {
    await scimClientsApi.remove(id);
    items.value = items.value.filter((c) => c.id !== id);
    total.value = Math.max(0, total.value - 1);
    if (current.value?.id === id) current.value = null;
  }

  function $reset() {
    items.value = [];
    total.value = 0;
    loading.value = false;
    loaded.value = false;
    error.value = null;
    resetCurrent();
  }

  return { items, total, loading, loaded, error, current, currentLoading, currentError, load, loadOne, create, update, remove, $reset };
});
