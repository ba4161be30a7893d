// A fake fetch for tests: answers by "METHOD /path" (query ignored for matching) and records every call.
// Injected through configureApiClient; no module is mocked.
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { configureApiClient, resetApiClient, type FetchLike } from '../api/client.ts';
import { useSessionStore } from '../stores/session.ts';

export interface RecordedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

export interface Reply {
  status?: number;
  body?: unknown;
}

export type Handler = (call: RecordedCall) => Reply | Promise<Reply>;

export function createFakeFetch(routes: Record<string, Handler | Reply> = {}) {
  const calls: RecordedCall[] = [];
  const table = new Map(Object.entries(routes));
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input, 'http://roster.test');
    const call: RecordedCall = {
      method: init.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      credentials: init.credentials,
    };
    calls.push(call);
    const route = table.get(`${call.method} ${call.path}`);
    if (!route) return new Response(JSON.stringify({ code: 'not_found', message: `No fake for ${call.method} ${call.path}` }), { status: 404 });
    const reply = typeof route === 'function' ? await route(call) : route;
    const status = reply.status ?? 200;
    return new Response(status === 204 || reply.body === undefined ? null : JSON.stringify(reply.body), {
      status,
      headers: { 'Content-Type': 'application/json' },
    });
  };
  return {
    fetch,
    calls,
    on(key: string, handler: Handler | Reply) {
      table.set(key, handler);
    },
    callsTo(key: string) {
      return calls.filter((c) => `${c.method} ${c.path}` === key);
    },
  };
}

/** A fresh Pinia and an api client wired to the fake fetch and to the session store's CSRF token. */
export function setupApi(routes: Record<string, Handler | Reply> = {}): { pinia: Pinia; server: ReturnType<typeof createFakeFetch> } {
  const pinia = createPinia();
  setActivePinia(pinia);
  const server = createFakeFetch(routes);
  resetApiClient();
  configureApiClient({ fetch: server.fetch, csrfToken: () => useSessionStore(pinia).csrfToken });
  return { pinia, server };
}

/** Lets pending promises and Vue's render queue settle. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
