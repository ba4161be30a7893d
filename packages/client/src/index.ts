// @roster/client: what an application needs from a Roster server over HTTP (docs/applications.md).
export { createRosterClient, type Credentials, type RosterClient, type RosterClientOptions } from './client.js';
export { RosterApiError } from './errors.js';
export { startEventPoller, type Poller, type PollerOptions } from './poller.js';
export { createSetVerifier, decodeSet, type SecurityEvent, type SetVerifierOptions } from './sets.js';
export type * from './types.js';
