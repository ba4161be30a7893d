import { http, type Page } from './client.ts';

export type ApplicationScope = 'directory.read' | 'signin.resolve' | 'events.poll';
export type ApplicationAuthMethod = 'static_token' | 'oauth_client_credentials';

export interface Application {
  id: string;
  name: string;
  authMethod: ApplicationAuthMethod;
  scopes: ApplicationScope[];
  oauthClientId: string | null;
  activeCredentials: number;
  lastUsedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ApplicationInput {
  name: string;
  authMethod: ApplicationAuthMethod;
  scopes: ApplicationScope[];
}

/** The 201 of a create: the application plus its one-time credential. */
export interface CreatedApplication extends Application {
  token?: string;
  clientId?: string;
  clientSecret?: string;
}

const base = (id: string) => `/applications/${encodeURIComponent(id)}`;

export const applicationsApi = {
  list: () => http.get<Page<Application>>('/applications', { limit: 200 }),
  create: (input: ApplicationInput) => http.post<CreatedApplication>('/applications', input),
  update: (id: string, input: Partial<Pick<ApplicationInput, 'name' | 'scopes'>>) => http.patch<Application>(base(id), input),
  remove: (id: string) => http.delete(base(id)),
};
