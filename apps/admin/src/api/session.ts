import { http } from './client.ts';

export interface AdminSession {
  id: string;
  email: string;
  csrfToken: string;
}

export const sessionApi = {
  current: () => http.get<AdminSession>('/session'),
  signIn: (email: string, password: string) => http.post<AdminSession>('/session', { email, password }),
  signOut: () => http.delete('/session'),
  setup: (token: string, email: string, password: string) => http.post<unknown>('/setup', { token, email, password }),
};
