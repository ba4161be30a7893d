import { http, type Page } from './client.ts';

export type StreamDelivery = 'push' | 'poll';
export type StreamFormat = 'notice' | 'full';
export type StreamState = 'active' | 'paused' | 'failing';

export const PROV_EVENTS = ['create', 'patch', 'put', 'delete', 'activate', 'deactivate'] as const;
export type ProvEventName = (typeof PROV_EVENTS)[number];
export const eventUri = (name: ProvEventName): string => `urn:ietf:params:scim:event:prov:${name}`;

export interface EventStream {
  id: string;
  name: string;
  delivery: StreamDelivery;
  endpointUrl: string | null;
  audience: string;
  hasAuthorizationHeader: boolean;
  events: string[];
  format: StreamFormat;
  clientIds: string[] | null;
  state: StreamState;
  pollTokenHint: string | null;
  lastDeliveryAt: string | null;
  lastDeliveryStatus: string | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  failingSince: string | null;
  deliveredCount: number;
  failedCount: number;
  lag: { events: number; seconds: number };
  receiver: { issuer: string; jwksUri: string; pollUrl: string | null };
  createdAt: string;
  updatedAt: string;
}

export interface CreatedEventStream extends EventStream {
  token?: string;
}

export interface EventStreamInput {
  name: string;
  delivery: StreamDelivery;
  endpointUrl?: string;
  audience: string;
  authorizationHeader?: string;
  events?: string[];
  format: StreamFormat;
  clientIds?: string[];
  startAt?: 'now' | 'oldest';
}

export type EventStreamChanges = Partial<Omit<EventStreamInput, 'delivery' | 'startAt' | 'authorizationHeader' | 'clientIds'>> & {
  authorizationHeader?: string | null;
  clientIds?: string[] | null;
};

export interface EventDelivery {
  id: string;
  at: string;
  jti: string;
  eventUri: string;
  resource: string | null;
  outcome: 'delivered' | 'failed' | 'acknowledged' | 'set_error' | 'handed_out';
  httpStatus: number | null;
  err: string | null;
  description: string | null;
  durationMs: number | null;
  attempt: number;
}

export interface TestResult {
  jti: string;
  ok: boolean;
  httpStatus: number | null;
  err: string | null;
  description: string | null;
  durationMs: number | null;
}

const base = '/event-streams';
export const eventStreamsApi = {
  list: (query: { q?: string; limit?: number; offset?: number } = {}) => http.get<Page<EventStream>>(base, query),
  get: (id: string) => http.get<EventStream>(`${base}/${id}`),
  create: (input: EventStreamInput) => http.post<CreatedEventStream>(base, input),
  update: (id: string, changes: EventStreamChanges) => http.patch<EventStream>(`${base}/${id}`, changes),
  remove: (id: string) => http.delete(`${base}/${id}`),
  pause: (id: string) => http.post<EventStream>(`${base}/${id}/pause`),
  resume: (id: string) => http.post<EventStream>(`${base}/${id}/resume`),
  test: (id: string) => http.post<TestResult>(`${base}/${id}/test`),
  deliveries: (id: string, query: { limit?: number; offset?: number } = {}) => http.get<Page<EventDelivery>>(`${base}/${id}/deliveries`, query),
};
