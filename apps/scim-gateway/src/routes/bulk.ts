import type { Knex } from 'knex';
import { recordChanges, type JsonObject } from '@roster/domain';
import { ScimError } from '../scim/errors.js';
import { readJsonBody, sendScim } from '../scim/http.js';
import { auditEventOf, changeContextOf, type ScimCaller } from '../scim/service/types.js';
import type { GroupService } from '../scim/service/groups.js';
import type { UserService } from '../scim/service/users.js';
import { auditAs, auditRecorded, callerOf } from './scim-context.js';
import { scimErrorFromDatabase } from '../scim/db-errors.js';
import { etagOf, userLocation } from '../scim/serialize.js';
import { bulkGate } from '../middleware/bulk-gate.js';
import type { ScimRoutes } from './scim-routes.js';

export const MAX_BULK_OPERATIONS = 1000;
/** /Bulk requests a process runs at once (middleware/bulk-gate.ts); more wait in line. */
export const MAX_CONCURRENT_BULK = 2;
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

interface BulkOperation {
  index: number;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  bulkId?: string;
  version?: string;
  path: string;
  data?: unknown;
}

interface BulkResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

function parseBulkRequest(body: unknown): { operations: BulkOperation[]; failOnErrors: number | undefined } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw ScimError.invalidSyntax('a BulkRequest must be a JSON object');
  const request = body as { schemas?: unknown; Operations?: unknown; failOnErrors?: unknown };
  if (!Array.isArray(request.schemas) || !request.schemas.some((schema) => String(schema).toLowerCase() === BULK_REQUEST.toLowerCase())) {
    throw ScimError.invalidSyntax(`a BulkRequest must carry the schema ${BULK_REQUEST}`);
  }
  if (!Array.isArray(request.Operations) || request.Operations.length === 0) throw ScimError.invalidSyntax('Operations must be a non-empty array');
  // RFC 7644 §3.7.4: more operations than maxOperations is refused with 413.
  if (request.Operations.length > MAX_BULK_OPERATIONS) {
    throw new ScimError(413, undefined, `the request has ${request.Operations.length} operations; the maximum is ${MAX_BULK_OPERATIONS}`);
  }
  let failOnErrors: number | undefined;
  if (request.failOnErrors !== undefined) {
    if (!Number.isInteger(request.failOnErrors) || (request.failOnErrors as number) < 1) throw ScimError.invalidValue('failOnErrors must be a positive integer');
    failOnErrors = request.failOnErrors as number;
  }
  const bulkIds = new Set<string>();
  const operations = request.Operations.map((raw, index): BulkOperation => {
    // Numbered from 0 like the PATCH engine: "operation 2" is Operations[2].
    const where = `operation ${index}`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw ScimError.invalidSyntax(`${where}: must be an object`);
    const op = raw as Record<string, unknown>;
    const method = typeof op.method === 'string' ? op.method.toUpperCase() : '';
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw ScimError.invalidSyntax(`${where}: method must be POST, PUT, PATCH or DELETE`);
    if (typeof op.path !== 'string' || !op.path.startsWith('/')) throw ScimError.invalidSyntax(`${where}: path must be a string such as "/Users" or "/Users/{id}"`);
    if (op.bulkId !== undefined && (typeof op.bulkId !== 'string' || op.bulkId === '')) throw ScimError.invalidSyntax(`${where}: bulkId must be a non-empty string`);
    if (method === 'POST' && op.bulkId === undefined) throw ScimError.invalidSyntax(`${where}: POST needs a bulkId (RFC 7644 §3.7)`);
    if (typeof op.bulkId === 'string') {
      if (bulkIds.has(op.bulkId)) throw ScimError.invalidSyntax(`${where}: bulkId "${op.bulkId}" is used twice`);
      bulkIds.add(op.bulkId);
    }
    if (method !== 'DELETE' && op.data === undefined) throw ScimError.invalidSyntax(`${where}: ${method} needs data`);
    const parsed: BulkOperation = { index, method: method as BulkOperation['method'], path: op.path };
    if (typeof op.bulkId === 'string') parsed.bulkId = op.bulkId;
    if (typeof op.version === 'string') parsed.version = op.version;
    if (op.data !== undefined) parsed.data = op.data;
    return parsed;
  });
  return { operations, failOnErrors };
}

const BULK_REFERENCE = /^bulkId:(.+)$/;

/** Every `bulkId:x` string inside a value (members, manager, paths). */
function referencesIn(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    const match = BULK_REFERENCE.exec(value);
    if (match) found.add(match[1]!);
  } else if (Array.isArray(value)) {
    for (const item of value) referencesIn(item, found);
  } else if (value && typeof value === 'object') {
    for (const item of Object.values(value)) referencesIn(item, found);
  }
  return found;
}

function substitute(value: unknown, ids: Map<string, string>): unknown {
  if (typeof value === 'string') {
    const match = BULK_REFERENCE.exec(value);
    return match && ids.has(match[1]!) ? ids.get(match[1]!) : value;
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, ids));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, ids)]));
  }
  return value;
}

function errorResult(op: BulkOperation, error: ScimError): BulkResult {
  const result: BulkResult = { method: op.method, status: String(error.status), response: error.toJSON() };
  if (op.bulkId) result.bulkId = op.bulkId;
  return result;
}

/**
 * /Bulk (RFC 7644 §3.7). Operations run in order inside one transaction, each under its own savepoint, so a
 * failed operation leaves no trace and the others stand. An operation that refers to a bulkId created later
 * in the request waits until that resource exists (§3.7.2); references that never resolve fail.
 */
export function mountBulkRoute(router: ScimRoutes, deps: { knex: Knex; users: UserService; groups: GroupService; baseUrl: string }): void {
  // Bodies are read only once admitted, so waiting requests hold no parsed JSON.
  router.on('POST', '/Bulk', bulkGate(MAX_CONCURRENT_BULK), async (ctx) => {
    auditAs(ctx, 'scim.bulk', 'User');
    const { operations, failOnErrors } = parseBulkRequest(await readJsonBody(ctx));
    const requestCaller = callerOf(ctx);
    // The operations record their changes each; the request's one audit event is written at the end of the
    // unit of work, in its transaction.
    const caller: ScimCaller = { ...requestCaller, audit: undefined };
    const results: Array<BulkResult | undefined> = new Array(operations.length);
    const created = new Map<string, string>();
    const declared = new Set(operations.flatMap((op) => (op.bulkId ? [op.bulkId] : [])));
    let errors = 0;

    await deps.knex.transaction(async (trx) => {
      let pending = operations;
      while (pending.length && !(failOnErrors && errors >= failOnErrors)) {
        const deferred: BulkOperation[] = [];
        const batched = new Set<BulkOperation>();
        for (const [position, op] of pending.entries()) {
          if (failOnErrors && errors >= failOnErrors) break;
          if (batched.has(op)) continue;
          // Fast path: a run of user creations that refer to no bulkId is inserted in one statement. Only
          // without failOnErrors, whose count must stop the request between two operations.
          if (failOnErrors === undefined && isPlainUserCreate(op)) {
            const run = [op];
            for (const next of pending.slice(position + 1)) {
              if (!isPlainUserCreate(next) || run.length >= 1000) break;
              run.push(next);
            }
            if (run.length > 1) {
              const outcomes = await createUsersTogether(trx, caller, run, deps);
              if (outcomes) {
                run.forEach((item, index) => {
                  batched.add(item);
                  const outcome = outcomes[index]!;
                  if (outcome instanceof ScimError) {
                    results[item.index] = errorResult(item, outcome);
                    errors++;
                  } else {
                    created.set(item.bulkId!, outcome.id);
                    results[item.index] = { method: 'POST', bulkId: item.bulkId!, status: '201', location: userLocation(deps.baseUrl, outcome.id), version: etagOf(outcome.version) };
                  }
                });
                continue;
              }
            }
          }
          const unresolved = [...referencesIn([op.path, op.data])].filter((id) => !created.has(id));
          const waitable = unresolved.filter((id) => declared.has(id) && id !== op.bulkId);
          if (unresolved.length && waitable.length === unresolved.length) {
            deferred.push(op);
            continue;
          }
          if (unresolved.length) {
            results[op.index] = errorResult(op, ScimError.invalidValue(`bulkId "${unresolved[0]}" is not defined by any operation of this request`));
            errors++;
            continue;
          }
          try {
            const result = await trx.transaction((savepoint) => runOperation(savepoint, caller, op, substitute(op.data, created), deps));
            if (op.bulkId && result.id) created.set(op.bulkId, result.id);
            results[op.index] = result.outcome;
            if (Number(result.outcome.status) >= 400) errors++;
          } catch (error) {
            const scim = error instanceof ScimError ? error : scimErrorFromDatabase(error);
            if (!scim) throw error;
            results[op.index] = errorResult(op, scim);
            errors++;
          }
        }
        if (deferred.length === pending.length) {
          // Nothing progressed: the remaining operations refer to each other in a cycle (§3.7.1).
          for (const op of deferred) {
            results[op.index] = errorResult(op, ScimError.invalidValue('circular bulkId references cannot be resolved'));
            errors++;
          }
          break;
        }
        pending = deferred;
      }
      await recordChanges(trx, changeContextOf(requestCaller), [], auditEventOf(requestCaller, 200));
    });
    auditRecorded(ctx);

    sendScim(ctx, 200, { schemas: [BULK_RESPONSE], Operations: results.filter((result): result is BulkResult => result !== undefined) });
  });
}

function isPlainUserCreate(op: BulkOperation): boolean {
  return op.method === 'POST' && /^\/users\/?$/i.test(op.path) && op.bulkId !== undefined && referencesIn(op.data).size === 0;
}

/**
 * Creates a run of users in one statement under a savepoint. Returns undefined when the statement itself
 * failed (a value the database refuses): the caller then runs the operations one by one, so only the
 * offending one fails.
 */
async function createUsersTogether(
  trx: Knex.Transaction,
  caller: ScimCaller,
  run: BulkOperation[],
  deps: { users: UserService },
): Promise<Array<{ id: string; version: number } | ScimError> | undefined> {
  try {
    return await trx.transaction((savepoint) => deps.users.createMany(caller, run.map((op) => op.data), savepoint));
  } catch (error) {
    if (scimErrorFromDatabase(error)) return undefined;
    throw error;
  }
}

async function runOperation(
  trx: Knex.Transaction,
  caller: ScimCaller,
  op: BulkOperation,
  data: unknown,
  deps: { users: UserService; groups: GroupService },
): Promise<{ id?: string; outcome: BulkResult }> {
  const segments = String(substitute(op.path, new Map())).split('/').filter(Boolean);
  const endpoint = segments[0]?.toLowerCase();
  const id = segments[1];
  if ((endpoint !== 'users' && endpoint !== 'groups') || segments.length > 2) {
    throw ScimError.invalidPath(`path "${op.path}" names no Users or Groups resource`);
  }
  if (op.method === 'POST' && id !== undefined) throw ScimError.invalidPath('POST goes to "/Users" or "/Groups", without an id');
  if (op.method !== 'POST' && id === undefined) throw ScimError.invalidPath(`${op.method} needs a path with an id, such as "/${segments[0]}/{id}"`);
  const flags = { withGroups: false, withMembers: false };
  const ifMatch = op.version ? { ifMatch: op.version } : {};
  const outcome = (resource: JsonObject | undefined, status: number): { id?: string; outcome: BulkResult } => {
    const result: BulkResult = { method: op.method, status: String(status) };
    if (op.bulkId) result.bulkId = op.bulkId;
    if (resource) {
      const meta = resource.meta as { location: string; version: string };
      result.location = meta.location;
      result.version = meta.version;
      return { id: String(resource.id), outcome: result };
    }
    return { outcome: result };
  };
  const service = endpoint === 'users' ? deps.users : deps.groups;
  switch (op.method) {
    case 'POST':
      return outcome((await service.create(caller, data, flags, trx)).resource, 201);
    case 'PUT':
      return outcome((await service.replace(caller, id!, data, { ...flags, ...ifMatch }, trx)).resource, 200);
    case 'PATCH':
      return outcome((await service.patch(caller, id!, data, { ...flags, ...ifMatch }, trx)).resource, 200);
    case 'DELETE': {
      const { refusal } = await service.delete(caller, id!, ifMatch, trx);
      if (refusal) return { outcome: { ...errorResult(op, refusal) } };
      return outcome(undefined, 204);
    }
  }
}
