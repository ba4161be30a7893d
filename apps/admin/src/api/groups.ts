import { http, type Page } from './client.ts';

export interface DirectoryGroup {
  id: string;
  displayName: string;
  externalId?: string | null;
  memberCount?: number;
  createdByClientId?: string | null;
  createdByClientName?: string | null;
  createdAt?: string;
  updatedAt?: string;
  /** Extension values by URN (group detail only); `declared` false: kept, no declared extension owns it. */
  extensions?: Array<{ urn: string; declared: boolean; values: Record<string, unknown> }>;
}

export interface GroupMember {
  id: string;
  userName: string;
  displayName?: string | null;
  active?: boolean;
}

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
