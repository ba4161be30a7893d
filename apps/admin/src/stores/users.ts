import { defineStore } from 'pinia';
import { usersApi, type UserDetail } from '../api/users.ts';
import { useLoadedItem } from './loaded-item.ts';
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
  const { current, currentLoading, currentError, loadOne, reset: resetCurrent } = useLoadedItem<UserDetail>((id) => usersApi.get(id));

  function $reset() {
    list.reset();
    resetCurrent();
  }

  return { ...list, current, currentLoading, currentError, loadOne, $reset };
});
