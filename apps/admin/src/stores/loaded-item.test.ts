import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client.ts';
import { useLoadedItem } from './loaded-item.ts';

interface Item {
  id: string;
  name: string;
}

describe('useLoadedItem', () => {
  it('loads the item with a loading flag meanwhile', async () => {
    const item = useLoadedItem<Item>(async (id) => ({ id, name: `item ${id}` }));
    const done = item.loadOne('a');
    expect(item.currentLoading.value).toBe(true);
    await done;
    expect(item.current.value).toEqual({ id: 'a', name: 'item a' });
    expect(item.currentLoading.value).toBe(false);
    expect(item.currentError.value).toBeNull();
  });

  it('clears the previous item when another one is opened, but keeps it while the same one reloads', async () => {
    const switched: string[] = [];
    let release: () => void = () => undefined;
    const item = useLoadedItem<Item>(
      (id) => new Promise((resolve) => (release = () => resolve({ id, name: id }))),
      { onSwitch: (id) => switched.push(id) },
    );
    let done = item.loadOne('a');
    release();
    await done;
    done = item.loadOne('a');
    expect(item.current.value?.id).toBe('a');
    release();
    await done;
    done = item.loadOne('b');
    expect(item.current.value).toBeNull();
    release();
    await done;
    expect(item.current.value?.id).toBe('b');
    expect(switched).toEqual(['a', 'b']);
  });

  it('keeps the error message for the view, and reset forgets everything', async () => {
    const item = useLoadedItem<Item>(() => Promise.reject(new ApiError(404, 'not_found', 'No such user')));
    await item.loadOne('gone');
    expect(item.currentError.value).toBe('No such user');
    expect(item.current.value).toBeNull();
    item.reset();
    expect(item.currentError.value).toBeNull();
    expect(item.currentLoading.value).toBe(false);
  });
});
