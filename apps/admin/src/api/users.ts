import { http, type Page } from './client.ts';
import type { ActivityEvent } from './activity.ts';

export interface DirectoryUser {
  id: string;
  userName: string;
  displayName?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  externalId?: string | null;
  active: boolean;
  lockReason?: string | null;
  emails?: string[] | Array<{ value: string; primary?: boolean; type?: string }>;
  createdByClientId?: string | null;
  createdByClientName?: string | null;
  createdAt?: string;
  updatedAt?: string;
}

export interface UserDetail extends DirectoryUser {
  attributes?: Record<string, unknown>;
  /** Extension values by URN; `declared` false: kept under unknownExtensions "keep", no declared extension owns it. */
  extensions?: Array<{ urn: string; declared: boolean; values: Record<string, unknown> }>;
  groups?: Array<{ id: string; displayName: string }>;
  providerLinks?: Array<{ providerId: string; providerName?: string; externalId: string }>;
  recentActivity?: ActivityEvent[];
}

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
