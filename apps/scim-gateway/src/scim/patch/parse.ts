// The PatchOp message of RFC 7644 §3.5.2, validated as a whole before anything is applied. Every error names
// the operation by its 0-based index in `Operations` ("operation 2: remove needs a path").

import { ScimError } from '../errors.js';
import type { PatchPath } from '../filter/ast.js';
import { parsePatchPath } from '../filter/parser.js';
import { assertNestingDepth, describeJsonType, getMember, isJsonObject } from '../resource/values.js';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export const PATCH_LIMITS = {
  /**
   * Operations in one PATCH request. Entra sends one operation per changed attribute and batches member
   * changes; Okta one per change. 1000 matches the Bulk maxOperations we advertise (ServiceProviderConfig).
   */
  maxOperations: 1000,
} as const;

export type PatchOpName = 'add' | 'remove' | 'replace';

export interface PatchOperation {
  /** 0-based position in `Operations`, for error messages. */
  index: number;
  op: PatchOpName;
  /** The parsed path; undefined when the operation has none (add and replace then take an object value). */
  path: PatchPath | undefined;
  /** The path as written, for messages. */
  pathText: string | undefined;
  /** The value member; undefined when absent (`null` stays null: it means "unassigned", RFC 7643 §2.5). */
  value: unknown;
}

const OP_NAMES: ReadonlySet<string> = new Set<PatchOpName>(['add', 'remove', 'replace']);

/** Prefixes a ScimError raised while handling one operation with its index, keeping status and scimType. */
export function inOperation<T>(index: number, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ScimError && !error.detail.startsWith('operation ')) {
      throw new ScimError(error.status, error.scimType, `operation ${index}: ${error.detail}`, { cause: error });
    }
    throw error;
  }
}

export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isJsonObject(body)) {
    throw ScimError.invalidSyntax(`the PATCH body must be a JSON object (a PatchOp message, RFC 7644 §3.5.2), got ${describeJsonType(body)}`);
  }
  assertNestingDepth(body, 'the PATCH body');
  const schemas = getMember(body, 'schemas', 'the PATCH body');
  const listsPatchOp = Array.isArray(schemas) && schemas.some((urn) => typeof urn === 'string' && urn.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase());
  if (!listsPatchOp) throw ScimError.invalidSyntax(`schemas must contain "${PATCH_OP_SCHEMA}"`);
  const operations = getMember(body, 'Operations', 'the PATCH body');
  if (operations === undefined || operations === null) throw ScimError.invalidSyntax('Operations is required: the list of PATCH operations');
  if (!Array.isArray(operations)) throw ScimError.invalidSyntax(`Operations must be an array, got ${describeJsonType(operations)}`);
  if (operations.length === 0) throw ScimError.invalidSyntax('Operations must not be empty');
  if (operations.length > PATCH_LIMITS.maxOperations) {
    throw ScimError.invalidSyntax(`Operations has ${operations.length} operations; at most ${PATCH_LIMITS.maxOperations} are accepted in one request`);
  }
  return operations.map((operation, index) => inOperation(index, () => parseOperation(operation, index)));
}

function parseOperation(operation: unknown, index: number): PatchOperation {
  if (!isJsonObject(operation)) throw ScimError.invalidSyntax(`must be an object with "op", got ${describeJsonType(operation)}`);
  const label = `operation ${index}`;
  const opValue = getMember(operation, 'op', label);
  if (opValue === undefined || opValue === null) throw ScimError.invalidSyntax('"op" is required: "add", "remove" or "replace"');
  // Op names are case-insensitive: Entra sends "Add", "Replace", "Remove".
  const op = typeof opValue === 'string' ? opValue.trim().toLowerCase() : '';
  if (!OP_NAMES.has(op)) {
    const shown = typeof opValue === 'string' ? `"${opValue.slice(0, 40)}"` : describeJsonType(opValue);
    throw ScimError.invalidSyntax(`"op" must be "add", "remove" or "replace", got ${shown}`);
  }
  const pathValue = getMember(operation, 'path', label);
  if (pathValue !== undefined && pathValue !== null && typeof pathValue !== 'string') {
    throw ScimError.invalidPath(`"path" must be a string, got ${describeJsonType(pathValue)}`);
  }
  // A blank path is read as no path: some clients send `"path": ""` for operations on the resource itself.
  const pathText = typeof pathValue === 'string' && pathValue.trim() !== '' ? pathValue : undefined;
  const path = pathText === undefined ? undefined : parsePatchPath(pathText);
  const value = getMember(operation, 'value', label);
  const name = op as PatchOpName;
  if (name === 'remove' && !path) throw ScimError.noTarget('remove needs a path (RFC 7644 §3.5.2.2)');
  if (name !== 'remove' && value === undefined) throw ScimError.invalidValue(`${name} needs a value`);
  if (name !== 'remove' && !path && !isJsonObject(value)) {
    throw ScimError.invalidValue(`${name} without a path needs an object value (the attributes to ${name}), got ${describeJsonType(value)}`);
  }
  return { index, op: name, path, pathText, value };
}
