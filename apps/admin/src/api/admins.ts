import { http, type Page } from './client.ts';
import type { ItemOf, ResponseOf } from './types.ts';

export type Admin = ItemOf<ResponseOf<'/api/admin/admins', 'get'>>;

export const adminsApi = {
  list: () => http.get<Page<Admin>>('/admins', { limit: 200 }),
  create: (email: string, password: string) => http.post<Admin>('/admins', { email, password }),
  remove: (id: string) => http.delete(`/admins/${encodeURIComponent(id)}`),
};
