import { http, type Page } from './client.ts';

export type ProviderKind = 'oidc' | 'saml';

export interface AuthProvider {
  id: string;
  name: string;
  kind: ProviderKind;
  issuer?: string | null;
  clientId?: string | null;
  hasClientSecret?: boolean;
  metadataUrl?: string | null;
  entityId?: string | null;
  ssoUrl?: string | null;
  certificateExpiresAt?: string | null;
  /** OIDC: discovered endpoints; SAML: entity id, sign-in URL, signing certificate (public). */
  metadata?: unknown;
  /** Number of SCIM clients using this provider (delete is refused while it is above zero). */
  scimClientCount?: number;
  /** Which claim of a sign-in matches which user value. */
  identityMapping?: IdentityMapping;
  /** The newest rebuild of the provider's links and its progress. */
  linkRebuild?: LinkRebuild | null;
  createdAt?: string;
  updatedAt?: string;
}

export interface OidcProviderInput {
  name: string;
  kind: 'oidc';
  issuer: string;
  clientId: string;
  clientSecret?: string;
}

export interface SamlProviderInput {
  name: string;
  kind: 'saml';
  metadataUrl?: string;
  metadataXml?: string;
}

export type ProviderInput = OidcProviderInput | SamlProviderInput;

/** What OIDC discovery found at an issuer (RFC 8414 / OpenID Connect Discovery 1.0 names). */
export interface DiscoveryResult {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  jwks_uri?: string;
  userinfo_endpoint?: string;
  [key: string]: unknown;
}

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
