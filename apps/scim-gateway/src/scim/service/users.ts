import type { DirectoryTransaction, JsonObject, ResourceRef, UserRecord } from '@roster/domain';
import { ScimError } from '../errors.js';
import type { ListParams } from '../list.js';
import { applyUserPatch, parsePatchRequest } from '../patch/index.js';
import { assertImmutableUnchanged, normalizeUserInput, userColumns } from '../resource/normalize.js';
import { etagOf, serializeUser, USER_DOCUMENT_SHAPE, userJson, userLocation } from '../serialize.js';
import { planList } from './query.js';
import { actorOf, asScim, visibilityOf, type ResourceServiceDeps, type ScimCaller } from './types.js';

export interface ReadOptions {
  /** False when the response will not show `groups` (attributes/excludedAttributes): they are then not read. */
  withGroups: boolean;
}

export interface Preconditions {
  /** The If-Match header, checked against the current version inside the write transaction. */
  ifMatch?: string;
}

function matchesIfMatch(header: string | undefined, version: number): boolean {
  if (!header) return true;
  const tags = header.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  return tags.includes('*') || tags.includes(etagOf(version).replace(/^W\//, ''));
}

export function assertIfMatch(header: string | undefined, version: number): void {
  if (!matchesIfMatch(header, version)) {
    throw ScimError.preconditionFailed(`the resource has changed: its version is ${etagOf(version)}, If-Match named ${header}`);
  }
}

/**
 * SCIM operations on Users (RFC 7644 §3.3-§3.6): a mapping of SCIM onto the domain's directory commands
 * (packages/domain/src/directory/service.ts, each one transaction with its change records and audit event)
 * and the serialisation of what they return. The rules (locks, deletion) are the domain's.
 */
export function createUserService(deps: ResourceServiceDeps) {
  const { directory, baseUrl } = deps;
  const users = directory.users;

  const serialized = (read: { user: UserRecord; groups?: ResourceRef[] }) => ({ user: read.user, resource: serializeUser(read.user, baseUrl, read.groups) });

  return {
    async create(caller: ScimCaller, body: unknown, options: ReadOptions, trx?: DirectoryTransaction): Promise<{ resource: JsonObject; user: UserRecord }> {
      const { data } = normalizeUserInput(body);
      // One statement: the user, its provider link, their change records and the request's audit event.
      const user = await users.create(actorOf(caller), { columns: userColumns(data), data }, trx);
      // A new user belongs to no group yet: nothing to read.
      return { user, resource: serializeUser(user, baseUrl, options.withGroups ? [] : undefined) };
    },

    /**
     * Creates many users in one statement (the /Bulk fast path): each body is validated on its own, a taken
     * userName fails only its own entry (409), and the rest are inserted together with their provider links.
     */
    async createMany(caller: ScimCaller, bodies: unknown[], trx: DirectoryTransaction): Promise<Array<{ id: string; version: number } | ScimError>> {
      const results: Array<{ id: string; version: number } | ScimError> = new Array(bodies.length);
      const valid: Array<{ index: number; data: JsonObject; columns: ReturnType<typeof userColumns> }> = [];
      bodies.forEach((body, index) => {
        try {
          const { data } = normalizeUserInput(body);
          valid.push({ index, data, columns: userColumns(data) });
        } catch (error) {
          if (!(error instanceof ScimError)) throw error;
          results[index] = error;
        }
      });
      const inserted = await users.createMany(actorOf(caller), valid.map((entry) => ({ columns: entry.columns, data: entry.data })), trx);
      valid.forEach((entry, position) => {
        results[entry.index] = inserted[position] ?? ScimError.uniqueness('userName is already in use by another resource');
      });
      return results;
    },

    async get(caller: ScimCaller, id: string, options: ReadOptions): Promise<{ resource: JsonObject; user: UserRecord }> {
      if (options.withGroups) {
        // One statement for the user and its groups.
        const found = (await users.findByIdWithGroups(id, visibilityOf(caller))) ?? notFound(id);
        return { user: found.user, resource: serializeUser(found.user, baseUrl, found.groups) };
      }
      const user = (await users.findById(id, visibilityOf(caller))) ?? notFound(id);
      return { user, resource: serializeUser(user, baseUrl) };
    },

    async list(caller: ScimCaller, params: ListParams, options: ReadOptions) {
      const plan = planList('User', params, visibilityOf(caller), baseUrl);
      const { items, total, groups }: { items: UserRecord[]; total: number; groups?: Map<string, ResourceRef[]> } = options.withGroups
        ? await users.listWithGroups(plan.query)
        : await users.list(plan.query);
      const page = plan.nextCursor ? items.slice(0, params.count) : items;
      const resources = page.map((user) => serializeUser(user, baseUrl, groups?.get(user.id)));
      const nextCursor = plan.nextCursor && items.length > params.count ? plan.nextCursor(page[page.length - 1]!.seq, page.length) : undefined;
      return { resources, total, startIndex: plan.startIndex, nextCursor };
    },

    /** `get` with the full resource as JSON text, for a GET without attributes or excludedAttributes. */
    async getJson(caller: ScimCaller, id: string): Promise<{ json: string; etag: string; location: string }> {
      const user = (await users.findDocumentByIdWithGroups(id, USER_DOCUMENT_SHAPE, visibilityOf(caller))) ?? notFound(id);
      return { json: userJson(user, baseUrl), etag: etagOf(user.version), location: userLocation(baseUrl, user.id) };
    },

    /** `list` with each full resource as JSON text, for responses without attributes or excludedAttributes. */
    async listJson(caller: ScimCaller, params: ListParams) {
      const plan = planList('User', params, visibilityOf(caller), baseUrl);
      const { items, total } = await users.listDocumentsWithGroups(plan.query, USER_DOCUMENT_SHAPE);
      const page = plan.nextCursor ? items.slice(0, params.count) : items;
      const resources = page.map((user) => userJson(user, baseUrl));
      const nextCursor = plan.nextCursor && items.length > params.count ? plan.nextCursor(page[page.length - 1]!.seq, page.length) : undefined;
      return { resources, total, startIndex: plan.startIndex, nextCursor };
    },

    async replace(caller: ScimCaller, id: string, body: unknown, options: ReadOptions & Preconditions, trx?: DirectoryTransaction) {
      const { data } = normalizeUserInput(body);
      const precondition = (version: number, current: JsonObject) => {
        assertIfMatch(options.ifMatch, version);
        assertImmutableUnchanged('User', current, data);
      };
      const read = await asScim('User', id, () => users.replace(actorOf(caller), id, { columns: userColumns(data), data }, { precondition, withGroups: options.withGroups }, trx));
      return serialized(read);
    },

    async patch(caller: ScimCaller, id: string, body: unknown, options: ReadOptions & Preconditions, trx?: DirectoryTransaction) {
      // The whole message is validated before anything is read or written (RFC 7644 §3.5.2).
      const operations = parsePatchRequest(body);
      const precondition = (version: number) => assertIfMatch(options.ifMatch, version);
      // The PATCH engine applies the operations to the user as the domain read it, under its row lock, and
      // hands over the resolved attributes (or nothing, when nothing changed).
      const resolve = (current: UserRecord) => {
        const base: JsonObject = { ...current.data, userName: current.userName, active: current.active };
        if (current.externalId !== null) base.externalId = current.externalId;
        const result = applyUserPatch(base, operations);
        return result.changed ? { columns: userColumns(result.data), data: result.data } : undefined;
      };
      return serialized(await asScim('User', id, () => users.change(actorOf(caller), id, resolve, { precondition, withGroups: options.withGroups }, trx)));
    },

    /**
     * DELETE honours the admin setting "User accounts deletable by admins" (the domain's deleteOrLock): when
     * it is off, the request is refused with 403, and the account may have been locked in the same request.
     */
    async delete(caller: ScimCaller, id: string, options: Preconditions, trx?: DirectoryTransaction): Promise<{ refusal?: ScimError }> {
      const precondition = (version: number) => assertIfMatch(options.ifMatch, version);
      const outcome = await asScim('User', id, () => users.deleteOrLock(actorOf(caller), id, { precondition }, trx));
      // Returned, not thrown: the lock must be committed even though the request is refused.
      return outcome.deleted ? {} : { refusal: ScimError.forbidden(outcome.refusal) };
    },
  };
}

function notFound(id: string): never {
  throw ScimError.notFound(`User ${id} not found`);
}

export type UserService = ReturnType<typeof createUserService>;
