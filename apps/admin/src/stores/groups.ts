import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { groupsApi, type DirectoryGroup, type GroupMember } from '../api/groups.ts';
import { usePagedList } from './paged-list.ts';

export const useGroupsStore = defineStore('groups', () => {
  const list = usePagedList<DirectoryGroup, { q: string }>(
    () => ({ q: '' }),
    (f, limit, offset) => groupsApi.list({ q: f.q || undefined, limit, offset }),
  );
  const current = ref<DirectoryGroup | null>(null);
  const currentLoading = ref(false);
  const currentError = ref<string | null>(null);
  let currentId = '';
  // The members of the group on screen, paged and searchable on their own.
  const members = reactive(
    usePagedList<GroupMember, { q: string }>(
      () => ({ q: '' }),
      (f, limit, offset) => groupsApi.members(currentId, { q: f.q || undefined, limit, offset }),
    ),
  );

  async function loadOne(id: string) {
    if (currentId !== id) {
      current.value = null;
      members.reset();
    }
    currentId = id;
    currentLoading.value = true;
    currentError.value = null;
    try {
      const [group] = await Promise.all([groupsApi.get(id), members.load()]);
      current.value = group;
    } catch (e) {
      currentError.value = errorMessage(e);
    } finally {
      currentLoading.value = false;
    }
  }

  function $reset() {
    list.reset();
    members.reset();
    currentId = '';
    current.value = null;
    currentLoading.value = false;
    currentError.value = null;
  }

  return { ...list, current, currentLoading, currentError, members, loadOne, $reset };
});
