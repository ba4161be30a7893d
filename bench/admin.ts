// The admin JSON API as the harness uses it: one signed-in session (cookie + CSRF token, docs/DESIGN "Admin
// JSON API"), and a call that checks the status it expects.

export const ADMIN = { email: 'bench-admin@example.com', password: 'bench-admin-password-1' };

export interface AdminApi {
  /** Sends a JSON body (if any) and returns the parsed answer; throws unless the status is `expected`. */
  call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', pathname: string, body?: unknown, expected?: number): Promise<Record<string, unknown>>;
}

export async function adminSession(baseUrl: string): Promise<AdminApi> {
  const session = await fetch(`${baseUrl}/api/admin/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (session.status !== 200) throw new Error(`admin sign-in answered ${session.status}: ${await session.text()}`);
  const { csrfToken } = (await session.json()) as { csrfToken: string };
  const cookie = session.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  return {
    async call(method, pathname, body, expected = method === 'POST' ? 201 : 200) {
      const response = await fetch(`${baseUrl}${pathname}`, {
        method,
        headers: { cookie, 'x-csrf-token': csrfToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status !== expected) throw new Error(`${method} ${pathname} answered ${response.status}: ${text}`);
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    },
  };
}
