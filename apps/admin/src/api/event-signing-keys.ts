import { http } from './client.ts';
import type { ItemOf, ResponseOf } from './types.ts';

// The shapes come from the admin API's OpenAPI document (types.ts).
export type SigningKey = ItemOf<ResponseOf<'/api/admin/event-signing-keys', 'get'>>;
export type RotatedSigningKey = ResponseOf<'/api/admin/event-signing-keys/rotate', 'post', 201>;

const base = '/event-signing-keys';
export const eventSigningKeysApi = {
  list: () => http.get<{ items: SigningKey[] }>(base),
  rotate: () => http.post<RotatedSigningKey>(`${base}/rotate`),
};
