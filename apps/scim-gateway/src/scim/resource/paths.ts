// Resolution of attribute names as clients write them: body keys (`userName`, `USERNAME`, `name.givenName`,
// `urn:...:enterprise:2.0:User:department`, the extension URN itself) and parsed PATCH paths, to canonical
// schema definitions. Used by normalize.ts, project.ts and the PATCH engine alike.

import type { AttributePath } from '../filter/ast.js';
import {
  currentSchemas,
  resolveAttributePath,
  schemasOf,
  splitUrnPath,
  type AttributeDefinition,
  type ResourceTypeName,
  type SchemaDefinition,
} from '../schemas/index.js';

export type ResolvedName =
  /** The `schemas` member of a resource (RFC 7643 §3). */
  | { kind: 'schemas' }
  /** An extension schema's URN: its attributes sit in an object under this key (RFC 7643 §3.3). */
  | { kind: 'extension'; schema: SchemaDefinition }
  | {
      kind: 'attribute';
      /** URN of the extension holding the attribute; undefined for core and common attributes. */
      extension: string | undefined;
      attribute: AttributeDefinition;
      subAttribute: AttributeDefinition | undefined;
      /** Canonical spelling for messages: `name.givenName`, `urn:...:enterprise:2.0:User:manager`. */
      label: string;
    }
  /** A schema URN this resource type does not have (Entra adds Microsoft ones), or an unknown attribute. */
  | { kind: 'unknown'; what: 'schema' | 'attribute' };

export function findExtension(type: ResourceTypeName, urn: string): SchemaDefinition | undefined {
  const lower = urn.toLowerCase();
  return schemasOf(type).extensions.find((schema) => schema.id.toLowerCase() === lower);
}

/** Resolves a parsed attribute path (filter/ast.ts) of a PATCH operation or an `attributes=` entry. */
export function resolveParsedPath(type: ResourceTypeName, path: AttributePath): ResolvedName {
  if (path.uri !== undefined && path.subAttribute === undefined) {
    // The filter parser cuts an unknown URN at its last colon, so the extension URN alone arrives as
    // { uri: "urn:...:2.0", attribute: "User" }.
    const schema = findExtension(type, `${path.uri}:${path.attribute}`);
    if (schema) return { kind: 'extension', schema };
  }
  const resolved = resolveAttributePath(type, path);
  if (!resolved) {
    if (path.uri !== undefined) {
      const { core } = schemasOf(type);
      const known = core.id.toLowerCase() === path.uri.toLowerCase() || findExtension(type, path.uri) !== undefined;
      if (!known) return { kind: 'unknown', what: 'schema' };
    }
    return { kind: 'unknown', what: 'attribute' };
  }
  const extension = resolved.extension ? resolved.schema : undefined;
  const prefix = extension ? `${extension}:` : '';
  const label = `${prefix}${resolved.attribute.name}${resolved.subAttribute ? `.${resolved.subAttribute.name}` : ''}`;
  return { kind: 'attribute', extension, attribute: resolved.attribute, subAttribute: resolved.subAttribute, label };
}

/**
 * Resolved member names by resource type (per schema set). Every user of a /Bulk request spells the same dozen keys, and
 * resolving one walks the schemas; the answers are fixed, so they are kept. Clients choose the keys, so only
 * the first MAX_REMEMBERED_NAMES of at most MAX_REMEMBERED_LENGTH characters are kept per type: bodies of
 * random or megabyte-long keys cannot grow the process (the longest real name, the enterprise manager's
 * `urn:...:2.0:User:manager.value`, has 72).
 */
const MAX_REMEMBERED_NAMES = 1000;
const MAX_REMEMBERED_LENGTH = 200;

/** Resolves a member name of a body or of a PATCH value object (RFC 7644 §3.5.2.1: keys may be paths). */
export function resolveMemberName(type: ResourceTypeName, key: string): ResolvedName {
  // Kept with the schema set of the request: a declared extension changes what a name means.
  const remembered = currentSchemas().memberNames[type] as Map<string, ResolvedName>;
  let resolved = remembered.get(key);
  if (resolved === undefined) {
    resolved = Object.freeze(resolveMemberNameOnce(type, key));
    if (remembered.size < MAX_REMEMBERED_NAMES && key.length <= MAX_REMEMBERED_LENGTH) remembered.set(key, resolved);
  }
  return resolved;
}

function resolveMemberNameOnce(type: ResourceTypeName, key: string): ResolvedName {
  if (key.toLowerCase() === 'schemas') return { kind: 'schemas' };
  const schema = findExtension(type, key);
  if (schema) return { kind: 'extension', schema };
  let uri: string | undefined;
  let rest = key;
  if (/^urn:/i.test(key)) {
    const split = splitUrnPath(key, type);
    if (split.uri === undefined) return { kind: 'unknown', what: 'schema' };
    uri = split.uri;
    rest = split.rest;
  }
  const parts = rest.split('.');
  if (parts.length > 2 || parts.some((part) => part === '')) return { kind: 'unknown', what: 'attribute' };
  return resolveParsedPath(type, { ...(uri === undefined ? {} : { uri }), attribute: parts[0]!, ...(parts[1] === undefined ? {} : { subAttribute: parts[1] }) });
}
