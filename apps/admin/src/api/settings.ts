import { http } from './client.ts';

export interface Settings {
  usersDeletableByAdmins: boolean;
  lockOnRefusedDelete: boolean;
  /** Days the directory change log keeps a change (default 90). */
  changeRetentionDays: number;
}

export const settingsApi = {
  get: () => http.get<Settings>('/settings'),
  update: (patch: Partial<Settings>) => http.patch<Settings>('/settings', patch),
};
