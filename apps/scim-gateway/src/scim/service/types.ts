import type { Knex } from 'knex';
import type { AuditEventInput, ChangeContext, SettingsService } from '@roster/domain';

/** The SCIM client making a request, as authentication established it. */
export interface ScimCaller {
  clientId: string | null;
  authProviderId: string | null;
  /** `own`: the client sees and changes only the resources it provisioned. */
  dataScope: 'all' | 'own';
  /** The request's id: every change record and the audit event of the request carry it. */
  requestId?: string | null;
  /**
   * The request's audit event, written by the write itself so that it commits with it (DESIGN.md: nothing that
   * happened exists only in memory). Absent for reads, and inside /Bulk, which writes one event for the request.
   */
  audit?: RequestAudit;
}

export interface RequestAudit {
  operation: string;
  resourceType: string;
  resourceId?: string | null;
  method: string;
  path: string;
  /** performance.now() when the request arrived: the event's duration is measured up to the write. */
  startedAt: number;
  /** The status the route answers a success with, when it is not the service's (a group PATCH's 204). */
  status?: number;
}

/** Who the change log names for a SCIM write: the client, with the request's id. */
export function changeContextOf(caller: ScimCaller): ChangeContext {
  return { actor: { type: 'scim_client', id: caller.clientId }, requestId: caller.requestId ?? null };
}

/** The request's audit event as the write records it, or null when the caller carries none. */
export function auditEventOf(caller: ScimCaller, status: number, resourceId?: string | null, error?: string): AuditEventInput | null {
  const audit = caller.audit;
  if (!audit) return null;
  return {
    actorType: 'scim_client',
    clientId: caller.clientId,
    operation: audit.operation,
    resourceType: audit.resourceType,
    resourceId: resourceId ?? audit.resourceId ?? null,
    status: status < 400 ? (audit.status ?? status) : status,
    durationMs: performance.now() - audit.startedAt,
    requestId: caller.requestId ?? null,
    detail: error === undefined ? { method: audit.method, path: audit.path } : { error, method: audit.method, path: audit.path },
  };
}

export interface ResourceServiceDeps {
  knex: Knex;
  /** `${PUBLIC_URL}/scim_v2`, the base of every meta.location. */
  baseUrl: string;
  /** Read on DELETE: "User accounts deletable by admins" and "lock users when deletion is refused". */
  settings: Pick<SettingsService, 'get'>;
}

export function visibilityOf(caller: ScimCaller): { ownerClientId?: string } {
  return caller.dataScope === 'own' && caller.clientId ? { ownerClientId: caller.clientId } : {};
}
