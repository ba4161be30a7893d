import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { createAuditService } from './audit.js';
import { isUuid } from './directory/rows.js';
import { DomainError, assertThat, mapUniqueViolations } from './errors.js';

// Extension schemas declared by an admin (RFC 7643 §3.3): a URN, the resource type it extends, and its
// attributes with the characteristics of RFC 7643 §7. The SCIM gateway reads them (cached, see
// SCHEMA_EXTENSIONS_CACHE_MS) to validate, store, filter and describe extension values; the values themselves
// live in the resource's `data` under the URN key, like the enterprise extension's.
//
// Indexes: an attribute marked `filterable` gets an expression index on `users`/`groups`, one with
// `uniqueness: "server"` a unique expression index (which also serves filters). Both are created and dropped
// here, in the transaction that changes the extension: a plain CREATE INDEX (CREATE INDEX CONCURRENTLY cannot
// run in a transaction, and the embedded database has a single connection). On PostgreSQL the build holds a
// SHARE lock on the table: SCIM writes to that resource type wait for it (0.3 s for 100,000 users, bench/extension-filter.ts);
// reads go on. The expression is exactly the one the filter compiler writes (apps/scim-gateway/src/scim/filter/
// compile-sql.ts), which is what lets PostgreSQL use the index; a test EXPLAINs a filter to hold them equal.

export type ExtensionResourceType = 'User' | 'Group';
export type ExtensionAttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex';
export type ExtensionMutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type ExtensionReturned = 'always' | 'never' | 'default' | 'request';

/** One attribute as RFC 7643 §7 describes it, plus Roster's `filterable` (an index). Every field is filled. */
export interface ExtensionAttribute {
  name: string;
  type: ExtensionAttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: ExtensionMutability;
  returned: ExtensionReturned;
  /** RFC 7643 §7 also has "global"; Roster can enforce only what it holds: none or server. */
  uniqueness: 'none' | 'server';
  canonicalValues?: string[];
  referenceTypes?: string[];
  /** complex only: simple sub-attributes, one level deep (RFC 7643 §2.3.8). */
  subAttributes?: ExtensionAttribute[];
  /** Keep an index for filters on this attribute (single-valued, simple types). */
  filterable: boolean;
}

export interface SchemaExtension {
  id: string;
  urn: string;
  resourceType: ExtensionResourceType;
  /** RFC 7643 §6 `schemaExtensions[].required`: every resource of the type must carry the extension. */
  required: boolean;
  name: string;
  description: string;
  attributes: ExtensionAttribute[];
  /** Starts at 1, grows with every change of the declaration. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface SchemaExtensionInput {
  urn: string;
  resourceType: ExtensionResourceType;
  required?: boolean;
  name?: string;
  description?: string;
  attributes: unknown[];
}

export interface SchemaExtensionChange {
  required?: boolean;
  name?: string;
  description?: string;
  attributes?: unknown[];
}

/** A change that would lose stored values, as reported before the admin confirms it. */
export interface DestructiveChange {
  attribute: string;
  change: 'removed' | 'retyped';
  /** Resources holding a value of the attribute. */
  resourcesWithValues: number;
}

/**
 * How long `current()` may answer from memory. Every SCIM request reads the declarations; a change clears the
 * cache of the process that made it at once and reaches other processes sharing the database within this bound.
 */
export const SCHEMA_EXTENSIONS_CACHE_MS = 2000;

export const MAX_EXTENSION_ATTRIBUTES = 100;
const MAX_SUB_ATTRIBUTES = 50;
const MAX_CANONICAL_VALUES = 200;

const TYPES: readonly ExtensionAttributeType[] = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex'];
const MUTABILITIES: readonly ExtensionMutability[] = ['readOnly', 'readWrite', 'immutable', 'writeOnly'];
const RETURNED: readonly ExtensionReturned[] = ['always', 'never', 'default', 'request'];

// RFC 7643 §2.1: ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA. `$ref` is the one
// sub-attribute name outside that grammar (RFC 7643 §2.4).
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
// RFC 8141 §2: "urn:" NID ":" NSS. Colons separate the URN from attribute names in paths (RFC 7644 §3.10), so
// the URN may not end with one; whitespace, quotes and brackets would break filters and paths.
const URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\s"'[\]()]+$/i;
/** Schemas Roster defines itself: no admin declaration may reuse or shadow them. */
const RESERVED_URN_PREFIXES = ['urn:ietf:params:scim:schemas:core:', 'urn:ietf:params:scim:api:', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user'];

function invalid(message: string, field: string): DomainError {
  return DomainError.invalidInput(message, field);
}

/** Checks a URN as an extension's id; returns it as given (its spelling is the one served). */
export function validateExtensionUrn(urn: unknown): string {
  if (typeof urn !== 'string' || !URN.test(urn) || urn.endsWith(':') || urn.length > 300) {
    throw invalid('urn must be a URN such as urn:ietf:params:scim:schemas:extension:acme:2.0:User (RFC 8141), without spaces, quotes or a trailing colon', 'urn');
  }
  const lower = urn.toLowerCase();
  if (RESERVED_URN_PREFIXES.some((prefix) => lower.startsWith(prefix))) {
    throw invalid(`urn ${urn} is a schema Roster defines itself; choose your own, e.g. urn:ietf:params:scim:schemas:extension:acme:2.0:User`, 'urn');
  }
  return urn;
}

function oneOfValues<T extends string>(value: unknown, allowed: readonly T[], fallback: T, at: string): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${at} must be one of ${allowed.join(', ')}`, at);
  }
  return value as T;
}

function flag(value: unknown, fallback: boolean, at: string): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${at} must be true or false`, at);
  return value;
}

function stringList(value: unknown, at: string, max: number): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > max || !value.every((entry) => typeof entry === 'string' && entry.length > 0 && entry.length <= 200)) {
    throw invalid(`${at} must be a list of at most ${max} non-empty strings`, at);
  }
  return [...new Set(value as string[])];
}

/**
 * Checks one attribute declaration and fills the RFC 7643 §2.2 defaults (not required, single-valued,
 * readWrite, returned by default, no uniqueness, caseExact false). `sub` marks a sub-attribute of a complex one.
 */
function normalizeAttribute(raw: unknown, at: string, sub: boolean): ExtensionAttribute {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`${at} must be an object`, at);
  const input = raw as Record<string, unknown>;
  const known = new Set(['name', 'type', 'multiValued', 'description', 'required', 'caseExact', 'mutability', 'returned', 'uniqueness', 'canonicalValues', 'referenceTypes', 'subAttributes', 'filterable']);
  const stray = Object.keys(input).find((key) => !known.has(key));
  if (stray) throw invalid(`${at}.${stray} is not an attribute characteristic (RFC 7643 §7)`, `${at}.${stray}`);
  const name = input.name;
  if (typeof name !== 'string' || !(ATTRIBUTE_NAME.test(name) || (sub && name === '$ref'))) {
    throw invalid(`${at}.name must start with a letter and hold only letters, digits, "-" and "_" (RFC 7643 §2.1)`, `${at}.name`);
  }
  const label = `${at} (${name})`;
  if (input.type === undefined) throw invalid(`${label}.type is required: one of ${TYPES.join(', ')}`, `${at}.type`);
  const type = oneOfValues(input.type, TYPES, 'string', `${at}.type`);
  if (sub && type === 'complex') throw invalid(`${label}: a sub-attribute cannot be complex; sub-attributes are one level deep (RFC 7643 §2.3.8)`, `${at}.type`);
  const description = input.description ?? '';
  if (typeof description !== 'string' || description.length > 2000) throw invalid(`${label}.description must be a string of at most 2000 characters`, `${at}.description`);
  const mutability = oneOfValues(input.mutability, MUTABILITIES, 'readWrite', `${at}.mutability`);
  const returned = oneOfValues(input.returned, RETURNED, mutability === 'writeOnly' ? 'never' : 'default', `${at}.returned`);
  if (mutability === 'writeOnly' && returned !== 'never') throw invalid(`${label}: a writeOnly attribute must have returned "never" (RFC 7643 §7)`, `${at}.returned`);
  if (input.uniqueness === 'global') throw invalid(`${label}.uniqueness "global" cannot be enforced by one service provider; use "server"`, `${at}.uniqueness`);
  const uniqueness = oneOfValues(input.uniqueness, ['none', 'server'] as const, 'none', `${at}.uniqueness`);
  const attribute: ExtensionAttribute = {
    name,
    type,
    multiValued: flag(input.multiValued, false, `${at}.multiValued`),
    description,
    required: flag(input.required, false, `${at}.required`),
    caseExact: flag(input.caseExact, false, `${at}.caseExact`),
    mutability,
    returned,
    uniqueness,
    filterable: flag(input.filterable, false, `${at}.filterable`),
  };
  const canonicalValues = stringList(input.canonicalValues, `${at}.canonicalValues`, MAX_CANONICAL_VALUES);
  if (canonicalValues) {
    if (type !== 'string') throw invalid(`${label}.canonicalValues apply to string attributes only`, `${at}.canonicalValues`);
    attribute.canonicalValues = canonicalValues;
  }
  const referenceTypes = stringList(input.referenceTypes, `${at}.referenceTypes`, 20);
  if (type === 'reference') {
    // RFC 7643 §7: referenceTypes is required on every reference attribute.
    if (!referenceTypes || referenceTypes.length === 0) throw invalid(`${label}: a reference attribute needs referenceTypes, e.g. ["external"] or ["User"] (RFC 7643 §7)`, `${at}.referenceTypes`);
    attribute.referenceTypes = referenceTypes;
  } else if (referenceTypes) {
    throw invalid(`${label}.referenceTypes apply to reference attributes only`, `${at}.referenceTypes`);
  }
  if (type === 'complex') {
    const list = input.subAttributes;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SUB_ATTRIBUTES) {
      throw invalid(`${label}: a complex attribute needs 1 to ${MAX_SUB_ATTRIBUTES} subAttributes`, `${at}.subAttributes`);
    }
    attribute.subAttributes = normalizeAttributeList(list, `${at}.subAttributes`, true);
  } else if (input.subAttributes !== undefined && input.subAttributes !== null) {
    throw invalid(`${label}.subAttributes apply to complex attributes only`, `${at}.subAttributes`);
  }
  if (sub && (attribute.filterable || attribute.uniqueness === 'server')) {
    throw invalid(`${label}: filterable and uniqueness "server" are set on top-level attributes only`, at);
  }
  const indexable = !attribute.multiValued && type !== 'complex' && type !== 'dateTime';
  if (attribute.filterable && !indexable) {
    throw invalid(`${label}: only single-valued string, reference, boolean, integer and decimal attributes can be marked filterable (others are filtered without an index)`, `${at}.filterable`);
  }
  if (attribute.uniqueness === 'server' && (!indexable || type === 'boolean')) {
    throw invalid(`${label}: uniqueness "server" is enforced on single-valued string, reference, integer and decimal attributes only`, `${at}.uniqueness`);
  }
  return attribute;
}

function normalizeAttributeList(list: unknown, at: string, sub: boolean): ExtensionAttribute[] {
  if (!Array.isArray(list)) throw invalid(`${at} must be a list of attributes`, at);
  if (list.length > MAX_EXTENSION_ATTRIBUTES) throw invalid(`${at} holds more than ${MAX_EXTENSION_ATTRIBUTES} attributes`, at);
  const seen = new Set<string>();
  return list.map((raw, index) => {
    const attribute = normalizeAttribute(raw, `${at}[${index}]`, sub);
    // RFC 7643 §2.1: attribute names are case-insensitive.
    const lower = attribute.name.toLowerCase();
    if (seen.has(lower)) throw invalid(`${at}[${index}]: ${attribute.name} is declared twice (names are case-insensitive, RFC 7643 §2.1)`, `${at}[${index}].name`);
    seen.add(lower);
    return attribute;
  });
}

/** Validates a list of attribute declarations (admin input) and fills defaults. Throws DomainError invalid_input. */
export function normalizeExtensionAttributes(list: unknown): ExtensionAttribute[] {
  return normalizeAttributeList(list, 'attributes', false);
}

// ---- indexes ----------------------------------------------------------------------------------------------

export interface ExtensionIndex {
  /** `users__ext_<hash>`: the hash covers everything the expression depends on, so a change makes a new name. */
  name: string;
  table: 'users' | 'groups';
  unique: boolean;
  /** `urn:...:User:costCenter`, for messages (a unique violation names it). */
  label: string;
  expression: string;
}

const sqlText = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * The SQL the filter compiler writes for the value of a top-level extension attribute of the row `alias`
 * (compile-sql.ts jsonOperand and compareString): text of a JSON string (lower-cased unless caseExact), a JSON
 * boolean, or a JSON number as numeric. Expression indexes must be written exactly like this to be used.
 */
export function extensionValueSql(alias: string, urn: string, attribute: Pick<ExtensionAttribute, 'name' | 'type' | 'caseExact'>): string {
  const json = `${alias ? `${alias}.` : ''}data->${sqlText(urn)}->${sqlText(attribute.name)}`;
  switch (attribute.type) {
    case 'boolean':
      return `(CASE WHEN jsonb_typeof(${json}) = 'boolean' THEN (${json})::boolean END)`;
    case 'integer':
    case 'decimal':
      return `(CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${json})::numeric END)`;
    default: {
      const text = `(CASE WHEN jsonb_typeof(${json}) = 'string' THEN ${json} #>> '{}' END)`;
      return attribute.caseExact ? text : `lower(${text})`;
    }
  }
}

/** The indexes an extension's attributes call for. */
export function extensionIndexes(extension: Pick<SchemaExtension, 'urn' | 'resourceType' | 'attributes'>): ExtensionIndex[] {
  const table = extension.resourceType === 'User' ? 'users' : 'groups';
  const indexes: ExtensionIndex[] = [];
  for (const attribute of extension.attributes) {
    const unique = attribute.uniqueness === 'server';
    if (!unique && !attribute.filterable) continue;
    const expression = extensionValueSql('', extension.urn, attribute);
    const hash = createHash('sha256').update(`${unique ? 'unique' : 'plain'}\n${expression}`).digest('hex').slice(0, 16);
    indexes.push({ name: `${table}__ext_${hash}`, table, unique, label: `${extension.urn}:${attribute.name}`, expression });
  }
  return indexes;
}

// ---- storage ----------------------------------------------------------------------------------------------

interface SchemaExtensionRow {
  id: string;
  urn: string;
  resource_type: ExtensionResourceType;
  required: boolean;
  name: string;
  description: string;
  attributes: unknown;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['id', 'urn', 'resource_type', 'required', 'name', 'description', 'attributes', 'version', 'created_at', 'updated_at'];

function toExtension(row: SchemaExtensionRow): SchemaExtension {
  const attributes = typeof row.attributes === 'string' ? (JSON.parse(row.attributes) as ExtensionAttribute[]) : (row.attributes as ExtensionAttribute[]);
  return {
    id: row.id,
    urn: row.urn,
    resourceType: row.resource_type,
    required: row.required,
    name: row.name,
    description: row.description,
    attributes,
    version: row.version,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

type Db = Knex | Knex.Transaction;

/** The default schema name shown by /Schemas: the last segment of the URN ("User" of ...:acme:2.0:User). */
function defaultName(urn: string): string {
  return urn.slice(urn.lastIndexOf(':') + 1) || urn;
}

/** Attributes whose stored values a change would invalidate: removed, or given another type or shape. */
function destructiveAttributes(before: ExtensionAttribute[], after: ExtensionAttribute[]): Array<{ name: string; change: 'removed' | 'retyped' }> {
  const next = new Map(after.map((attribute) => [attribute.name.toLowerCase(), attribute]));
  const result: Array<{ name: string; change: 'removed' | 'retyped' }> = [];
  for (const old of before) {
    const now = next.get(old.name.toLowerCase());
    if (!now) result.push({ name: old.name, change: 'removed' });
    else if (shapeOf(old) !== shapeOf(now)) result.push({ name: old.name, change: 'retyped' });
  }
  return result;
}

/** What stored values depend on: type, multiValued, and the same of every sub-attribute. */
function shapeOf(attribute: ExtensionAttribute): string {
  const subs = (attribute.subAttributes ?? []).map((sub) => `${sub.name.toLowerCase()}:${sub.type}:${sub.multiValued}`).sort();
  return `${attribute.type}:${attribute.multiValued}:${subs.join(',')}`;
}

export interface SchemaExtensionServiceOptions {
  now?: () => number;
  cacheMs?: number;
}

export function createSchemaExtensionService(knex: Knex, options: SchemaExtensionServiceOptions = {}) {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? SCHEMA_EXTENSIONS_CACHE_MS;
  const audit = createAuditService(knex);
  let cached: { value: SchemaExtension[]; at: number } | undefined;
  let pending: Promise<SchemaExtension[]> | undefined;
  let generation = 0;

  async function loadAll(db: Db = knex): Promise<SchemaExtension[]> {
    const rows = (await db('schema_extensions').select(COLUMNS).orderBy('created_at').orderBy('id')) as SchemaExtensionRow[];
    return rows.map(toExtension);
  }

  async function find(db: Db, id: string): Promise<SchemaExtension> {
    if (!isUuid(id)) throw DomainError.notFound('Schema extension', id);
    const row = (await db('schema_extensions').select(COLUMNS).where({ id }).first()) as SchemaExtensionRow | undefined;
    if (!row) throw DomainError.notFound('Schema extension', id);
    return toExtension(row);
  }

  function tableOf(type: ExtensionResourceType): 'users' | 'groups' {
    return type === 'User' ? 'users' : 'groups';
  }

  /** Resources of the extension's type holding a value of `attribute` (or of any attribute, without one). */
  async function countHolding(db: Db, extension: Pick<SchemaExtension, 'urn' | 'resourceType'>, attribute?: string): Promise<number> {
    const holder = attribute === undefined ? 'data -> ?::text' : 'data -> ?::text -> ?::text';
    const bindings = attribute === undefined ? [extension.urn] : [extension.urn, attribute];
    const row = (await db(tableOf(extension.resourceType)).whereRaw(`(${holder}) IS NOT NULL`, bindings).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  /**
   * Makes the extension indexes of one table match the declarations: creates the missing, drops the ones no
   * attribute asks for any more. Runs in the caller's transaction (see the top of this file for the locks).
   */
  async function syncIndexes(trx: Knex.Transaction, table: 'users' | 'groups'): Promise<void> {
    const type: ExtensionResourceType = table === 'users' ? 'User' : 'Group';
    const wanted = (await loadAll(trx)).filter((extension) => extension.resourceType === type).flatMap(extensionIndexes);
    const existing = ((await trx.raw(`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? AND indexname LIKE ?`, [table, `${table}\\_\\_ext\\_%`])) as { rows: Array<{ indexname: string }> }).rows.map((row) => row.indexname);
    for (const name of existing) {
      if (!wanted.some((index) => index.name === name)) await trx.raw(`DROP INDEX IF EXISTS "${name}"`);
    }
    for (const index of wanted) {
      if (existing.includes(index.name)) continue;
      try {
        await trx.raw(`CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS "${index.name}" ON ${table} ((${index.expression}))`);
      } catch (error) {
        if ((error as { code?: string }).code === '23505') {
          throw new DomainError('conflict', `${index.label} cannot be made unique: stored resources already share a value; make them unique first`, { attribute: index.label }, { cause: error });
        }
        throw error;
      }
    }
  }

  /** Removes stored values of the named attributes (or of the whole extension), bumping the resources' versions. */
  async function dropValues(trx: Knex.Transaction, extension: SchemaExtension, attributes?: string[]): Promise<void> {
    const table = tableOf(extension.resourceType);
    if (attributes === undefined) {
      await trx(table)
        .whereRaw('(data -> ?::text) IS NOT NULL', [extension.urn])
        .update({ data: trx.raw('data - ?::text', [extension.urn]), version: trx.raw('version + 1'), updated_at: trx.fn.now() });
      return;
    }
    for (const attribute of attributes) {
      // The extension object loses the key; an object left empty goes too (RFC 7643 §2.5: unassigned).
      await trx(table)
        .whereRaw('(data -> ?::text -> ?::text) IS NOT NULL', [extension.urn, attribute])
        .update({
          data: trx.raw(
            "CASE WHEN (data -> ?::text) - ?::text = '{}'::jsonb THEN data - ?::text ELSE jsonb_set(data, ARRAY[?::text], (data -> ?::text) - ?::text) END",
            [extension.urn, attribute, extension.urn, extension.urn, extension.urn, attribute],
          ),
          version: trx.raw('version + 1'),
          updated_at: trx.fn.now(),
        });
    }
  }

  /** One change at a time: index builds and the checks before them must not interleave with another admin's. */
  async function lock(trx: Knex.Transaction): Promise<void> {
    await trx.raw('SELECT pg_advisory_xact_lock(?::bigint)', ['7307196213542001']);
  }

  function invalidate(): void {
    generation += 1;
    cached = undefined;
  }

  const duplicateUrn = (urn: string) => () => new DomainError('conflict', `An extension schema ${urn} is already declared`, { field: 'urn' });

  return {
    /** The cached declarations while they are fresh (as current() would answer them without reading), else undefined. */
    peek(): SchemaExtension[] | undefined {
      return cached && now() - cached.at < cacheMs ? cached.value : undefined;
    },

    /** Every declaration, cached for at most SCHEMA_EXTENSIONS_CACHE_MS (read on every SCIM request). */
    async current(): Promise<SchemaExtension[]> {
      if (cached && now() - cached.at < cacheMs) return cached.value;
      if (!pending) {
        const started = generation;
        const at = now();
        pending = loadAll()
          .then((value) => {
            if (started === generation) cached = { value, at };
            return value;
          })
          .finally(() => {
            pending = undefined;
          });
      }
      return pending;
    },

    async list(query: { q?: string; limit?: number; offset?: number } = {}): Promise<{ items: SchemaExtension[]; total: number }> {
      const all = await loadAll();
      const q = query.q?.toLowerCase();
      const matching = q ? all.filter((extension) => extension.urn.toLowerCase().includes(q) || extension.name.toLowerCase().includes(q)) : all;
      const offset = query.offset ?? 0;
      return { items: matching.slice(offset, offset + (query.limit ?? 50)), total: matching.length };
    },

    get: (id: string): Promise<SchemaExtension> => find(knex, id),

    /** Resources of the extension's type holding values of each of its attributes (for the admin screen). */
    async usage(id: string): Promise<{ resources: number; attributes: Record<string, number> }> {
      const extension = await find(knex, id);
      const attributes: Record<string, number> = {};
      for (const attribute of extension.attributes) attributes[attribute.name] = await countHolding(knex, extension, attribute.name);
      return { resources: await countHolding(knex, extension), attributes };
    },

    async create(input: SchemaExtensionInput, adminId: string, requestId?: string): Promise<SchemaExtension> {
      const urn = validateExtensionUrn(input.urn);
      assertThat(input.resourceType === 'User' || input.resourceType === 'Group', 'invalid_input', 'resourceType must be "User" or "Group"', { field: 'resourceType' });
      const attributes = normalizeExtensionAttributes(input.attributes);
      const created = await knex.transaction(async (trx) => {
        await lock(trx);
        // `urn:a:User:x` would make `urn:a:User:x:attr` ambiguous with attribute `x:attr` of `urn:a:User`: one
        // declared URN must not continue another after a colon (RFC 7644 §3.10 paths split at the URN).
        const lower = urn.toLowerCase();
        const overlapping = (await loadAll(trx)).find((other) => lower.startsWith(`${other.urn.toLowerCase()}:`) || other.urn.toLowerCase().startsWith(`${lower}:`));
        if (overlapping) throw invalid(`urn ${urn} and the declared ${overlapping.urn} would make attribute paths ambiguous: one continues the other after a colon`, 'urn');
        const [row] = (await mapUniqueViolations(
          () =>
            trx('schema_extensions')
              .insert({
                urn,
                resource_type: input.resourceType,
                required: input.required ?? false,
                name: input.name?.trim() || defaultName(urn),
                description: input.description ?? '',
                attributes: JSON.stringify(attributes),
              })
              .returning(COLUMNS),
          { schema_extensions__lower_urn: duplicateUrn(urn) },
        )) as SchemaExtensionRow[];
        const extension = toExtension(row!);
        await syncIndexes(trx, tableOf(extension.resourceType));
        await audit.record({ actorType: 'admin', adminId, operation: 'admin.schema-extension.create', resourceType: 'SchemaExtension', resourceId: extension.id, status: 201, requestId, detail: { urn, resourceType: extension.resourceType, attributes: attributes.map((a) => a.name) } }, trx);
        return extension;
      });
      invalidate();
      return created;
    },

    /**
     * Changes a declaration. Adding attributes is free; removing or retyping one that holds values needs
     * `confirm` (DomainError `confirmation_required` otherwise, naming each attribute and how many resources hold
     * values); confirmed, those values are removed, since they no longer fit the declaration.
     */
    async update(id: string, change: SchemaExtensionChange, adminId: string, options: { confirm?: boolean; requestId?: string } = {}): Promise<SchemaExtension> {
      const attributes = change.attributes === undefined ? undefined : normalizeExtensionAttributes(change.attributes);
      const updated = await knex.transaction(async (trx) => {
        await lock(trx);
        const before = await find(trx, id);
        const destructive: DestructiveChange[] = [];
        if (attributes) {
          for (const { name, change: kind } of destructiveAttributes(before.attributes, attributes)) {
            const held = await countHolding(trx, before, name);
            if (held > 0) destructive.push({ attribute: name, change: kind, resourcesWithValues: held });
          }
        }
        if (destructive.length > 0 && !options.confirm) {
          const summary = destructive.map((entry) => `${entry.attribute} (${entry.change}, values in ${entry.resourcesWithValues} resource${entry.resourcesWithValues === 1 ? '' : 's'})`).join(', ');
          throw new DomainError('conflict', `This change removes stored values: ${summary}. Send it again with confirm to remove them.`, { confirmationRequired: true, changes: destructive });
        }
        if (destructive.length > 0) await dropValues(trx, before, destructive.map((entry) => entry.attribute));
        const patch: Record<string, unknown> = { version: before.version + 1, updated_at: trx.fn.now() };
        if (change.required !== undefined) patch.required = change.required;
        if (change.name !== undefined) patch.name = change.name.trim() || defaultName(before.urn);
        if (change.description !== undefined) patch.description = change.description;
        if (attributes) patch.attributes = JSON.stringify(attributes);
        const [row] = (await trx('schema_extensions').where({ id }).update(patch).returning(COLUMNS)) as SchemaExtensionRow[];
        const after = toExtension(row!);
        await syncIndexes(trx, tableOf(after.resourceType));
        await audit.record(
          { actorType: 'admin', adminId, operation: 'admin.schema-extension.update', resourceType: 'SchemaExtension', resourceId: id, status: 200, requestId: options.requestId, detail: { urn: after.urn, version: after.version, removedValues: destructive } },
          trx,
        );
        return after;
      });
      invalidate();
      return updated;
    },

    /** Deletes a declaration; when resources hold its values, only with `confirm` (the values are removed too). */
    async delete(id: string, adminId: string, options: { confirm?: boolean; requestId?: string } = {}): Promise<void> {
      await knex.transaction(async (trx) => {
        await lock(trx);
        const extension = await find(trx, id);
        const held = await countHolding(trx, extension);
        if (held > 0 && !options.confirm) {
          throw new DomainError('conflict', `${held} resource${held === 1 ? '' : 's'} hold values of ${extension.urn}. Delete again with confirm to remove the values too.`, {
            confirmationRequired: true,
            resourcesWithValues: held,
          });
        }
        if (held > 0) await dropValues(trx, extension);
        await trx('schema_extensions').where({ id }).delete();
        await syncIndexes(trx, tableOf(extension.resourceType));
        await audit.record({ actorType: 'admin', adminId, operation: 'admin.schema-extension.delete', resourceType: 'SchemaExtension', resourceId: id, status: 204, requestId: options.requestId, detail: { urn: extension.urn, removedValuesFrom: held } }, trx);
      });
      invalidate();
    },

    /**
     * The URNs stored on resources that no declaration owns (kept under `unknownExtensions: "keep"`), with how
     * many resources hold each: what the directory page lists as unrecognized.
     */
    async unrecognized(): Promise<Array<{ urn: string; resourceType: ExtensionResourceType; resources: number }>> {
      const declared = new Set((await loadAll()).map((extension) => extension.urn.toLowerCase()));
      const result: Array<{ urn: string; resourceType: ExtensionResourceType; resources: number }> = [];
      for (const [table, resourceType] of [['users', 'User'], ['groups', 'Group']] as const) {
        const rows = (await knex.raw(`SELECT k AS urn, count(*)::int AS n FROM ${table}, jsonb_object_keys(data) AS k WHERE k LIKE 'urn:%' GROUP BY k ORDER BY k`)) as { rows: Array<{ urn: string; n: number }> };
        for (const row of rows.rows) {
          if (!declared.has(row.urn.toLowerCase()) && row.urn.toLowerCase() !== 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user') {
            result.push({ urn: row.urn, resourceType, resources: Number(row.n) });
          }
        }
      }
      return result;
    },

    /**
     * Declares an extension for an unrecognized URN in one step, its attributes read from the kept values (JSON
     * types: string, boolean, integer/decimal, complex of those; a list makes it multi-valued). The values stay
     * where they are, under the URN, and become regular extension values.
     */
    async declareFromUnrecognized(urn: string, resourceType: ExtensionResourceType, adminId: string, requestId?: string): Promise<SchemaExtension> {
      validateExtensionUrn(urn);
      const table = tableOf(resourceType);
      const rows = (await knex(table).select(knex.raw('data -> ?::text AS v', [urn])).whereRaw('(data -> ?::text) IS NOT NULL', [urn]).limit(1000)) as Array<{ v: unknown }>;
      assertThat(rows.length > 0, 'not_found', `No ${resourceType} holds values of ${urn}`, { field: 'urn' });
      const attributes = inferAttributes(rows.map((row) => (typeof row.v === 'string' ? (JSON.parse(row.v) as unknown) : row.v)));
      return this.create({ urn, resourceType, attributes }, adminId, requestId);
    },
  };
}

export type SchemaExtensionService = ReturnType<typeof createSchemaExtensionService>;

function inferType(value: unknown): ExtensionAttributeType | undefined {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'decimal';
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return 'complex';
  return undefined;
}

/** Attribute declarations that accept every kept value: the widest type seen wins, string when they disagree. */
function inferAttributes(documents: unknown[]): Array<Record<string, unknown>> {
  const found = new Map<string, { name: string; types: Set<ExtensionAttributeType>; multiValued: boolean; subs: Map<string, { name: string; types: Set<ExtensionAttributeType> }> }>();
  for (const document of documents) {
    if (typeof document !== 'object' || document === null || Array.isArray(document)) continue;
    for (const [name, raw] of Object.entries(document)) {
      if (!ATTRIBUTE_NAME.test(name)) continue;
      const entry = found.get(name.toLowerCase()) ?? { name, types: new Set(), multiValued: false, subs: new Map() };
      found.set(name.toLowerCase(), entry);
      const values = Array.isArray(raw) ? raw : [raw];
      if (Array.isArray(raw)) entry.multiValued = true;
      for (const value of values) {
        const type = inferType(value);
        if (!type) continue;
        entry.types.add(type);
        if (type === 'complex') {
          for (const [subName, subValue] of Object.entries(value as Record<string, unknown>)) {
            const subType = inferType(subValue);
            if (!subType || subType === 'complex' || !(ATTRIBUTE_NAME.test(subName) || subName === '$ref')) continue;
            const sub = entry.subs.get(subName.toLowerCase()) ?? { name: subName, types: new Set() };
            sub.types.add(subType);
            entry.subs.set(subName.toLowerCase(), sub);
          }
        }
      }
    }
  }
  const widest = (types: Set<ExtensionAttributeType>): ExtensionAttributeType => {
    if (types.size === 1) return [...types][0]!;
    if ([...types].every((type) => type === 'integer' || type === 'decimal')) return 'decimal';
    return 'string';
  };
  return [...found.values()]
    .filter((entry) => entry.types.size > 0)
    .map((entry) => {
      const type = entry.types.has('complex') ? (entry.types.size === 1 && entry.subs.size > 0 ? 'complex' : 'string') : widest(entry.types);
      const attribute: Record<string, unknown> = { name: entry.name, type, multiValued: entry.multiValued };
      if (type === 'complex') attribute.subAttributes = [...entry.subs.values()].map((sub) => ({ name: sub.name, type: widest(sub.types) === 'complex' ? 'string' : widest(sub.types) }));
      return attribute;
    });
}
