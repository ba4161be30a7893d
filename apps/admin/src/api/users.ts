import { http, type Page } from './client.ts';
import type { ItemOf, ResponseOf } from './types.ts';

export type DirectoryUser = ItemOf<ResponseOf<'/api/admin/users', 'get'>>;

export type UserDetail = ResponseOf<'/api/admin/users/{id}', 'get'>;

export interface UserQuery {
  q?: string;
  status?: 'active' | 'locked' | '';
  clientId?: string;
  limit: number;
  offset: number;
}

export const usersApi = {
  list: (query: UserQuery) => http.get<Page<DirectoryUser>>('/users', { ...query }),
  get: (id: string) => http.get<UserDetail>(`/users/${encodeURIComponent(id)}`),
};

/** The first (primary when marked) email of a user, whichever of the two shapes the API gives. */
export function primaryEmail(user: DirectoryUser): string {
  const emails = user.emails ?? [];
  const values = emails.map((e) => (typeof e === 'string' ? { value: e, primary: false } : e));
  return (values.find((e) => e.primary) ?? values[0])?.value ?? '';
}
