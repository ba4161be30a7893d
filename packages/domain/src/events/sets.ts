import { hash } from 'node:crypto';
import type { DirectoryChange } from '../changes/types.js';
import { PROV_EVENT, QUALIFIED_EVENTS, type ProvEvent, type ResourceLoader, type StreamFormat } from './types.js';

// How a directory change becomes one RFC 9967 event in one RFC 8417 SET. One SET per change: the change log
// already splits large membership changes (MEMBERS_PER_CHANGE), so no SET grows without bound.

/** The RFC 9967 event of a change kind; null for kinds that no SCIM client can see (provider links). */
export function provEventOf(change: Pick<DirectoryChange, 'kind' | 'detail'>): ProvEvent | null {
  switch (change.kind) {
    case 'user.created':
    case 'group.created':
      return PROV_EVENT.create;
    case 'user.updated':
    case 'group.updated':
      // The change log records whether the SCIM request was a PUT (`detail.operation: "put"`); anything else
      // (PATCH, admin edits) is reported as patch, the event RFC 9967 §5 recommends for partial changes.
      return change.detail.operation === 'put' ? PROV_EVENT.put : PROV_EVENT.patch;
    case 'group.members.added':
    case 'group.members.removed':
      // A membership change is a PATCH of the group's `members` (RFC 9967 §2.4.2, Figure 6).
      return PROV_EVENT.patch;
    case 'user.deactivated':
    case 'user.locked':
      // A locked user cannot sign in, like a deactivated one: the receiver should end its sessions (§2.4.6).
      return PROV_EVENT.deactivate;
    case 'user.reactivated':
    case 'user.unlocked':
      return PROV_EVENT.activate;
    case 'user.deleted':
    case 'group.deleted':
      return PROV_EVENT.delete;
    default:
      return null;
  }
}

/** `jti` of a stream's SET for a change: the same on every retry and redelivery (RFC 8417 §2.2), unique per stream. */
export function jtiOf(streamId: string, change: Pick<DirectoryChange, 'cursor'>): string {
  return hash('sha256', `${streamId}:${change.cursor}`, 'hex').slice(0, 32);
}

/** The RFC 9967 §2.1 subject: the resource's relative URI and, when it has one, its externalId. */
export function subjectOf(change: Pick<DirectoryChange, 'resourceType' | 'resourceId' | 'externalId'>): Record<string, string> {
  const subject: Record<string, string> = { format: 'scim', uri: `/${change.resourceType === 'User' ? 'Users' : 'Groups'}/${change.resourceId}` };
  if (change.externalId) subject.externalId = change.externalId;
  return subject;
}

export interface SetClaimsInput {
  change: DirectoryChange;
  streamId: string;
  issuer: string;
  audience: string;
  format: StreamFormat;
  issuedAt: Date;
  loadResource?: ResourceLoader;
}

export interface BuiltSet {
  jti: string;
  /** The event URI as sent (with `:notice` / `:full` where RFC 9967 qualifies it). */
  eventUri: string;
  /** The subject's relative URI, for the delivery log. */
  resource: string;
  claims: Record<string, unknown>;
}

function attributeValue(resource: Record<string, unknown>, path: string): unknown {
  if (path.startsWith('urn:')) {
    const at = path.lastIndexOf(':');
    const extension = resource[path.slice(0, at)];
    return extension && typeof extension === 'object' ? (extension as Record<string, unknown>)[path.slice(at + 1)] : undefined;
  }
  return resource[path];
}

const NOT_ATTRIBUTES = new Set(['schemas', 'meta']);

/**
 * The SET claims (RFC 8417 §2.2) for one change, or null when the stream does not carry this kind of change.
 * `full` reads the resource now, at delivery: a receiver gets the state as of delivery, which is what it would
 * read with a SCIM GET (docs/events.md, "State at delivery"). A resource deleted since is sent as `notice`.
 */
export async function buildSetClaims(input: SetClaimsInput, wanted?: ReadonlySet<ProvEvent>): Promise<BuiltSet | null> {
  const { change } = input;
  const event = provEventOf(change);
  if (!event || (wanted && !wanted.has(event))) return null;
  const subject = subjectOf(change);
  let eventUri: string = event;
  let payload: Record<string, unknown> = {};
  if (QUALIFIED_EVENTS.has(event)) {
    const membership = change.kind === 'group.members.added' || change.kind === 'group.members.removed';
    const resource = input.format === 'full' || (!membership && !change.detail.attributes) ? await input.loadResource?.(change.resourceType, change.resourceId) : undefined;
    const attributes = membership
      ? ['members']
      : (change.detail.attributes ?? (resource ? Object.keys(resource).filter((name) => !NOT_ATTRIBUTES.has(name)) : ['id']));
    const version = (resource?.meta as { version?: string } | undefined)?.version;
    // A membership change carries its own PATCH message; other full events need the resource.
    if (input.format === 'full' && (resource || membership)) {
      eventUri = `${event}:full`;
      let data: Record<string, unknown>;
      if (event === PROV_EVENT.patch) {
        // RFC 9967 §2.4.2: `data` is the PATCH message (RFC 7644 §3.5.2). Membership changes carry the members
        // added or removed; attribute changes carry each changed attribute's value after the change.
        const operations = membership
          ? [
              {
                op: change.kind === 'group.members.added' ? 'add' : 'remove',
                path: 'members',
                value: (change.detail.members ?? []).map((id) => ({ value: id, $ref: `/Users/${id}` })),
              },
            ]
          : attributes.map((path) => {
              const value = attributeValue(resource!, path);
              return value === undefined ? { op: 'remove', path } : { op: 'replace', path, value };
            });
        data = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations };
      } else {
        data = resource!;
      }
      payload = { data };
    } else {
      eventUri = `${event}:notice`;
      payload = { attributes };
    }
    if (version) payload.version = version;
  }
  const jti = jtiOf(input.streamId, change);
  const claims: Record<string, unknown> = {
    jti,
    iss: input.issuer,
    iat: Math.floor(input.issuedAt.getTime() / 1000),
    aud: input.audience,
    // RFC 9967 §2.2: `txn` is required and names the transaction; the request id where the change came from a
    // request, the change log's transaction id otherwise. Several SETs of one request share it.
    txn: change.requestId ?? `tx-${change.cursor.split('.')[0]}`,
    sub_id: subject,
    events: { [eventUri]: payload },
  };
  return { jti, eventUri, resource: subject.uri!, claims };
}
