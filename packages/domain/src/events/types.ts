import type { Knex } from 'knex';

// Provisioning events: RFC 9967 (SCIM Profile for Security Event Tokens) events in RFC 8417 SETs, delivered by
// push (RFC 8935) or poll (RFC 8936). docs/events.md is the receiver's guide.

/** RFC 9967 §2.4 provisioning events, without the `:notice` / `:full` qualifier the stream's format adds. */
export const PROV_EVENT = {
  create: 'urn:ietf:params:scim:event:prov:create',
  patch: 'urn:ietf:params:scim:event:prov:patch',
  put: 'urn:ietf:params:scim:event:prov:put',
  delete: 'urn:ietf:params:scim:event:prov:delete',
  activate: 'urn:ietf:params:scim:event:prov:activate',
  deactivate: 'urn:ietf:params:scim:event:prov:deactivate',
} as const;

export type ProvEvent = (typeof PROV_EVENT)[keyof typeof PROV_EVENT];

export const PROV_EVENTS: readonly ProvEvent[] = Object.values(PROV_EVENT);

/** Events that carry `data` or `attributes` and so end with `:notice` or `:full` (RFC 9967 §2.4). */
export const QUALIFIED_EVENTS: ReadonlySet<ProvEvent> = new Set([PROV_EVENT.create, PROV_EVENT.patch, PROV_EVENT.put]);

/** Every event URI Roster generates, as advertised in ServiceProviderConfig `securityEvents.eventUris` (RFC 9967 §4). */
export const EVENT_URIS: readonly string[] = PROV_EVENTS.flatMap((uri) => (QUALIFIED_EVENTS.has(uri) ? [`${uri}:notice`, `${uri}:full`] : [uri]));

/**
 * The verification event a stream's test button sends. RFC 9967 defines none; this is the OpenID Shared Signals
 * Framework's verification event (SSF 1.0 §8.1.4.1), which SET receivers commonly recognise and may ignore.
 */
export const VERIFICATION_EVENT = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

/** The SET media type (RFC 8417 §2.3) used for the JWS `typ` header and the push Content-Type (RFC 8935 §2). */
export const SET_MEDIA_TYPE = 'application/secevent+jwt';
export const SET_TYP = 'secevent+jwt';

export type StreamDelivery = 'push' | 'poll';
export type StreamFormat = 'notice' | 'full';
export type StreamState = 'active' | 'paused' | 'failing';

export interface EventStream {
  id: string;
  name: string;
  delivery: StreamDelivery;
  endpointUrl: string | null;
  audience: string;
  /** Whether an Authorization header value is configured for push (the value itself is never returned). */
  hasAuthorizationHeader: boolean;
  /** The base event URIs (PROV_EVENT values) the stream delivers. */
  events: ProvEvent[];
  format: StreamFormat;
  /** The SCIM clients whose resources the stream covers; null: every resource. */
  clientIds: string[] | null;
  state: StreamState;
  pollTokenHint: string | null;
  lastDeliveryAt: Date | null;
  lastDeliveryStatus: string | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  failingSince: Date | null;
  deliveredCount: number;
  failedCount: number;
  createdAt: Date;
  updatedAt: Date;
}

/** How far a stream is behind the change log. */
export interface StreamLag {
  /** Changes after the stream's cursor (counted up to LAG_COUNT_LIMIT). */
  events: number;
  /** Age of the oldest change not yet delivered; 0 when caught up. */
  seconds: number;
}

export interface EventDelivery {
  id: string;
  at: Date;
  jti: string;
  eventUri: string;
  resource: string | null;
  /** delivered (202), failed (push error), acknowledged / set_error (poll), test. */
  outcome: 'delivered' | 'failed' | 'acknowledged' | 'set_error' | 'handed_out';
  httpStatus: number | null;
  /** The RFC 8935 §2.3 / RFC 8936 §2.4.4 error code (`invalid_key`, ...) or a transport word (`timeout`, `connection`). */
  err: string | null;
  description: string | null;
  durationMs: number | null;
  attempt: number;
}

/** Reads a resource as SCIM serves it, for `format: "full"`; undefined when it no longer exists. */
export type ResourceLoader = (resourceType: 'User' | 'Group', id: string, db?: Knex) => Promise<Record<string, unknown> | undefined>;
