import { http } from './client.ts';
import type { ResponseOf } from './types.ts';

export type Settings = ResponseOf<'/api/admin/settings', 'get'>;

export const settingsApi = {
  get: () => http.get<Settings>('/settings'),
  update: (patch: Partial<Settings>) => http.patch<Settings>('/settings', patch),
};
