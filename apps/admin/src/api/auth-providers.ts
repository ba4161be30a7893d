import { http, type Page } from './client.ts';
import type { BodyOf, ResponseOf } from './types.ts';

export type AuthProvider = ResponseOf<'/api/admin/auth-providers/{id}', 'get'>;
export type ProviderKind = AuthProvider['kind'];

/** An OIDC provider `{name, kind: "oidc", issuer, clientId, clientSecret?}` or a SAML one (from its metadata). */
export type ProviderInput = BodyOf<'/api/admin/auth-providers', 'post'>;
export type OidcProviderInput = Extract<ProviderInput, { kind: 'oidc' }>;
export type SamlProviderInput = Extract<ProviderInput, { kind: 'saml' }>;

/**
 * What OIDC discovery found at an issuer (RFC 8414 / OpenID Connect Discovery 1.0 names). The document
 * declares it as any JSON object (the provider decides its fields), so its known fields are named here.
 */
export type DiscoveryResult = ResponseOf<'/api/admin/auth-providers/test-discovery', 'post'> & {
  issuer?: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  jwks_uri?: string;
  userinfo_endpoint?: string;
  [key: string]: unknown;
};

export type IdentityAttribute = 'externalId' | 'userName' | 'email' | 'employeeNumber';
export interface IdentityMapping {
  claim: string;
  attribute: IdentityAttribute;
}
export interface IdentityMappingPreset {
  name: string;
  label: string;
  kind: ProviderKind;
  mapping: IdentityMapping;
  why: string;
}
export interface LinkRebuild {
  status: 'running' | 'done';
  reason: 'mapping_changed' | 'client_moved';
  processed: number;
  total: number;
  createdAt: string;
  finishedAt: string | null;
}

export const identityMappingApi = {
  presets: () => http.get<{ items: IdentityMappingPreset[] }>('/identity-mapping-presets'),
  update: (providerId: string, identityMapping: IdentityMapping) => http.patch<AuthProvider>(`/auth-providers/${encodeURIComponent(providerId)}`, { identityMapping }),
};

export const authProvidersApi = {
  list: () => http.get<Page<AuthProvider>>('/auth-providers', { limit: 200 }),
  get: (id: string) => http.get<AuthProvider>(`/auth-providers/${encodeURIComponent(id)}`),
  create: (input: ProviderInput) => http.post<AuthProvider>('/auth-providers', input),
  update: (id: string, input: Partial<ProviderInput>) => http.patch<AuthProvider>(`/auth-providers/${encodeURIComponent(id)}`, input),
  remove: (id: string) => http.delete(`/auth-providers/${encodeURIComponent(id)}`),
  testDiscovery: (issuer: string) => http.post<DiscoveryResult>('/auth-providers/test-discovery', { issuer }),
};
