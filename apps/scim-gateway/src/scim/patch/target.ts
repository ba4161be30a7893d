// The one path resolver of the PATCH engine: a parsed `path` of an operation, and every key of a path-less
// value object (`"name.givenName"`, `"urn:...:enterprise:2.0:User:manager"`), become a Target here.

import { ScimError } from '../errors.js';
import type { AttributePath, Filter, PatchPath } from '../filter/ast.js';
import { parsePatchPath } from '../filter/parser.js';
import { validateValueFilter } from '../filter/validate.js';
import { findAttribute, type ResourceTypeName, type SchemaDefinition } from '../schemas/index.js';
import { resolveMemberName, resolveParsedPath, type ResolvedName } from '../resource/paths.js';

export type Target =
  /** The extension object as a whole (path = the extension URN). */
  | Extract<ResolvedName, { kind: 'extension' }>
  /** A resolved attribute (resource/paths.ts); its subAttribute may also be the `.value` after `emails[type eq "work"]`. */
  | (Extract<ResolvedName, { kind: 'attribute' }> & {
      valueFilter: Filter | undefined;
      /** The attribute's path as written, for evaluating the value filter. */
      attributePath: AttributePath;
    })
  /**
   * Nothing to do: an attribute of a schema this resource type does not have (Entra sends Microsoft URNs), or
   * `password`, which is accepted and never stored.
   */
  | { kind: 'ignored' }
  /**
   * A path or value key under a URN no extension owns, or an attribute a declared extension lacks: refused or
   * kept verbatim by the applier, per the unknownExtensions setting. `urn` is known for a parsed path; for a
   * value key the applier splits `key` once it sees the value (resource/normalize.ts splitUnknownKey).
   */
  | { kind: 'unrecognized'; key: string; urn?: string; attribute?: string };

/** Resolves the parsed `path` of an operation. Unknown attributes are invalidPath (RFC 7644 §3.5.2, Table 9). */
export function resolvePathTarget(type: ResourceTypeName, path: PatchPath, pathText: string): Target {
  const name = resolveParsedPath(type, path.path);
  return targetOf(type, name, path, pathText, { strict: true });
}

/**
 * Resolves a key of a path-less add/replace value (RFC 7644 §3.5.2.1: "the value MUST contain ... attributes";
 * Entra and others write keys as paths). Unknown keys are ignored like unknown attributes of a POST body;
 * `id`, `meta` and `schemas` are ignored silently (Okta's group rename carries `id`, RFC 7644 §3.5.2.3).
 */
export function resolveValueKeyTarget(type: ResourceTypeName, key: string, extension?: SchemaDefinition): Target {
  const lower = key.toLowerCase();
  if (!extension && (lower === 'id' || lower === 'meta' || lower === 'schemas')) return { kind: 'ignored' };
  if (!extension && key.includes('[')) {
    const path = parsePatchPath(key);
    return targetOf(type, resolveParsedPath(type, path.path), path, key, { strict: false });
  }
  let name: ResolvedName;
  if (extension) {
    const [attribute, subAttribute, ...more] = key.split('.');
    if (more.length > 0 || !attribute) return { kind: 'ignored' };
    name = resolveParsedPath(type, { uri: extension.id, attribute, ...(subAttribute === undefined ? {} : { subAttribute }) });
    if (name.kind === 'unknown') return { kind: 'unrecognized', key, urn: extension.id, attribute: key };
  } else {
    name = resolveMemberName(type, key);
  }
  if (name.kind === 'schemas') return { kind: 'ignored' };
  const path: PatchPath = { path: { attribute: key } };
  return targetOf(type, name, path, key, { strict: false });
}

function targetOf(type: ResourceTypeName, name: ResolvedName, path: PatchPath, written: string, options: { strict: boolean }): Target {
  switch (name.kind) {
    case 'schemas':
      throw ScimError.mutability(`"${written}": schemas is set by the server`);
    case 'unknown':
      if (name.what === 'schema') {
        // An unknown URN: `urn:...:User` alone, or cut at its last colon by the parser (`urn:...:User` +
        // `costCenter`). Only whole attributes can be kept; refused under "reject" either way.
        const { uri, attribute, subAttribute } = path.path;
        if (!options.strict) return { kind: 'unrecognized', key: written };
        if (subAttribute !== undefined || path.valueFilter || path.subAttribute !== undefined || uri === undefined) {
          return { kind: 'unrecognized', key: written, urn: uri ?? written, attribute: '' };
        }
        return { kind: 'unrecognized', key: written, urn: uri, attribute };
      }
      if (!options.strict) {
        // A URN-prefixed key naming an attribute a declared extension lacks; other unknown keys are ignored
        // like unknown attributes of a POST body (RFC 7644 §3.3).
        return /^urn:/i.test(written) ? { kind: 'unrecognized', key: written } : { kind: 'ignored' };
      }
      throw ScimError.invalidPath(`"${written}" is not an attribute of a ${type}`);
    case 'extension':
      if (path.valueFilter) throw ScimError.invalidPath(`"${written}": a value filter needs a complex attribute, not a schema`);
      return { kind: 'extension', schema: name.schema };
    case 'attribute':
      break;
  }
  const { attribute, extension } = name;
  let subAttribute = name.subAttribute;
  let label = name.label;
  if (path.valueFilter) {
    // The parser refuses `a.b[...]`; here the attribute must be complex and the filter must fit its values.
    validateValueFilter(type, path.path, path.valueFilter, 'invalidPath');
    if (path.subAttribute !== undefined) {
      subAttribute = findAttribute(attribute.subAttributes, path.subAttribute);
      if (!subAttribute) throw ScimError.invalidPath(`"${written}": ${attribute.name} has no sub-attribute "${path.subAttribute}"`);
      label = `${label}[...].${subAttribute.name}`;
    } else {
      label = `${label}[...]`;
    }
  }
  if (attribute.mutability === 'writeOnly') return { kind: 'ignored' };
  if (attribute.mutability === 'readOnly') {
    if (!options.strict && (attribute.name === 'id' || attribute.name === 'meta')) return { kind: 'ignored' };
    throw ScimError.mutability(`${attribute.name} is readOnly (RFC 7643 §2.2)`);
  }
  if (subAttribute?.mutability === 'readOnly') throw ScimError.mutability(`${attribute.name}.${subAttribute.name} is readOnly (RFC 7643 §2.2)`);
  return { kind: 'attribute', extension, attribute, subAttribute, valueFilter: path.valueFilter, attributePath: path.path, label };
}
