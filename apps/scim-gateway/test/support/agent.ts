import { request, type HttpResponse } from './http.js';

/** A browser-like client: keeps the session cookie, sends the CSRF token on mutating calls when it has one. */
export class Agent {
  cookie: string | undefined;
  csrfToken: string | undefined;

  constructor(readonly baseUrl: string) {}

  async request(
    method: string,
    path: string,
    options: { json?: unknown; raw?: string; headers?: Record<string, string>; csrf?: boolean } = {},
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie) headers.cookie = `roster_session=${this.cookie}`;
    if (method !== 'GET' && this.csrfToken && options.csrf !== false) headers['x-csrf-token'] = this.csrfToken;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    // Redirects (the OIDC sign-in steps) are what the tests check, so they are returned, not followed.
    const response = await request(`${this.baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) {
      const match = /^roster_session=([^;]*)/.exec(setCookie);
      if (match) this.cookie = match[1] || undefined;
    }
    return response;
  }

  get(path: string, headers?: Record<string, string>): Promise<HttpResponse> {
    return this.request('GET', path, { headers });
  }
  post(path: string, json?: unknown): Promise<HttpResponse> {
    return this.request('POST', path, { json: json ?? {} });
  }
  patch(path: string, json: unknown): Promise<HttpResponse> {
    return this.request('PATCH', path, { json });
  }
  delete(path: string): Promise<HttpResponse> {
    return this.request('DELETE', path);
  }

  async signIn(email: string, password: string): Promise<HttpResponse> {
    const response = await this.post('/api/admin/session', { email, password });
    if (response.status === 200) this.csrfToken = (response.body as { csrfToken: string }).csrfToken;
    return response;
  }
}
