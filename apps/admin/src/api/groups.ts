import { http, type Page } from './client.ts';
import type { ItemOf, ResponseOf } from './types.ts';

export type DirectoryGroup = ResponseOf<'/api/admin/groups/{id}', 'get'>;

export type GroupMember = ItemOf<ResponseOf<'/api/admin/groups/{id}/members', 'get'>>;

export interface PageQuery {
  q?: string;
  limit: number;
  offset: number;
}

export const groupsApi = {
  list: (query: PageQuery) => http.get<Page<DirectoryGroup>>('/groups', { ...query }),
  get: (id: string) => http.get<DirectoryGroup>(`/groups/${encodeURIComponent(id)}`),
  members: (id: string, query: PageQuery) => http.get<Page<GroupMember>>(`/groups/${encodeURIComponent(id)}/members`, { ...query }),
};
