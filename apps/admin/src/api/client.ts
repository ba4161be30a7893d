// The one HTTP client of the admin SPA. JSON in and out, same-origin cookie credentials, the CSRF token on
// every mutating call, and every failure mapped to an ApiError carrying the server's `{code, message, details}`.
// Its collaborators (fetch, where the CSRF token comes from, what a 401 does) are injected once by main.ts,
// and by tests with a fake fetch: no module mocking.
import { messages } from '../messages.ts';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
export type Query = Record<string, string | number | boolean | null | undefined>;

export interface ApiClientDeps {
  fetch: FetchLike;
  /** The current session's CSRF token (held in the session store), sent as X-CSRF-Token on mutating calls. */
  csrfToken: () => string | null;
  /** Called when a request other than the session endpoints answers 401 (session expired or signed out elsewhere). */
  onUnauthorized: (error: ApiError) => void;
}

function defaultDeps(): ApiClientDeps {
  return { fetch: (input, init) => globalThis.fetch(input, init), csrfToken: () => null, onUnauthorized: () => undefined };
}

let deps: ApiClientDeps = defaultDeps();

export function configureApiClient(overrides: Partial<ApiClientDeps>): void {
  deps = { ...deps, ...overrides };
}

export function resetApiClient(): void {
  deps = defaultDeps();
}

export const API_BASE = '/api/admin';

/** `/api/admin` + path + a query string without empty values (also used for plain links such as the CSV export). */
export function apiUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const search = params.toString();
  return `${API_BASE}${path}${search ? `?${search}` : ''}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toApiError(status: number, body: unknown): ApiError {
  if (isRecord(body) && typeof body.code === 'string' && typeof body.message === 'string') {
    return new ApiError(status, body.code, body.message, body.details);
  }
  return new ApiError(status, `http_${status}`, messages.errors.httpStatus(status));
}

/** Calls made while signed out (sign-in, first-admin setup, the sign-in page's OIDC providers): a 401 there ends no session. */
const SIGNED_OUT_PATHS = ['/session', '/setup', '/oidc/'];

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export async function request<T>(method: Method, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') {
    const token = deps.csrfToken();
    if (token) headers['X-CSRF-Token'] = token;
  }
  let response: Response;
  try {
    response = await deps.fetch(apiUrl(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (cause) {
    throw new ApiError(0, 'network_error', messages.errors.network, undefined, { cause });
  }
  const text = response.status === 204 ? '' : await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch (cause) {
      if (response.ok) throw new ApiError(response.status, 'invalid_response', messages.errors.invalidResponse, undefined, { cause });
      body = undefined;
    }
  }
  if (!response.ok) {
    const error = toApiError(response.status, body);
    if (response.status === 401 && !SIGNED_OUT_PATHS.some((prefix) => path.startsWith(prefix))) deps.onUnauthorized(error);
    throw error;
  }
  return body as T;
}

export const http = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, { query }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  delete: <T = void>(path: string) => request<T>('DELETE', path),
};

/** Lists answer `{items, total}` and take q, limit and offset. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** A message fit for the screen from anything a call may throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return messages.errors.unknown;
}

/** Field-level messages from `details` when the server names fields (`{fields: {name: "..."}}` or `[{path, message}]`). */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const details = error.details;
  const out: Record<string, string> = {};
  if (isRecord(details) && isRecord(details.fields)) {
    for (const [key, value] of Object.entries(details.fields)) if (typeof value === 'string') out[key] = value;
  }
  const list = Array.isArray(details) ? details : isRecord(details) && Array.isArray(details.issues) ? details.issues : [];
  for (const issue of list) {
    if (!isRecord(issue) || typeof issue.message !== 'string') continue;
    const key = Array.isArray(issue.path) ? issue.path.join('.') : typeof issue.path === 'string' ? issue.path : typeof issue.field === 'string' ? issue.field : '';
    if (key) out[key] = issue.message;
  }
  return out;
}
