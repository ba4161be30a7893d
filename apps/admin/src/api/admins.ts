import { http, type Page } from './client.ts';

export interface Admin {
  id: string;
  email: string;
  createdAt?: string;
  lastSignInAt?: string | null;
}

export const adminsApi = {
  list: () => http.get<Page<Admin>>('/admins', { limit: 200 }),
  create: (email: string, password: string) => http.post<Admin>('/admins', { email, password }),
  remove: (id: string) => http.delete(`/admins/${encodeURIComponent(id)}`),
};
