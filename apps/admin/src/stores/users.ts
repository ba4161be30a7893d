import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { usersApi, type UserDetail } from '../api/users.ts';
import { usePagedList } from './paged-list.ts';

export interface UserFilters {
  q: string;
  status: '' | 'active' | 'locked';
  clientId: string;
}

export const useUsersStore = defineStore('users', () => {
  const list = usePagedList<Awaited<ReturnType<typeof usersApi.list>>['items'][number], UserFilters>(
    () => ({ q: '', status: '', clientId: '' }),
    (f, limit, offset) => usersApi.list({ q: f.q || undefined, status: f.status, clientId: f.clientId || undefined, limit, offset }),
  );
  const current = ref<UserDetail | null>(null);
  const currentLoading = ref(false);
  const currentError = ref<string | null>(null);

  async function loadOne(id: string) {
    if (current.value?.id !== id) current.value = null;
    currentLoading.value = true;
    currentError.value = null;
    try {
      current.value = await usersApi.get(id);
    } catch (e) {
      currentError.value = errorMessage(e);
    } finally {
      currentLoading.value = false;
    }
  }

  function $reset() {
    list.reset();
    current.value = null;
    currentLoading.value = false;
    currentError.value = null;
  }

  return { ...list, current, currentLoading, currentError, loadOne, $reset };
});
