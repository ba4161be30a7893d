export * from './types.js';
export { createChangeLog, createChangeNotifier, recordChanges, auditEventCte, auditEventParameter, notifyWhenAny, CHANGE_RECORD_COLUMNS, parseChangeCursor, InvalidChangeCursorError, CHANGE_CHANNEL, type ChangeLog, type ChangeLogOptions, type ChangePage, type ReadChangesOptions, type WaitChangesOptions } from './change-log.js';
export { pruneChangeLog } from './retention.js';
