import { http, type Page } from './client.ts';
import type { BodyOf, ResponseOf } from './types.ts';

export type ApplicationScope = 'directory.read' | 'signin.resolve' | 'events.poll';
export type ApplicationAuthMethod = 'static_token' | 'oauth_client_credentials';

// The shapes come from the admin API's OpenAPI document (types.ts).
export type Application = ResponseOf<'/api/admin/applications/{id}', 'get'>;
export type ApplicationInput = BodyOf<'/api/admin/applications', 'post'>;
/** The 201 of a create: the application plus its one-time credential. */
export type CreatedApplication = ResponseOf<'/api/admin/applications', 'post', 201>;

const base = (id: string) => `/applications/${encodeURIComponent(id)}`;

export const applicationsApi = {
  list: () => http.get<Page<Application>>('/applications', { limit: 200 }),
  create: (input: ApplicationInput) => http.post<CreatedApplication>('/applications', input),
  update: (id: string, input: Partial<Pick<ApplicationInput, 'name' | 'scopes'>>) => http.patch<Application>(base(id), input),
  remove: (id: string) => http.delete(base(id)),
};
