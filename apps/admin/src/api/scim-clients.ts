import { http, type Page } from './client.ts';
import type { BodyOf, ItemOf, ResponseOf } from './types.ts';

export type AuthMethod = ScimClient['authMethod'];
export type DataScope = ScimClient['dataScope'];

export type ScimClient = ResponseOf<'/api/admin/scim-clients/{id}', 'get'>;

export type ScimClientInput = BodyOf<'/api/admin/scim-clients', 'post'>;

/** The 201 of a create: the client plus its one-time secret (static token, or OAuth client id + secret). */
export type CreatedScimClient = ResponseOf<'/api/admin/scim-clients', 'post', 201>;

export type Credential = ItemOf<ResponseOf<'/api/admin/scim-clients/{id}/tokens', 'get'>>;

export type CreatedToken = ResponseOf<'/api/admin/scim-clients/{id}/tokens', 'post', 201>;

export type CreatedSecret = ResponseOf<'/api/admin/scim-clients/{id}/secrets', 'post', 201>;

const base = (id: string) => `/scim-clients/${encodeURIComponent(id)}`;

export const scimClientsApi = {
  list: () => http.get<Page<ScimClient>>('/scim-clients', { limit: 200 }),
  get: (id: string) => http.get<ScimClient>(base(id)),
  create: (input: ScimClientInput) => http.post<CreatedScimClient>('/scim-clients', input),
  update: (id: string, input: Partial<Omit<ScimClientInput, 'authMethod'>>) => http.patch<ScimClient>(base(id), input),
  remove: (id: string) => http.delete(base(id)),
  listTokens: (id: string) => http.get<Page<Credential>>(`${base(id)}/tokens`),
  createToken: (id: string, lifetimeDays: number) => http.post<CreatedToken>(`${base(id)}/tokens`, { lifetimeDays }),
  revokeToken: (id: string, tokenId: string) => http.delete(`${base(id)}/tokens/${encodeURIComponent(tokenId)}`),
  listSecrets: (id: string) => http.get<Page<Credential>>(`${base(id)}/secrets`),
  createSecret: (id: string, lifetimeDays: number) => http.post<CreatedSecret>(`${base(id)}/secrets`, { lifetimeDays }),
  revokeSecret: (id: string, secretId: string) => http.delete(`${base(id)}/secrets/${encodeURIComponent(secretId)}`),
};
