import type { Knex } from 'knex';
import { STORED_LOCK_REASON, insertUsersSkippingTaken, maintainLinks, userRepository, type JsonObject, type ResourceRef, type UserRecord } from '@roster/domain';
import { ScimError } from '../errors.js';
import type { ListParams } from '../list.js';
import { applyUserPatch, parsePatchRequest } from '../patch/index.js';
import { normalizeUserInput, userColumns } from '../resource/normalize.js';
import { etagOf, serializeUser, USER_DOCUMENT_SHAPE, userJson, userLocation } from '../serialize.js';
import { planList } from './query.js';
import { visibilityOf, type ResourceServiceDeps, type ScimCaller } from './types.js';

export interface ReadOptions {
  /** False when the response will not show `groups` (attributes/excludedAttributes): they are then not read. */
  withGroups: boolean;
}

export interface Preconditions {
  /** The If-Match header, checked against the current version inside the write transaction. */
  ifMatch?: string;
}

// Stored names; applications see them as the public LockReason of @roster/domain (sign-in.ts).
export const LOCK_REASON_INACTIVE = STORED_LOCK_REASON.inactive;
export const LOCK_REASON_DELETE_REFUSED = STORED_LOCK_REASON.deleteRefused;

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

/** SCIM operations on Users (RFC 7644 §3.3-§3.6), each write in one transaction. */
export function createUserService(deps: ResourceServiceDeps) {
  const { knex, baseUrl } = deps;

  async function serializeOne(db: Knex | Knex.Transaction, user: UserRecord, options: ReadOptions): Promise<JsonObject> {
    const groups = options.withGroups ? (await userRepository.groupsOf(db, [user.id])).get(user.id) ?? [] : undefined;
    return serializeUser(user, baseUrl, groups);
  }

  async function linkToProvider(trx: Knex.Transaction, user: UserRecord): Promise<void> {
    // On every write, not only when externalId changes: the provider's identity mapping may name userName,
    // the primary email or employeeNumber (packages/domain identity-mapping.ts).
    await maintainLinks(trx, [user.id]);
  }

  async function notFound(id: string): Promise<never> {
    throw ScimError.notFound(`User ${id} not found`);
  }

  return {
    async create(caller: ScimCaller, body: unknown, options: ReadOptions, trx?: Knex.Transaction): Promise<{ resource: JsonObject; user: UserRecord }> {
      const { data } = normalizeUserInput(body);
      // One statement: the user and its provider link (externalId at the caller's provider) together.
      const user = await userRepository.insert(trx ?? knex, {
        columns: userColumns(data),
        data,
        createdByClientId: caller.clientId,
        linkProviderId: caller.authProviderId,
      });
      // A new user belongs to no group yet: nothing to read.
      return { user, resource: serializeUser(user, baseUrl, options.withGroups ? [] : undefined) };
    },

    /**
     * Creates many users in one statement (the /Bulk fast path): each body is validated on its own, a taken
     * userName fails only its own entry (409), and the rest are inserted together with their provider links.
     */
    async createMany(caller: ScimCaller, bodies: unknown[], trx: Knex.Transaction): Promise<Array<{ id: string; version: number } | ScimError>> {
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
      const inserted = await insertUsersSkippingTaken(trx, valid.map((entry) => ({ columns: entry.columns, data: entry.data, createdByClientId: caller.clientId })));
      const created: string[] = [];
      valid.forEach((entry, position) => {
        const row = inserted[position];
        if (!row) {
          results[entry.index] = ScimError.uniqueness('userName is already in use by another resource');
          return;
        }
        results[entry.index] = row;
        created.push(row.id);
      });
      // One statement for all of them, by the caller's provider's identity mapping.
      if (caller.authProviderId) await maintainLinks(trx, created);
      return results;
    },

    async get(caller: ScimCaller, id: string, options: ReadOptions): Promise<{ resource: JsonObject; user: UserRecord }> {
      if (options.withGroups) {
        // One statement for the user and its groups.
        const found = await userRepository.findByIdWithGroups(knex, id, visibilityOf(caller));
        if (!found) return notFound(id);
        return { user: found.user, resource: serializeUser(found.user, baseUrl, found.groups) };
      }
      const user = await userRepository.findById(knex, id, visibilityOf(caller));
      if (!user) return notFound(id);
      return { user, resource: serializeUser(user, baseUrl) };
    },

    async list(caller: ScimCaller, params: ListParams, options: ReadOptions) {
      const plan = planList('User', params, visibilityOf(caller), baseUrl);
      const { items, total, groups }: { items: UserRecord[]; total: number; groups?: Map<string, ResourceRef[]> } = options.withGroups
        ? await userRepository.listWithGroups(knex, plan.query)
        : await userRepository.list(knex, plan.query);
      const page = plan.nextCursor ? items.slice(0, params.count) : items;
      const resources = page.map((user) => serializeUser(user, baseUrl, groups?.get(user.id)));
      const nextCursor = plan.nextCursor && items.length > params.count ? plan.nextCursor(page[page.length - 1]!.seq, page.length) : undefined;
      return { resources, total, startIndex: plan.startIndex, nextCursor };
    },

    /** `get` with the full resource as JSON text, for a GET without attributes or excludedAttributes. */
    async getJson(caller: ScimCaller, id: string): Promise<{ json: string; etag: string; location: string }> {
      const user = await userRepository.findDocumentByIdWithGroups(knex, id, USER_DOCUMENT_SHAPE, visibilityOf(caller));
      if (!user) return notFound(id);
      return { json: userJson(user, baseUrl), etag: etagOf(user.version), location: userLocation(baseUrl, user.id) };
    },

    /** `list` with each full resource as JSON text, for responses without attributes or excludedAttributes. */
    async listJson(caller: ScimCaller, params: ListParams) {
      const plan = planList('User', params, visibilityOf(caller), baseUrl);
      const { items, total } = await userRepository.listDocumentsWithGroups(knex, plan.query, USER_DOCUMENT_SHAPE);
      const page = plan.nextCursor ? items.slice(0, params.count) : items;
      const resources = page.map((user) => userJson(user, baseUrl));
      const nextCursor = plan.nextCursor && items.length > params.count ? plan.nextCursor(page[page.length - 1]!.seq, page.length) : undefined;
      return { resources, total, startIndex: plan.startIndex, nextCursor };
    },

    async replace(caller: ScimCaller, id: string, body: unknown, options: ReadOptions & Preconditions, trx?: Knex.Transaction) {
      const { data } = normalizeUserInput(body);
      const run = async (tx: Knex.Transaction) => {
        const current = await userRepository.findById(tx, id, visibilityOf(caller), { forUpdate: true });
        if (!current) return notFound(id);
        assertIfMatch(options.ifMatch, current.version);
        const columns = userColumns(data);
        const user = await userRepository.update(tx, id, { columns, data, lockReason: lockReasonAfter(current, columns.active) });
        await linkToProvider(tx, user);
        return { user, resource: await serializeOne(tx, user, options) };
      };
      return trx ? run(trx) : knex.transaction(run);
    },

    async patch(caller: ScimCaller, id: string, body: unknown, options: ReadOptions & Preconditions, trx?: Knex.Transaction) {
      // The whole message is validated before anything is read or written (RFC 7644 §3.5.2).
      const operations = parsePatchRequest(body);
      const run = async (tx: Knex.Transaction) => {
        const current = await userRepository.findById(tx, id, visibilityOf(caller), { forUpdate: true });
        if (!current) return notFound(id);
        assertIfMatch(options.ifMatch, current.version);
        const base: JsonObject = { ...current.data, userName: current.userName, active: current.active };
        if (current.externalId !== null) base.externalId = current.externalId;
        const result = applyUserPatch(base, operations);
        if (!result.changed) return { user: current, resource: await serializeOne(tx, current, options) };
        const columns = userColumns(result.data);
        const user = await userRepository.update(tx, id, { columns, data: result.data, lockReason: lockReasonAfter(current, columns.active) });
        await linkToProvider(tx, user);
        return { user, resource: await serializeOne(tx, user, options) };
      };
      return trx ? run(trx) : knex.transaction(run);
    },

    /**
     * DELETE honours the admin setting "User accounts deletable by admins". When it is off, the request is
     * refused with 403, and with "lock users when deletion is refused" on the account is locked in the same
     * request, so the identity provider's intent to end access still holds.
     */
    async delete(caller: ScimCaller, id: string, options: Preconditions, trx?: Knex.Transaction): Promise<{ refusal?: ScimError }> {
      const settings = await deps.settings.get();
      const run = async (tx: Knex.Transaction): Promise<{ locked: boolean }> => {
        const current = await userRepository.findById(tx, id, visibilityOf(caller), { forUpdate: true });
        if (!current) return notFound(id);
        assertIfMatch(options.ifMatch, current.version);
        if (settings.usersDeletableByAdmins) {
          await userRepository.delete(tx, id);
          return { locked: false };
        }
        if (settings.lockOnRefusedDelete && current.active) await userRepository.lock(tx, id, LOCK_REASON_DELETE_REFUSED);
        return { locked: settings.lockOnRefusedDelete };
      };
      const outcome = trx ? await run(trx) : await knex.transaction(run);
      if (settings.usersDeletableByAdmins) return {};
      // Returned, not thrown: the lock above must be committed even though the request is refused.
      return {
        refusal: ScimError.forbidden(
          'deleting users is disabled by the setting "User accounts deletable by admins"' +
            (outcome.locked ? '; the user has been locked instead' : ''),
        ),
      };
    },
  };
}

function lockReasonAfter(current: UserRecord, active: boolean): string | null | undefined {
  if (active === current.active) return undefined;
  return active ? null : LOCK_REASON_INACTIVE;
}

export type UserService = ReturnType<typeof createUserService>;
