import { apiUrl, http, type Page } from './client.ts';
import type { ItemOf, ResponseOf } from './types.ts';

export type AdminSession = ResponseOf<'/api/admin/session', 'get'>;

/** An OIDC authentication provider that offers admin sign-in (public: shown on the sign-in page). */
export type OidcSignInProvider = ItemOf<ResponseOf<'/api/admin/oidc/providers', 'get'>>;

/** A binding of the signed-in admin to an account at an OIDC provider. */
export interface OidcIdentity {
  id: string;
  providerId: string;
  providerName: string;
  subject: string;
  email: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export const sessionApi = {
  current: () => http.get<AdminSession>('/session'),
  signIn: (email: string, password: string) => http.post<AdminSession>('/session', { email, password }),
  signOut: () => http.delete('/session'),
  checkSetup: (token: string) => http.post<{ status: SetupLinkStatus }>('/setup/check', { token }),
  setup: (token: string, email: string, password: string) => http.post<unknown>('/setup', { token, email, password }),
  oidcProviders: async () => (await http.get<Page<OidcSignInProvider>>('/oidc/providers')).items,
  /**
   * Where a "Sign in with …" link goes: the gateway answers 302 to the provider, and the provider's callback
   * comes back to /admin/ (signed in) or /admin/sign-in?error=<code>. A full page navigation, not a fetch.
   */
  oidcStartUrl: (providerId: string) => apiUrl(`/oidc/${encodeURIComponent(providerId)}/start`),
  oidcIdentities: async () => (await http.get<Page<OidcIdentity>>('/session/oidc-identities')).items,
  removeOidcIdentity: (id: string) => http.delete(`/session/oidc-identities/${encodeURIComponent(id)}`),
};

/** What a setup link is worth (POST /api/admin/setup/check). */
export type SetupLinkStatus = ResponseOf<'/api/admin/setup/check', 'post'>['status'];
