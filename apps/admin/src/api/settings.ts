import { http } from './client.ts';

export interface Settings {
  usersDeletableByAdmins: boolean;
  lockOnRefusedDelete: boolean;
  /** Audit events older than this many days are deleted (1..3650, default 90). */
  auditRetentionDays: number;
  /** A schema URN no declared extension owns: refuse it (400) or keep its values verbatim. */
  unknownExtensions: 'reject' | 'keep';
}

export const settingsApi = {
  get: () => http.get<Settings>('/settings'),
  update: (patch: Partial<Settings>) => http.patch<Settings>('/settings', patch),
};
