export * from './types.js';
export { createChangeLog, recordChanges, parseChangeCursor, InvalidChangeCursorError, CHANGE_CHANNEL, type ChangeLog, type ChangeLogOptions, type ChangePage, type ReadChangesOptions, type WaitChangesOptions } from './change-log.js';
