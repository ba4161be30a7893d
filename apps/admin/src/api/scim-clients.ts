import { http, type Page } from './client.ts';

export type AuthMethod = 'static_token' | 'oauth_client_credentials' | 'jwt';
export type DataScope = 'all' | 'own';

export interface ScimClient {
  id: string;
  name: string;
  authProviderId: string;
  authProviderName?: string | null;
  authMethod: AuthMethod;
  jwtSubject?: string | null;
  dataScope: DataScope;
  /** OAuth client id (not secret) of an OAuth client-credentials client. */
  oauthClientId?: string | null;
  usersProvisioned?: number;
  lastActivityAt?: string | null;
  credentials?: {
    /** Active static tokens or client secrets. */
    active: number;
    /** Earliest expiry among the active ones; null when none. */
    soonestExpiry: string | null;
    /** An active credential expires within 30 days. */
    expiringSoon: boolean;
  };
  createdAt: string;
  updatedAt?: string;
}

export interface ScimClientInput {
  name: string;
  authProviderId: string;
  authMethod: AuthMethod;
  jwtSubject?: string;
  dataScope: DataScope;
}

/** The 201 of a create: the client plus its one-time secret (static token, or OAuth client id + secret). */
export interface CreatedScimClient extends ScimClient {
  token?: string;
  clientId?: string;
  clientSecret?: string;
}

export interface Credential {
  id: string;
  kind?: 'static_token' | 'client_secret';
  status?: 'active' | 'expired' | 'revoked';
  hint?: string | null;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string | null;
  lastUsedAt?: string | null;
}

export interface CreatedToken extends Credential {
  token: string;
}

export interface CreatedSecret extends Credential {
  clientId?: string;
  clientSecret: string;
}

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
