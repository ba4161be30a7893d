import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, apiUrl, configureApiClient, errorMessage, fieldErrors, http, resetApiClient } from './client.ts';
import { createFakeFetch } from '../test/fake-fetch.ts';

describe('api client', () => {
  let server: ReturnType<typeof createFakeFetch>;
  const onUnauthorized = vi.fn();

  beforeEach(() => {
    server = createFakeFetch();
    onUnauthorized.mockReset();
    resetApiClient();
    configureApiClient({ fetch: server.fetch, csrfToken: () => 'csrf-123', onUnauthorized });
  });

  it('sends JSON with same-origin credentials and the CSRF token only on mutating calls', async () => {
    server.on('GET /api/admin/settings', { body: { usersDeletableByAdmins: false, lockOnRefusedDelete: false } });
    server.on('PATCH /api/admin/settings', (call) => ({ body: call.body }));
    await http.get('/settings');
    const patched = await http.patch('/settings', { usersDeletableByAdmins: true });

    const [get, patch] = server.calls;
    expect(get!.credentials).toBe('same-origin');
    expect(get!.headers['X-CSRF-Token']).toBeUndefined();
    expect(patch!.headers['X-CSRF-Token']).toBe('csrf-123');
    expect(patch!.headers['Content-Type']).toBe('application/json');
    expect(patch!.body).toEqual({ usersDeletableByAdmins: true });
    expect(patched).toEqual({ usersDeletableByAdmins: true });
  });

  it('maps an error body to an ApiError with code, message and details', async () => {
    server.on('DELETE /api/admin/auth-providers/p1', {
      status: 409,
      body: { code: 'in_use', message: 'Used by SCIM client “Keycloak”', details: { clients: ['Keycloak'] } },
    });
    const error = await http.delete('/auth-providers/p1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: 'in_use', message: 'Used by SCIM client “Keycloak”', details: { clients: ['Keycloak'] } });
    expect(errorMessage(error)).toBe('Used by SCIM client “Keycloak”');
  });

  it('gives a readable error when the body is not the API error shape', async () => {
    server.on('GET /api/admin/info', () => ({ status: 502 }));
    await expect(http.get('/info')).rejects.toMatchObject({ status: 502, code: 'http_502', message: 'The server answered with status 502.' });
  });

  it('reports a network failure as network_error', async () => {
    configureApiClient({ fetch: () => Promise.reject(new TypeError('Failed to fetch')) });
    await expect(http.get('/info')).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('calls onUnauthorized on a 401 except from the session endpoints themselves', async () => {
    const unauthenticated = { status: 401, body: { code: 'unauthenticated', message: 'Sign in first' } };
    server.on('GET /api/admin/scim-clients', unauthenticated);
    server.on('POST /api/admin/session', { status: 401, body: { code: 'invalid_credentials', message: 'Email or password is incorrect' } });
    await expect(http.get('/scim-clients')).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    await expect(http.post('/session', { email: 'a@b.c', password: 'x' })).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('builds query strings without empty values', () => {
    expect(apiUrl('/users', { q: 'ann', status: '', clientId: undefined, limit: 25, offset: 0 })).toBe('/api/admin/users?q=ann&limit=25&offset=0');
  });

  it('reads field messages from validation issues', () => {
    const error = new ApiError(400, 'invalid_input', 'Invalid body', { issues: [{ path: 'name', message: 'must not be empty' }] });
    expect(fieldErrors(error)).toEqual({ name: 'must not be empty' });
  });
});
