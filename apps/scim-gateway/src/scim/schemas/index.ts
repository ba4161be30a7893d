import { commonAttributes } from './common.js';
import { GROUP_SCHEMA, groupSchema } from './group.js';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA, enterpriseUserSchema, userSchema } from './user.js';
import type { AttributeDefinition, ResourceTypeDefinition, SchemaDefinition } from './types.js';

export * from './types.js';
export { USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, userSchema, enterpriseUserSchema, groupSchema, commonAttributes };

export type ResourceTypeName = 'User' | 'Group';

export const resourceTypes: Record<ResourceTypeName, ResourceTypeDefinition> = {
  User: {
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: USER_SCHEMA,
    schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
  },
  Group: {
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: GROUP_SCHEMA,
    schemaExtensions: [],
  },
};

export const schemas: SchemaDefinition[] = [userSchema, enterpriseUserSchema, groupSchema];

export function findSchema(urn: string): SchemaDefinition | undefined {
  const lower = urn.toLowerCase();
  return schemas.find((schema) => schema.id.toLowerCase() === lower);
}

/** A resource type's core schema and its extensions. */
type TypeSchemas = { core: SchemaDefinition; extensions: readonly SchemaDefinition[] };

function buildSchemasOf(type: ResourceTypeName): TypeSchemas {
  const definition = resourceTypes[type];
  return Object.freeze({
    core: findSchema(definition.schema)!,
    extensions: Object.freeze(definition.schemaExtensions.map((extension) => findSchema(extension.schema)!)),
  });
}

/** The schemas are fixed: each type's pair is built once, when this module loads. */
const SCHEMAS_OF: Record<ResourceTypeName, TypeSchemas> = {
  User: buildSchemasOf('User'),
  Group: buildSchemasOf('Group'),
};

/** The core schema of a resource type, plus its extensions, each with the attributes common to all resources. */
export function schemasOf(type: ResourceTypeName): TypeSchemas {
  return SCHEMAS_OF[type];
}

export interface ResolvedAttribute {
  /** URN of the schema that defines the attribute. */
  schema: string;
  /** True for attributes of an extension schema: stored and returned under the extension's URN key. */
  extension: boolean;
  /** The top-level attribute. */
  attribute: AttributeDefinition;
  /** The sub-attribute, when the path names one. */
  subAttribute?: AttributeDefinition;
}

/** Each attribute list by lower-cased name, built on first use: every body key and sub-key is looked up here. */
const attributeIndexes = new WeakMap<readonly AttributeDefinition[], Map<string, AttributeDefinition>>();

export function findAttribute(list: readonly AttributeDefinition[] | undefined, name: string): AttributeDefinition | undefined {
  if (!list) return undefined;
  let index = attributeIndexes.get(list);
  if (!index) {
    index = new Map();
    // The first of two spellings wins, as a search of the list would find it.
    for (const attribute of list) if (!index.has(attribute.name.toLowerCase())) index.set(attribute.name.toLowerCase(), attribute);
    attributeIndexes.set(list, index);
  }
  return index.get(name.toLowerCase());
}

/**
 * Resolves an attribute path written as `[schemaURN:]attribute[.subAttribute]` (RFC 7644 §3.10), matching
 * names case-insensitively (RFC 7643 §2.1). Returns canonical definitions, or undefined when nothing matches.
 * A URN of the resource's core schema may prefix core and common attributes.
 */
export function resolveAttributePath(
  type: ResourceTypeName,
  path: { uri?: string | undefined; attribute: string; subAttribute?: string | undefined },
): ResolvedAttribute | undefined {
  const { core, extensions } = schemasOf(type);
  let schema: SchemaDefinition;
  let extension = false;
  if (path.uri) {
    const lower = path.uri.toLowerCase();
    if (core.id.toLowerCase() === lower) schema = core;
    else {
      const found = extensions.find((candidate) => candidate.id.toLowerCase() === lower);
      if (!found) return undefined;
      schema = found;
      extension = true;
    }
  } else {
    schema = core;
  }
  const attribute = findAttribute(schema.attributes, path.attribute) ?? (extension ? undefined : findAttribute(commonAttributes, path.attribute));
  if (!attribute) return undefined;
  if (path.subAttribute === undefined) return { schema: schema.id, extension, attribute };
  const subAttribute = findAttribute(attribute.subAttributes, path.subAttribute);
  if (!subAttribute) return undefined;
  return { schema: schema.id, extension, attribute, subAttribute };
}

/** Splits `urn:...:User:name.givenName` into the URN and the attribute path (RFC 7644 §3.10). */
export function splitUrnPath(path: string, type: ResourceTypeName): { uri?: string; rest: string } {
  const lower = path.toLowerCase();
  const { core, extensions } = schemasOf(type);
  for (const schema of [core, ...extensions]) {
    const prefix = `${schema.id.toLowerCase()}:`;
    if (lower.startsWith(prefix)) return { uri: schema.id, rest: path.slice(prefix.length) };
  }
  return { rest: path };
}
