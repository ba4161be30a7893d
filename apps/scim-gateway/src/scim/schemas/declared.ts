// Extension schemas declared by an admin (packages/domain schema-extensions.ts) as schema definitions of the
// SCIM layer, and the schema set a request is served with (schemas/index.ts `withSchemas`).

import { extensionIndexes, type ExtensionAttribute, type SchemaExtension, type UnknownExtensionsPolicy } from '@roster/domain';
import { rememberUniqueIndexes } from '../db-errors.js';
import { buildSchemaSet, type DeclaredExtension, type SchemaSet } from './index.js';
import type { AttributeDefinition } from './types.js';

/** RFC 7643 §7 characteristics only: Roster's `filterable` is an index, not part of the published schema. */
function attributeOf(attribute: ExtensionAttribute): AttributeDefinition {
  const definition: AttributeDefinition = {
    name: attribute.name,
    type: attribute.type,
    multiValued: attribute.multiValued,
    description: attribute.description,
    required: attribute.required,
    caseExact: attribute.caseExact,
    mutability: attribute.mutability,
    returned: attribute.returned,
    uniqueness: attribute.uniqueness,
  };
  if (attribute.canonicalValues) definition.canonicalValues = attribute.canonicalValues;
  if (attribute.referenceTypes) definition.referenceTypes = attribute.referenceTypes;
  if (attribute.type === 'complex') definition.subAttributes = (attribute.subAttributes ?? []).map(attributeOf);
  return definition;
}

export function declaredExtensionOf(extension: SchemaExtension): DeclaredExtension {
  return {
    resourceType: extension.resourceType,
    required: extension.required,
    schema: { id: extension.urn, name: extension.name, description: extension.description, attributes: extension.attributes.map(attributeOf) },
  };
}

/** The schema set now: awaited (`source()`), or without awaiting while both sources answer from memory (`source.now()`). */
export type SchemaSetSource = (() => Promise<SchemaSet>) & {
  /** The set for the cached declarations and setting, or undefined when either must be read (then await the source). */
  now(): SchemaSet | undefined;
};

/**
 * The schema set for the current declarations and setting. Both sources are cached by their services (2 s);
 * the set is rebuilt only when one of them changed, so a request pays two map lookups, not a rebuild. While
 * both caches are fresh (`peek`) a request resolves it without an await (`now()`).
 */
export function createSchemaSetSource(deps: {
  current: () => Promise<SchemaExtension[]>;
  policy: () => Promise<UnknownExtensionsPolicy>;
  peek?: () => { extensions: SchemaExtension[]; policy: UnknownExtensionsPolicy } | undefined;
}): SchemaSetSource {
  let last: { extensions: SchemaExtension[]; policy: UnknownExtensionsPolicy; set: SchemaSet } | undefined;
  const setOf = (extensions: SchemaExtension[], policy: UnknownExtensionsPolicy): SchemaSet => {
    if (last && last.extensions === extensions && last.policy === policy) return last.set;
    const uniqueIndexes = new Map<string, string>();
    for (const extension of extensions) {
      for (const index of extensionIndexes(extension)) if (index.unique) uniqueIndexes.set(index.name, index.label);
    }
    rememberUniqueIndexes(uniqueIndexes);
    const set = buildSchemaSet(extensions.map(declaredExtensionOf), { unknownExtensions: policy, uniqueIndexes });
    last = { extensions, policy, set };
    return set;
  };
  const source = async (): Promise<SchemaSet> => {
    const [extensions, policy] = await Promise.all([deps.current(), deps.policy()]);
    return setOf(extensions, policy);
  };
  return Object.assign(source, {
    now(): SchemaSet | undefined {
      const cached = deps.peek?.();
      return cached ? setOf(cached.extensions, cached.policy) : undefined;
    },
  });
}
