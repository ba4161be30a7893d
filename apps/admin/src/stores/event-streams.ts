import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { eventStreamsApi, type EventStream, type EventStreamInput } from '../api/event-streams.ts';

/** The event streams index. A poll stream's token is returned by `create` only and never kept here. */
export const useEventStreamsStore = defineStore('event-streams', () => {
  const items = ref<EventStream[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      items.value = (await eventStreamsApi.list({ limit: 500 })).items;
      loaded.value = true;
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      loading.value = false;
    }
  }

  async function create(input: EventStreamInput) {
    const created = await eventStreamsApi.create(input);
    const { token: _token, ...stream } = created;
    items.value = [...items.value.filter((s) => s.id !== stream.id), stream];
    return created;
  }

  function $reset(): void {
    items.value = [];
    loading.value = false;
    loaded.value = false;
    error.value = null;
  }

  return { items, loading, loaded, error, load, create, $reset };
});
