import { http, type Page } from './client.ts';
import type { BodyOf, ItemOf, ResponseOf } from './types.ts';

export type StreamDelivery = 'push' | 'poll';
export type StreamFormat = 'notice' | 'full';
export type StreamState = 'active' | 'paused' | 'failing';

export const PROV_EVENTS = ['create', 'patch', 'put', 'delete', 'activate', 'deactivate'] as const;
export type ProvEventName = (typeof PROV_EVENTS)[number];
export const eventUri = (name: ProvEventName): string => `urn:ietf:params:scim:event:prov:${name}`;

// The shapes come from the admin API's OpenAPI document (types.ts): a route change the app does not follow
// fails the typecheck.
export type EventStream = ResponseOf<'/api/admin/event-streams/{id}', 'get'>;
export type CreatedEventStream = ResponseOf<'/api/admin/event-streams', 'post', 201>;
export type EventStreamInput = BodyOf<'/api/admin/event-streams', 'post'>;
export type EventStreamChanges = BodyOf<'/api/admin/event-streams/{id}', 'patch'>;
export type EventDelivery = ItemOf<ResponseOf<'/api/admin/event-streams/{id}/deliveries', 'get'>>;
export type TestResult = ResponseOf<'/api/admin/event-streams/{id}/test', 'post'>;

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
