import { defineStore } from 'pinia';
import { reactive } from 'vue';
import { groupsApi, type DirectoryGroup, type GroupMember } from '../api/groups.ts';
import { useLoadedItem } from './loaded-item.ts';
import { usePagedList } from './paged-list.ts';

export const useGroupsStore = defineStore('groups', () => {
  const list = usePagedList<DirectoryGroup, { q: string }>(
    () => ({ q: '' }),
    (f, limit, offset) => groupsApi.list({ q: f.q || undefined, limit, offset }),
  );
  let currentId = '';
  // The members of the group on screen, paged and searchable on their own.
  const members = reactive(
    usePagedList<GroupMember, { q: string }>(
      () => ({ q: '' }),
      (f, limit, offset) => groupsApi.members(currentId, { q: f.q || undefined, limit, offset }),
    ),
  );

  const { current, currentLoading, currentError, loadOne, reset: resetCurrent } = useLoadedItem<DirectoryGroup>(
    async (id) => {
      const [group] = await Promise.all([groupsApi.get(id), members.load()]);
      return group;
    },
    {
      onSwitch(id) {
        currentId = id;
        members.reset();
      },
    },
  );

  function $reset() {
    list.reset();
    members.reset();
    currentId = '';
    resetCurrent();
  }

  return { ...list, current, currentLoading, currentError, members, loadOne, $reset };
});
