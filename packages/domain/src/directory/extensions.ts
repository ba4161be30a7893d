import type { JsonObject } from './types.js';

// Extension values (RFC 7643 §3.3) as applications read them: a resource's `data` keeps each extension's
// attributes in an object under the extension's URN; no core attribute name starts with `urn:`.

/** The extension values of a user's or group's `data`, by URN: `{ "urn:...:acme:2.0:User": { costCenter: "4711" } }`. */
export function extensionsOf(record: { data: JsonObject }): Record<string, Record<string, unknown>> {
  const result: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(record.data)) {
    if (/^urn:/i.test(key) && typeof value === 'object' && value !== null && !Array.isArray(value)) result[key] = value as Record<string, unknown>;
  }
  return result;
}

/** One extension of a resource as the directory pages show it: declared by an admin, or kept unrecognized. */
export interface ExtensionValues {
  urn: string;
  /** False for values kept under `unknownExtensions: "keep"` that no declared extension owns. */
  declared: boolean;
  values: Record<string, unknown>;
}
