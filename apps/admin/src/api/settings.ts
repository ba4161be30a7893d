import { http } from './client.ts';

export interface Settings {
  usersDeletableByAdmins: boolean;
  lockOnRefusedDelete: boolean;
}

export const settingsApi = {
  get: () => http.get<Settings>('/settings'),
  update: (patch: Partial<Settings>) => http.patch<Settings>('/settings', patch),
};
