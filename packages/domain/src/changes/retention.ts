import type { Settings } from '../settings.js';
import type { ChangeLog } from './change-log.js';

/**
 * The pruning step of the change log's retention: deletes the changes older than the `changeRetentionDays`
 * setting (default 90) and answers how many went. Every gateway process runs it (hourly): it is safe when
 * several do at once, since each batch is one DELETE of rows still there (a row another process deleted
 * first is simply not counted), so no coordination is needed and nothing is deleted twice.
 */
export async function pruneChangeLog(changeLog: Pick<ChangeLog, 'prune'>, settings: { get(): Promise<Pick<Settings, 'changeRetentionDays'>> }): Promise<number> {
  const { changeRetentionDays } = await settings.get();
  return changeLog.prune(changeRetentionDays);
}
