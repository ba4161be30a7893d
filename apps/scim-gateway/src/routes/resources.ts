import type { Context } from 'koa';
import type { JsonObject } from '@roster/domain';
import { notModified, readJsonBody, sendScim, sendScimJson } from '../scim/http.js';
import { parseListParams, SEARCH_REQUEST_SCHEMA, type ListParams } from '../scim/list.js';
import { ScimError } from '../scim/errors.js';
import type { ResourceTypeName } from '../scim/schemas/index.js';
import type { ScimCaller } from '../scim/service/types.js';
import { auditAs, auditRecorded, callerOf, listParamsOf, listResponse, listResponseJson, project, projectionOf, wants, type Projection } from './scim-context.js';
import type { ScimRoutes } from './scim-routes.js';

interface ReadFlags {
  withGroups: boolean;
  withMembers: boolean;
}

type Written = { resource: JsonObject };

/** What Users and Groups share; the services differ (deletion rules, members). */
export interface ResourceService {
  create(caller: ScimCaller, body: unknown, options: ReadFlags): Promise<Written>;
  get(caller: ScimCaller, id: string, options: ReadFlags): Promise<Written>;
  list(caller: ScimCaller, params: ListParams, options: ReadFlags): Promise<{ resources: JsonObject[]; total: number; startIndex: number; nextCursor?: string | undefined }>;
  /** `get` with the full resource as JSON text, for a GET without attributes or excludedAttributes (Users). */
  getJson?(caller: ScimCaller, id: string): Promise<{ json: string; etag: string; location: string }>;
  /** `list` with every full resource as JSON text, for a list without attributes or excludedAttributes (Users). */
  listJson?(caller: ScimCaller, params: ListParams): Promise<{ resources: string[]; total: number; startIndex: number; nextCursor?: string | undefined }>;
  replace(caller: ScimCaller, id: string, body: unknown, options: ReadFlags & { ifMatch?: string }): Promise<Written>;
  patch(caller: ScimCaller, id: string, body: unknown, options: ReadFlags & { ifMatch?: string }): Promise<Written>;
  delete(caller: ScimCaller, id: string, options: { ifMatch?: string }): Promise<{ refusal?: ScimError }>;
}

const ENDPOINT: Record<ResourceTypeName, string> = { User: '/Users', Group: '/Groups' };
const NOUN: Record<ResourceTypeName, string> = { User: 'user', Group: 'group' };

function etagOf(resource: JsonObject): string {
  return String((resource.meta as { version: string }).version);
}

function locationOf(resource: JsonObject): string {
  return String((resource.meta as { location: string }).location);
}

function readFlags(type: ResourceTypeName, projection: Projection): ReadFlags {
  return {
    withGroups: type === 'User' && wants(type, projection, 'groups'),
    withMembers: type === 'Group' && wants(type, projection, 'members'),
  };
}

function ifMatchOf(ctx: Context): { ifMatch?: string } {
  const header = ctx.get('if-match');
  return header ? { ifMatch: header } : {};
}

/** Reads a SearchRequest body (RFC 7644 §3.4.3): the same parameters as a query string, as JSON. */
export async function searchParamsOf(ctx: Context): Promise<ListParams> {
  const body = await readJsonBody(ctx);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw ScimError.invalidSyntax('a SearchRequest must be a JSON object');
  const schemas = (body as { schemas?: unknown }).schemas;
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.some((schema) => String(schema).toLowerCase() === SEARCH_REQUEST_SCHEMA.toLowerCase()))) {
    throw ScimError.invalidSyntax(`a SearchRequest must carry the schema ${SEARCH_REQUEST_SCHEMA}`);
  }
  return parseListParams(body as Record<string, unknown>);
}

export async function listAndRespond(ctx: Context, type: ResourceTypeName, service: ResourceService, params: ListParams): Promise<void> {
  const projection: Projection = {};
  if (params.attributes) projection.attributes = params.attributes;
  if (params.excludedAttributes) projection.excludedAttributes = params.excludedAttributes;
  if (service.listJson && !projection.attributes && !projection.excludedAttributes) {
    // The resources as the full representation, written as text (the IdPs' filtered lookups land here).
    sendScimJson(ctx, listResponseJson(await service.listJson(callerOf(ctx), params)));
    return;
  }
  const result = await service.list(callerOf(ctx), params, readFlags(type, projection));
  sendScim(ctx, 200, listResponse(type, result, params));
}

export function mountResourceRoutes(router: ScimRoutes, type: ResourceTypeName, service: ResourceService): void {
  const path = ENDPOINT[type];
  const noun = NOUN[type];

  router.on('GET', path, (ctx) => listAndRespond(ctx, type, service, listParamsOf(ctx)));

  router.on('POST', `${path}/.search`, async (ctx) => {
    await listAndRespond(ctx, type, service, await searchParamsOf(ctx));
  });

  router.on('POST', path, async (ctx) => {
    auditAs(ctx, `scim.${noun}.create`, type);
    const projection = projectionOf(ctx);
    const body = await readJsonBody(ctx);
    const { resource } = await service.create(callerOf(ctx), body, readFlags(type, projection));
    auditRecorded(ctx);
    // RFC 7644 §3.3: 201 with Location and the resource as stored.
    sendScim(ctx, 201, project(type, resource, projection), { Location: locationOf(resource), ETag: etagOf(resource) });
  });

  router.on('GET', `${path}/:id`, async (ctx) => {
    const projection = projectionOf(ctx);
    // The full representation is written as text where the service can (as lists without a projection are).
    const full = !projection.attributes && !projection.excludedAttributes;
    const read = service.getJson && full ? await service.getJson(callerOf(ctx), ctx.params.id!) : undefined;
    const resource = read ? undefined : (await service.get(callerOf(ctx), ctx.params.id!, readFlags(type, projection))).resource;
    const etag = read ? read.etag : etagOf(resource!);
    if (notModified(ctx, etag)) {
      sendScim(ctx, 304, undefined, { ETag: etag });
      return;
    }
    const headers = { ETag: etag, 'Content-Location': read ? read.location : locationOf(resource!) };
    if (read) sendScimJson(ctx, read.json, headers);
    else sendScim(ctx, 200, project(type, resource!, projection), headers);
  });

  router.on('PUT', `${path}/:id`, async (ctx) => {
    auditAs(ctx, `scim.${noun}.replace`, type, ctx.params.id);
    const projection = projectionOf(ctx);
    const body = await readJsonBody(ctx);
    const { resource } = await service.replace(callerOf(ctx), ctx.params.id!, body, { ...readFlags(type, projection), ...ifMatchOf(ctx) });
    auditRecorded(ctx);
    sendScim(ctx, 200, project(type, resource, projection), { ETag: etagOf(resource), 'Content-Location': locationOf(resource) });
  });

  router.on('PATCH', `${path}/:id`, async (ctx) => {
    auditAs(ctx, `scim.${noun}.patch`, type, ctx.params.id);
    const projection = projectionOf(ctx);
    const body = await readJsonBody(ctx);
    // Groups answer 204 unless attributes were asked for: never ship 100,000 members back (RFC 7644 §3.5.2
    // lets the server choose between 200 with the resource and 204).
    const quiet = type === 'Group' && !projection.attributes;
    const flags = quiet ? { withGroups: false, withMembers: false } : readFlags(type, projection);
    const caller = callerOf(ctx);
    if (quiet && caller.audit) caller.audit.status = 204;
    const { resource } = await service.patch(caller, ctx.params.id!, body, { ...flags, ...ifMatchOf(ctx) });
    auditRecorded(ctx);
    if (quiet) {
      sendScim(ctx, 204, undefined, { ETag: etagOf(resource) });
      return;
    }
    sendScim(ctx, 200, project(type, resource, projection), { ETag: etagOf(resource), 'Content-Location': locationOf(resource) });
  });

  router.on('DELETE', `${path}/:id`, async (ctx) => {
    auditAs(ctx, `scim.${noun}.delete`, type, ctx.params.id);
    const { refusal } = await service.delete(callerOf(ctx), ctx.params.id!, ifMatchOf(ctx));
    // A refused DELETE has recorded its 403 (and the lock it placed) in its transaction too.
    auditRecorded(ctx);
    if (refusal) throw refusal;
    sendScim(ctx, 204, undefined);
  });
}

/**
 * A search across Users and Groups (RFC 7644 §3.4.3): Users come first, then Groups, each in its default
 * order, and startIndex/count page over that concatenation. A filter that names attributes of only one type
 * searches only that type; one valid for neither is refused with the Users error.
 */
export async function searchAllAndRespond(ctx: Context, services: { users: ResourceService; groups: ResourceService }, params: ListParams): Promise<void> {
  if (params.cursor !== undefined) throw ScimError.invalidValue('cursor paging is offered per resource type: search /Users/.search or /Groups/.search');
  if (params.sortBy !== undefined) throw ScimError.invalidValue('sortBy is not supported across resource types: search /Users/.search or /Groups/.search');
  const caller = callerOf(ctx);
  const projection: Projection = {};
  if (params.attributes) projection.attributes = params.attributes;
  if (params.excludedAttributes) projection.excludedAttributes = params.excludedAttributes;
  const counting = { ...params, startIndex: 1, count: 0 };
  const totals = async (type: ResourceTypeName, service: ResourceService): Promise<number | ScimError> => {
    try {
      return (await service.list(caller, counting, readFlags(type, projection))).total;
    } catch (error) {
      if (error instanceof ScimError && error.status === 400) return error;
      throw error;
    }
  };
  const userTotal = await totals('User', services.users);
  const groupTotal = await totals('Group', services.groups);
  if (userTotal instanceof ScimError && groupTotal instanceof ScimError) throw userTotal;
  const usersFound = typeof userTotal === 'number' ? userTotal : 0;
  const groupsFound = typeof groupTotal === 'number' ? groupTotal : 0;
  const resources: JsonObject[] = [];
  let skip = params.startIndex - 1;
  let room = params.count;
  for (const [type, service, found] of [['User', services.users, usersFound], ['Group', services.groups, groupsFound]] as const) {
    if (room > 0 && skip < found) {
      const page = await service.list(caller, { ...params, startIndex: skip + 1, count: room }, readFlags(type, projection));
      resources.push(...page.resources.map((resource) => project(type, resource, projection)));
      room -= page.resources.length;
    }
    skip = Math.max(0, skip - found);
  }
  sendScim(ctx, 200, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
    totalResults: usersFound + groupsFound,
    itemsPerPage: resources.length,
    startIndex: params.startIndex,
    Resources: resources,
  });
}
