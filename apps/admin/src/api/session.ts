import { apiUrl, http, type Page } from './client.ts';

export interface AdminSession {
  id: string;
  email: string;
  csrfToken: string;
}

/** An OIDC authentication provider that offers admin sign-in (public: shown on the sign-in page). */
export interface OidcSignInProvider {
  id: string;
  name: string;
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
};

/** What a setup link is worth (POST /api/admin/setup/check). */
export type SetupLinkStatus = 'valid' | 'used' | 'expired' | 'unknown' | 'setup_complete';
