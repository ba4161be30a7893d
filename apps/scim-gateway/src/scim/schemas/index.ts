import { AsyncLocalStorage } from 'node:async_hooks';
import { commonAttributes } from './common.js';
import { GROUP_SCHEMA, groupSchema } from './group.js';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA, enterpriseUserSchema, userSchema } from './user.js';
import type { AttributeDefinition, ResourceTypeDefinition, SchemaDefinition } from './types.js';

export * from './types.js';
export { USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, userSchema, enterpriseUserSchema, groupSchema, commonAttributes };

export type ResourceTypeName = 'User' | 'Group';

/** The built-in resource types (RFC 7643 §6); declared extensions are added per schema set. */
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

/** A resource type's core schema and its extensions, each with the attributes common to all resources. */
type TypeSchemas = {
  core: SchemaDefinition;
  extensions: readonly SchemaDefinition[];
  /** URNs of the extensions every resource of the type must carry (RFC 7643 §6 `required`). */
  requiredExtensions: readonly string[];
};

/** An extension schema an admin declared (packages/domain schema-extensions.ts), as the protocol layer sees it. */
export interface DeclaredExtension {
  schema: SchemaDefinition;
  resourceType: ResourceTypeName;
  required: boolean;
}

/**
 * Everything the SCIM layer knows about schemas while it serves one request: the built-in schemas, the
 * extensions declared when the request started, and what to do with a URN none of them owns. Built once per
 * change of the declarations (routes/index.ts) and bound to the request with `withSchemas`, so every function
 * below answers for the schemas of the request it serves, also with two gateways in one process (tests).
 */
export interface SchemaSet {
  resourceTypes: Readonly<Record<ResourceTypeName, ResourceTypeDefinition>>;
  schemas: readonly SchemaDefinition[];
  of: Readonly<Record<ResourceTypeName, TypeSchemas>>;
  /** A URN no schema owns (RFC 7643 §3.3): refuse with 400 invalidValue, or keep its values verbatim. */
  unknownExtensions: 'reject' | 'keep';
  /** Unique expression index name -> the attribute it keeps unique (`urn:...:User:badgeNumber`), for 409 messages. */
  uniqueIndexes: ReadonlyMap<string, string>;
  /**
   * Whether a type has declared extension attributes that are not returned by default (RFC 7643 §7 `returned`
   * "never" or "request"): its responses then always go through the projection (resource/project.ts), never
   * the unparsed-document fast path.
   */
  hidesByDefault: Readonly<Record<ResourceTypeName, boolean>>;
  /** Resolved body keys, per type (resource/paths.ts keeps them; they hold only for this set). */
  memberNames: Record<ResourceTypeName, Map<string, unknown>>;
  /**
   * No declared extension, no unique index and the default policy (`reject`): the set answers exactly as the
   * built-in one outside a request, so `withSchemas` need not bind it (see there).
   */
  builtInOnly: boolean;
}

export function buildSchemaSet(declared: readonly DeclaredExtension[] = [], options: { unknownExtensions?: 'reject' | 'keep'; uniqueIndexes?: ReadonlyMap<string, string> } = {}): SchemaSet {
  const types = {} as Record<ResourceTypeName, ResourceTypeDefinition>;
  const of = {} as Record<ResourceTypeName, TypeSchemas>;
  const builtIn = [userSchema, enterpriseUserSchema, groupSchema];
  const all: SchemaDefinition[] = [...builtIn, ...declared.map((extension) => extension.schema)];
  for (const name of ['User', 'Group'] as const) {
    const base = resourceTypes[name];
    const mine = declared.filter((extension) => extension.resourceType === name);
    const schemaExtensions = [...base.schemaExtensions, ...mine.map((extension) => ({ schema: extension.schema.id, required: extension.required }))];
    types[name] = Object.freeze({ ...base, schemaExtensions });
    of[name] = Object.freeze({
      core: builtIn.find((schema) => schema.id === base.schema)!,
      extensions: Object.freeze(schemaExtensions.map((extension) => all.find((schema) => schema.id === extension.schema)!)),
      requiredExtensions: Object.freeze(schemaExtensions.filter((extension) => extension.required).map((extension) => extension.schema)),
    });
  }
  const hides = (list: readonly AttributeDefinition[] = []): boolean => list.some((attribute) => attribute.returned === 'never' || attribute.returned === 'request' || hides(attribute.subAttributes));
  const hidesByDefault = {
    User: declared.some((extension) => extension.resourceType === 'User' && hides(extension.schema.attributes)),
    Group: declared.some((extension) => extension.resourceType === 'Group' && hides(extension.schema.attributes)),
  };
  return {
    hidesByDefault: Object.freeze(hidesByDefault),
    resourceTypes: Object.freeze(types),
    schemas: Object.freeze(all),
    of: Object.freeze(of),
    unknownExtensions: options.unknownExtensions ?? 'reject',
    uniqueIndexes: options.uniqueIndexes ?? new Map(),
    memberNames: { User: new Map(), Group: new Map() },
    builtInOnly: declared.length === 0 && (options.unknownExtensions ?? 'reject') === 'reject' && (options.uniqueIndexes?.size ?? 0) === 0,
  };
}

/** Outside a request (unit tests, tools): the built-in schemas, with the default of new installs for unknown URNs. */
const BUILT_IN = buildSchemaSet();
const current = new AsyncLocalStorage<SchemaSet>();

/** The schema set of the request being served (or the built-in one). */
export function currentSchemas(): SchemaSet {
  return current.getStore() ?? BUILT_IN;
}

// Whether any set was ever bound in this process. On Node 20 the first AsyncLocalStorage.run installs promise
// hooks that then run for every promise of the process (pg, knex, Koa): measured as the largest part of the
// gateway's extra CPU per filtered GET and GET by id after extensions were added (docs/benchmarks.md).
let bound = false;

/**
 * Runs `work` (and everything it awaits) with `set` as the current schemas. A set of the built-in schemas alone
 * (no declared extensions, the default policy) is not bound while no other set ever was: without a binding
 * `currentSchemas()` answers with the built-in set, which answers the same. Once one set has been bound every
 * set is, so that no request could see a set it did not start with.
 */
export function withSchemas<T>(set: SchemaSet, work: () => T): T {
  if (!bound && set.builtInOnly) return work();
  bound = true;
  return current.run(set, work);
}

/** Every schema (RFC 7644 §4: /Schemas). */
export function allSchemas(): readonly SchemaDefinition[] {
  return currentSchemas().schemas;
}

export function findSchema(urn: string): SchemaDefinition | undefined {
  const lower = urn.toLowerCase();
  return currentSchemas().schemas.find((schema) => schema.id.toLowerCase() === lower);
}

/** The core schema of a resource type, plus its extensions, each with the attributes common to all resources. */
export function schemasOf(type: ResourceTypeName): TypeSchemas {
  return currentSchemas().of[type];
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
