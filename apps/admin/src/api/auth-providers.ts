import { http, type Page } from './client.ts';

export type ProviderKind = 'oidc' | 'saml';

export interface AuthProvider {
  id: string;
  name: string;
  kind: ProviderKind;
  issuer?: string | null;
  clientId?: string | null;
  hasClientSecret?: boolean;
  /** OIDC: admins may sign in through this provider (default false). */
  adminSignIn?: boolean;
  metadataUrl?: string | null;
  entityId?: string | null;
  ssoUrl?: string | null;
  certificateExpiresAt?: string | null;
  /** OIDC: discovered endpoints; SAML: entity id, sign-in URL, signing certificate (public). */
  metadata?: unknown;
  /** Number of SCIM clients using this provider (delete is refused while it is above zero). */
  scimClientCount?: number;
  createdAt?: string;
  updatedAt?: string;
}

export interface OidcProviderInput {
  name: string;
  kind: 'oidc';
  issuer: string;
  clientId: string;
  clientSecret?: string;
  adminSignIn?: boolean;
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

export const authProvidersApi = {
  list: () => http.get<Page<AuthProvider>>('/auth-providers', { limit: 200 }),
  get: (id: string) => http.get<AuthProvider>(`/auth-providers/${encodeURIComponent(id)}`),
  create: (input: ProviderInput) => http.post<AuthProvider>('/auth-providers', input),
  update: (id: string, input: Partial<ProviderInput>) => http.patch<AuthProvider>(`/auth-providers/${encodeURIComponent(id)}`, input),
  remove: (id: string) => http.delete(`/auth-providers/${encodeURIComponent(id)}`),
  testDiscovery: (issuer: string) => http.post<DiscoveryResult>('/auth-providers/test-discovery', { issuer }),
};
