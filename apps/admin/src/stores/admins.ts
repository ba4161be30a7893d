import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { adminsApi, type Admin } from '../api/admins.ts';

export const useAdminsStore = defineStore('admins', () => {
  const items = ref<Admin[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function load() {
    loading.value = true;
    error.value = null;
    try {
      items.value = (await adminsApi.list()).items;
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      loading.value = false;
    }
  }

  async function add(email: string, password: string) {
    const admin = await adminsApi.create(email, password);
    items.value = [...items.value, admin];
  }

  async function remove(id: string) {
    await adminsApi.remove(id);
    items.value = items.value.filter((a) => a.id !== id);
  }

  function $reset() {
    items.value = [];
    loading.value = false;
    error.value = null;
  }

  return { items, loading, error, load, add, remove, $reset };
});
