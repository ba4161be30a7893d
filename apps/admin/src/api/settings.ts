import { http } from './client.ts';

export interface Settings {
  usersDeletableByAdmins: boolean;
  lockOnRefusedDelete: boolean;
  /** A schema URN no declared extension owns: refuse it (400) or keep its values verbatim. */
  unknownExtensions: 'reject' | 'keep';
}

export const settingsApi = {
  get: () => http.get<Settings>('/settings'),
  update: (patch: Partial<Settings>) => http.patch<Settings>('/settings', patch),
};
