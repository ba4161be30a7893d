import { apiUrl, http, type Page, type Query } from './client.ts';
import type { ItemOf, ResponseOf } from './types.ts';

/** One row of the log (GET /api/admin/activity). */
export type ActivityEvent = ItemOf<ResponseOf<'/api/admin/activity', 'get'>>;

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
export type ActivityStatPoint = ActivityStats['items'][number];

export type StatsBucket = ActivityStats['bucket'];

/** The chart's points over the range they cover (the chart spans all of it, empty buckets included). */
export type ActivityStats = ResponseOf<'/api/admin/activity/stats', 'get'>;

/** Successful reads of one client to one kind of endpoint within one minute (counted, not logged one by one). */
export type ReadCount = ItemOf<ResponseOf<'/api/admin/activity/reads', 'get'>>;

function toQuery(query: Partial<ActivityQuery>): Query {
  return { ...query };
}

export const activityApi = {
  list: (query: ActivityQuery) => http.get<Page<ActivityEvent>>('/activity', toQuery(query)),
  stats: (query: { bucket: StatsBucket; from?: string; to?: string; clientId?: string }) =>
    http.get<ActivityStats>('/activity/stats', { ...query }),
  reads: (query: { clientId?: string; from?: string; to?: string; limit: number; offset: number }) => http.get<Page<ReadCount>>('/activity/reads', { ...query }),
  csvUrl: (query: Partial<ActivityQuery>) => apiUrl('/activity.csv', toQuery({ ...query, limit: undefined, offset: undefined })),
};
