import { describe, expect, it } from 'vitest';
import { setupApi } from '../test/fake-fetch.ts';
import { useSessionStore } from './session.ts';

const session = { id: '6f1c5a52-0000-4000-8000-000000000001', email: 'admin@example.com', csrfToken: 'csrf-abc' };

describe('useSessionStore', () => {
  it('treats a 401 from GET /session as signed out, and asks only once', async () => {
    const { server } = setupApi({ 'GET /api/admin/session': { status: 401, body: { code: 'unauthenticated', message: 'Sign in first' } } });
    const store = useSessionStore();
    expect(await store.ensureChecked()).toBe(false);
    expect(await store.ensureChecked()).toBe(false);
    expect(server.callsTo('GET /api/admin/session')).toHaveLength(1);
  });

  it('signs in, then sends the returned CSRF token on mutating calls, and forgets it on sign-out', async () => {
    const { server } = setupApi({ 'POST /api/admin/session': { body: session }, 'DELETE /api/admin/session': { status: 204 } });
    const store = useSessionStore();
    await store.signIn('admin@example.com', 'correct horse battery');
    expect(store.signedIn).toBe(true);
    expect(store.admin).toEqual({ id: session.id, email: session.email });
    await store.signOut();
    expect(server.callsTo('DELETE /api/admin/session')[0]!.headers['X-CSRF-Token']).toBe('csrf-abc');
    expect(store.signedIn).toBe(false);
    expect(store.csrfToken).toBeNull();
  });

  it('creates the first admin through the setup token, then signs in with the same credentials', async () => {
    const { server } = setupApi({ 'POST /api/admin/setup': { status: 201, body: { id: session.id, email: session.email } }, 'POST /api/admin/session': { body: session } });
    const store = useSessionStore();
    await store.setupFirstAdmin('tok', 'admin@example.com', 'a long password!');
    expect(server.callsTo('POST /api/admin/setup')[0]!.body).toEqual({ token: 'tok', email: 'admin@example.com', password: 'a long password!' });
    expect(store.signedIn).toBe(true);
  });

  it('$reset forgets everything and asks the server again', async () => {
    setupApi({ 'POST /api/admin/session': { body: session } });
    const store = useSessionStore();
    await store.signIn('admin@example.com', 'pw');
    store.$reset();
    expect(store.admin).toBeNull();
    expect(store.checked).toBe(false);
  });

  it('keeps nothing in localStorage or sessionStorage', async () => {
    setupApi({ 'POST /api/admin/session': { body: session } });
    await useSessionStore().signIn('admin@example.com', 'pw');
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });
});
