export * from './types.js';
export { buildSetClaims, jtiOf, provEventOf, subjectOf, type BuiltSet, type SetClaimsInput } from './sets.js';
export { createEventSigner, RETIRED_KEY_OVERLAP_MS, type EventSigner, type EventSignerOptions, type SigningKeyInfo } from './signing-keys.js';
export { createSigningKeyAdmin, type SigningKeyAdmin, type SigningKeyView } from './signing-key-admin.js';
export { reencryptEventSecrets, type SecretsSweepResult } from './secrets-at-rest.js';
export { createEventStreamService, openAuthorizationHeader, normalizeEvents, validateEndpointUrl, POLL_TOKEN_PREFIX, LAG_COUNT_LIMIT, type EventStreamService, type CreateStreamInput, type UpdateStreamInput } from './streams.js';
export { createDeliveryWorker, retryDelayMs, sendVerificationSet, type DeliveryWorker, type DeliveryWorkerOptions, type VerificationResult } from './delivery.js';
export { pushSet, type PushResult } from './push.js';
export { createPollService, parsePollRequest, PollError, MAX_POLL_EVENTS, LONG_POLL_MS, type PollRequest, type PollResponse, type PollService } from './poll.js';
