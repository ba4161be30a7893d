import { apiUrl, http, type Page, type Query } from './client.ts';

export interface ActivityEvent {
  id: string | number;
  at: string;
  /** Who made the request: a SCIM client (null clientId: it did not authenticate), an admin, or Roster itself. */
  actorType?: 'scim_client' | 'admin' | 'system' | 'application';
  clientId?: string | null;
  clientName?: string | null;
  adminEmail?: string | null;
  operation: string;
  resourceType?: string | null;
  resourceId?: string | null;
  status?: number | null;
  durationMs?: number | null;
  requestId?: string | null;
  detail?: unknown;
}

export interface ActivityQuery {
  clientId?: string;
  /** 'success' (2xx/3xx) or 'error' (4xx/5xx). */
  status?: 'success' | 'error' | '';
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

/** One point of the chart: requests and errors of one client within one bucket. */
export interface ActivityStatPoint {
  bucketStart: string;
  clientId: string | null;
  clientName?: string | null;
  requests: number;
  errors: number;
}

export interface ActivityStats {
  bucket: 'hour' | 'day';
  /** The range the stats cover (the chart spans all of it, empty buckets included). */
  from?: string;
  to?: string;
  items: ActivityStatPoint[];
}

function toQuery(query: Partial<ActivityQuery>): Query {
  return { ...query };
}

export const activityApi = {
  list: (query: ActivityQuery) => http.get<Page<ActivityEvent>>('/activity', toQuery(query)),
  stats: (query: { bucket: 'hour' | 'day'; from?: string; to?: string; clientId?: string }) =>
    http.get<ActivityStats>('/activity/stats', { ...query }),
  csvUrl: (query: Partial<ActivityQuery>) => apiUrl('/activity.csv', toQuery({ ...query, limit: undefined, offset: undefined })),
};
