import type { Context } from 'koa';
import type { JsonObject } from '@roster/domain';
import { ScimError } from '../scim/errors.js';
import { LIST_RESPONSE_SCHEMA, parseListParams, type ListParams } from '../scim/list.js';
import { parseAttributeList, projectResource, wantsAttribute } from '../scim/resource/project.js';
import type { ResourceTypeName } from '../scim/schemas/index.js';
import type { ScimCaller } from '../scim/service/types.js';

/** What authentication put on the request (middleware/scim-auth.ts). */
interface AuthenticatedState {
  client?: { id: string; authProviderId: string | null; dataScope: 'all' | 'own' };
  audit?: { operation: string; resourceType?: string; resourceId?: string | null };
  requestId?: string;
  startedAt?: number;
  /** Set once a write has committed the request's audit event with it (middleware/scim-audit.ts then skips it). */
  auditRecorded?: boolean;
}

/** Paths are kept in the audit event up to this length (a hostile client can send kilobytes of path). */
const MAX_AUDITED_PATH = 512;

export function callerOf(ctx: Context): ScimCaller {
  const client = (ctx.state as AuthenticatedState).client;
  if (!client) throw new ScimError(401, undefined, 'authentication required');
  const state = ctx.state as AuthenticatedState;
  const caller: ScimCaller = { clientId: client.id, authProviderId: client.authProviderId ?? null, dataScope: client.dataScope, requestId: state.requestId ?? null };
  // A write named by auditAs records its audit event itself, in its own transaction.
  if (state.audit) {
    caller.audit = {
      operation: state.audit.operation,
      resourceType: state.audit.resourceType ?? 'User',
      resourceId: state.audit.resourceId ?? null,
      method: ctx.method,
      path: ctx.path.slice(0, MAX_AUDITED_PATH),
      startedAt: state.startedAt ?? performance.now(),
    };
  }
  return caller;
}

/** The write has committed the request's audit event: the audit middleware must not write another. */
export function auditRecorded(ctx: Context): void {
  (ctx.state as AuthenticatedState).auditRecorded = true;
}

/**
 * Names the operation for the provisioning log. Call before `callerOf`: the write records the event in its own
 * transaction, and a request that fails before its write is recorded by the audit middleware.
 */
export function auditAs(ctx: Context, operation: string, resourceType: ResourceTypeName, resourceId?: string | null): void {
  (ctx.state as AuthenticatedState).audit = { operation, resourceType, resourceId: resourceId ?? null };
}

export interface Projection {
  attributes?: string[];
  excludedAttributes?: string[];
}

/** attributes / excludedAttributes from the query string (RFC 7644 §3.9), on every endpoint. */
export function projectionOf(ctx: Context): Projection {
  const query = ctx.query as Record<string, string | string[] | undefined>;
  const find = (name: string): string | string[] | undefined => {
    const key = Object.keys(query).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : query[key];
  };
  const projection: Projection = {};
  const attributes = parseAttributeList(find('attributes'));
  const excluded = parseAttributeList(find('excludedAttributes'));
  if (attributes?.length) projection.attributes = attributes;
  if (excluded?.length) projection.excludedAttributes = excluded;
  return projection;
}

export function wants(type: ResourceTypeName, projection: Projection, attribute: 'members' | 'groups'): boolean {
  return wantsAttribute(type, projection, attribute);
}

export function project(type: ResourceTypeName, resource: JsonObject, projection: Projection): JsonObject {
  if (!projection.attributes && !projection.excludedAttributes) return resource;
  return projectResource(type, resource, projection) as JsonObject;
}

export function listParamsOf(ctx: Context): ListParams {
  return parseListParams(ctx.query as Record<string, unknown>);
}

export function listResponse(
  type: ResourceTypeName,
  result: { resources: JsonObject[]; total: number; startIndex: number; nextCursor?: string | undefined },
  params: ListParams,
): JsonObject {
  const projection: Projection = {};
  if (params.attributes) projection.attributes = params.attributes;
  if (params.excludedAttributes) projection.excludedAttributes = params.excludedAttributes;
  const body: JsonObject = {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: result.total,
    itemsPerPage: result.resources.length,
    startIndex: result.startIndex,
  };
  if (result.nextCursor) body.nextCursor = result.nextCursor;
  body.Resources = result.resources.map((resource) => project(type, resource, projection));
  return body;
}

/** `listResponse` written as JSON text around resources already serialized (RFC 7644 §3.4.2). */
export function listResponseJson(result: { resources: string[]; total: number; startIndex: number; nextCursor?: string | undefined }): string {
  const cursor = result.nextCursor ? `,"nextCursor":${JSON.stringify(result.nextCursor)}` : '';
  return (
    `{"schemas":${LIST_RESPONSE_SCHEMAS_JSON},"totalResults":${result.total},"itemsPerPage":${result.resources.length},` +
    `"startIndex":${result.startIndex}${cursor},"Resources":[${result.resources.join(',')}]}`
  );
}

const LIST_RESPONSE_SCHEMAS_JSON = JSON.stringify([LIST_RESPONSE_SCHEMA]);
