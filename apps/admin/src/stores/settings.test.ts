import { describe, expect, it } from 'vitest';
import { setupApi } from '../test/fake-fetch.ts';
import { useSettingsStore } from './settings.ts';

describe('useSettingsStore', () => {
  it('patches one setting and takes the server answer', async () => {
    const { server } = setupApi({
      'GET /api/admin/settings': { body: { usersDeletableByAdmins: false, lockOnRefusedDelete: false } },
      'PATCH /api/admin/settings': { body: { usersDeletableByAdmins: true, lockOnRefusedDelete: false } },
    });
    const store = useSettingsStore();
    await store.load();
    await store.update({ usersDeletableByAdmins: true });
    expect(server.callsTo('PATCH /api/admin/settings')[0]!.body).toEqual({ usersDeletableByAdmins: true });
    expect(store.settings).toEqual({ usersDeletableByAdmins: true, lockOnRefusedDelete: false });
  });

  it('restores the previous value when saving fails', async () => {
    setupApi({
      'GET /api/admin/settings': { body: { usersDeletableByAdmins: false, lockOnRefusedDelete: false } },
      'PATCH /api/admin/settings': { status: 403, body: { code: 'csrf_failed', message: 'Missing or wrong X-CSRF-Token header' } },
    });
    const store = useSettingsStore();
    await store.load();
    await expect(store.update({ lockOnRefusedDelete: true })).rejects.toMatchObject({ code: 'csrf_failed' });
    expect(store.settings).toEqual({ usersDeletableByAdmins: false, lockOnRefusedDelete: false });
  });
});
