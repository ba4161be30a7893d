import type { Knex } from 'knex';
import { selectRows, statement, type Prepared } from '@roster/db';
import { urnKeysOf } from './extension-keys.js';
import { USER_COLUMNS, USER_INSERT_COLUMNS, isUuid, toUserRecord, type UserRow } from './rows.js';
import type { AuditEventInput } from '../audit.js';
import { auditEventCte, auditEventParameter, CHANGE_RECORD_COLUMNS, notifyWhenAny } from '../changes/change-log.js';
import type { ChangeContext } from '../changes/types.js';
import type { JsonObject, ListQuery, ResourceRef, UserColumns, UserRecord, Visibility } from './types.js';
import { identityValueSql } from '../identity-mapping.js';
import { directoryChangesTable, groupMembersTable, groupsTable, userProviderLinksTable, usersTable } from '../models/index.js';

type Db = Knex | Knex.Transaction;

const U = usersTable.columns;
const G = groupsTable.columns;
const M = groupMembersTable.columns;
const L = userProviderLinksTable.columns;
const C = directoryChangesTable.columns;
// Qualified names for the knex builders below, spelled out once at load rather than on every request. listResources
// reads groups too: `r.seq` and `r.created_by_client_id` are columns of both (groupsTable declares them alike).
const R_SEQ = `r.${U.seq}`;
const R_OWNER = `r.${U.createdByClientId}`;
const R_USER_NAME_IS = `lower(r.${U.userName}) = lower(?)`;
const GM_GROUP_ID = `gm.${M.groupId}`;
const GM_USER_ID = `gm.${M.userId}`;
const G_DISPLAY_NAME = `g.${G.displayName}`;
const G_SEQ = `g.${G.seq}`;
const G_OWNER = `g.${G.createdByClientId}`;
const AND_AFTER_SEQ = ` AND ${R_SEQ} > ?`;
const OWNER_IS = `${R_OWNER} = ?`;
const BUMPED_VERSION = `${U.version} + 1`;
const DATA_INACTIVE = `jsonb_set(${U.data}, '{active}', 'false'::jsonb)`;

// The groups of the row's user as a JSON array, in group order: lets a read return users with their groups
// in one statement. Every round trip to PostgreSQL costs more CPU than the query itself (docs/benchmarks.md).
const GROUPS_OF_ROW =
  `(SELECT coalesce(json_agg(json_build_object('value', g.id, 'display', g.${G.displayName}) ORDER BY g.${G.seq}), '[]'::json) ` +
  `FROM ${groupMembersTable.table} gm JOIN groups g ON g.id = gm.${M.groupId} WHERE gm.${M.userId} = r.id) AS groups`;
// The same for a client with data scope "own": only its own groups. A client with scope "all" may put another
// client's user into this client's group (or the reverse); the own-scope client must not learn the other's group
// ids and names through it. Its rows `r` are its own (the statement's WHERE says so), so the joined group is
// compared with `r.created_by_client_id`: no extra binding, no extra round trip.
const OWNED_GROUPS_OF_ROW = GROUPS_OF_ROW.replace(`WHERE gm.${M.userId} = r.id`, `WHERE gm.${M.userId} = r.id AND g.${G.createdByClientId} = r.${U.createdByClientId}`);

const USER_COLUMNS_SQL = USER_COLUMNS.join(', ');

/**
 * POST /Users in one statement, written once (a prepared statement on PostgreSQL): building it with knex and
 * planning it anew on every execution cost about a seventh of a create (docs/benchmarks.md, finding 32).
 * The values follow USER_INSERT_COLUMNS.
 */
const INSERT_USER_SQL =
  `INSERT INTO users (${USER_INSERT_COLUMNS}) ` +
  `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${USER_COLUMNS.map((column) => column.slice(2)).join(', ')}`;
/**
 * The same with everything a create writes, atomic in one statement (data-modifying CTEs): the user's provider
 * link (externalId at the creating client's provider, when both are there), its change records (`user.created`,
 * and `link.changed` for the link) and the request's audit event, and the NOTIFY that wakes change-log readers
 * at commit. A create stays one round trip; the records commit with the user or not at all.
 */
const INSERT_USER_RECORDED_SQL =
  `WITH x AS (SELECT ?::text AS ${C.actorType}, ?::uuid AS ${C.actorId}, ?::text AS ${C.requestId}), ` +
    `u AS (${INSERT_USER_SQL}), ` +
    // The link holds the value the creating client's provider maps (identity-mapping.ts), as maintainLinks writes it.
    `l AS (INSERT INTO ${userProviderLinksTable.table} (${L.userId}, ${L.providerId}, ${L.externalId}) ` +
    `SELECT u.id, p.id, v.value FROM u CROSS JOIN auth_providers p CROSS JOIN LATERAL (SELECT ${identityValueSql('u', 'p.identity_mapping')} AS value) v ` +
    'WHERE p.id = ?::uuid AND v.value IS NOT NULL ' +
    `RETURNING ${L.userId}, ${L.providerId}, ${L.externalId}), ` +
    `c AS (INSERT INTO ${directoryChangesTable.table} (${CHANGE_RECORD_COLUMNS}) ` +
    // detail.attributes: the names the user was created with, as userCreated (changes-of.ts) lists them (sorted by
    // code unit: COLLATE "C"), so a create notice needs no read of the resource.
    `SELECT 'user.created', 'User', u.id, u.${U.externalId}, u.${U.createdByClientId}, x.${C.actorType}, x.${C.actorId}, x.${C.requestId}, ` +
    `jsonb_build_object('attributes', (SELECT jsonb_agg(k ORDER BY k COLLATE "C") FROM jsonb_object_keys((u.${U.data} - 'externalId') || ` +
    `jsonb_build_object('userName', u.${U.userName}, 'active', u.${U.active}) || CASE WHEN u.${U.externalId} IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('externalId', u.${U.externalId}) END) AS k)) FROM u, x ` +
    `UNION ALL SELECT 'link.changed', 'User', l.${L.userId}, l.${L.externalId}, u.${U.createdByClientId}, x.${C.actorType}, x.${C.actorId}, x.${C.requestId}, ` +
    `jsonb_build_object('providerId', l.${L.providerId}, 'externalId', l.${L.externalId}) FROM l, u, x RETURNING 1), ` +
    `${auditEventCte('a', 'u', 'u.id::text')} ` +
    'SELECT u.* FROM u';
const INSERT_USER_RECORDED = statement(`${INSERT_USER_RECORDED_SQL}, ${notifyWhenAny('c')}`);
/**
 * The same without the NOTIFY, for a create that commits on its own: the caller wakes the readers after the
 * commit (createChangeNotifier), since a NOTIFY inside serializes concurrent creates' commits.
 */
const INSERT_USER_RECORDED_QUIET = statement(INSERT_USER_RECORDED_SQL);
const USER_COLUMNS_WITH_GROUPS_SQL = `${USER_COLUMNS_SQL}, ${GROUPS_OF_ROW}`;
const USER_COLUMNS_WITH_OWNED_GROUPS_SQL = `${USER_COLUMNS_SQL}, ${OWNED_GROUPS_OF_ROW}`;
const USER_BY_ID_WITH_GROUPS = `SELECT ${USER_COLUMNS_WITH_GROUPS_SQL} FROM users AS r WHERE r.id = ?`;
const OWNED_USER_BY_ID_WITH_GROUPS = `SELECT ${USER_COLUMNS_WITH_OWNED_GROUPS_SQL} FROM users AS r WHERE r.id = ? AND r.${U.createdByClientId} = ?`;

/**
 * How a list reads users whose documents go into a response as they are: the keys to leave out (served from
 * their columns instead). The document's schema URN keys (its extensions) come with it (`extensionKeys`).
 */
export interface DocumentShape {
  omit: readonly string[];
}

/** A user with its stored document as JSON text, as PostgreSQL writes jsonb, minus the shape's omitted keys. */
export interface UserDocument {
  id: string;
  seq: number;
  userName: string;
  externalId: string | null;
  active: boolean;
  /** An object's JSON text: `{}` when nothing is left. */
  documentJson: string;
  /** The document's keys that are schema URNs (extension values, RFC 7643 §3.3), in the document's order. */
  extensionKeys: readonly string[];
  version: number;
  /** created_at and updated_at as RFC 3339 text in UTC with milliseconds, as `Date.toISOString` writes them. */
  created: string;
  lastModified: string;
  /** The user's groups, in group order. */
  groups: ResourceRef[];
}

interface UserDocumentRow {
  [U.id]: string;
  [U.seq]: number | string;
  [U.userName]: string;
  [U.externalId]: string | null;
  [U.active]: boolean;
  document: string;
  [U.version]: number;
  created: string;
  modified: string;
  groups: unknown;
}

const sqlLiteral = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const DOCUMENT_COLUMNS = new WeakMap<DocumentShape, { any: string; owned: string }>();

// The document leaves PostgreSQL as text (jsonb's output) instead of being parsed into objects only to be
// serialized again: parsing and re-serializing it was the largest cost of a filtered GET in the gateway
// (docs/benchmarks.md, finding 23). `->` (not the `?` operator, which reads as a placeholder) tells presence.
function documentColumns(shape: DocumentShape, owned: boolean): string {
  // By the shape object itself: callers keep theirs in a constant.
  let columns = DOCUMENT_COLUMNS.get(shape);
  if (columns === undefined) {
    const omit = `ARRAY[${shape.omit.map(sqlLiteral).join(', ')}]::text[]`;
    const common =
      `r.id, r.${U.seq}, r.${U.userName}, r.${U.externalId}, r.${U.active}, (r.${U.data} - ${omit})::text AS document, ` +
      `r.${U.version}, ${isoText(`r.${U.createdAt}`)} AS created, ` +
      `${isoText(`r.${U.updatedAt}`)} AS modified, `;
    columns = { any: common + GROUPS_OF_ROW, owned: common + OWNED_GROUPS_OF_ROW };
    DOCUMENT_COLUMNS.set(shape, columns);
  }
  return owned ? columns.owned : columns.any;
}

const DOCUMENT_BY_ID = new WeakMap<DocumentShape, { any: Prepared; owned: Prepared }>();

/** The statements reading one user's document by id, any owner or one client's own. */
function documentStatements(shape: DocumentShape): { any: Prepared; owned: Prepared } {
  let found = DOCUMENT_BY_ID.get(shape);
  if (found === undefined) {
    found = {
      any: statement(`SELECT ${documentColumns(shape, false)} FROM users AS r WHERE r.id = ?`),
      owned: statement(`SELECT ${documentColumns(shape, true)} FROM users AS r WHERE r.id = ? AND r.${U.createdByClientId} = ?`),
    };
    DOCUMENT_BY_ID.set(shape, found);
  }
  return found;
}

/**
 * A timestamptz as `Date.toISOString` writes it (both truncate to milliseconds; a test compares them): read as
 * text, it needs neither the driver's date parser nor `toISOString` in the gateway.
 */
function isoText(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

function toUserDocument(row: UserDocumentRow): UserDocument {
  return {
    id: row[U.id],
    seq: Number(row[U.seq]),
    userName: row[U.userName],
    externalId: row[U.externalId],
    active: row[U.active],
    documentJson: row.document,
    // Read from the document text rather than asked of PostgreSQL (extension-keys.ts says why).
    extensionKeys: urnKeysOf(row.document),
    version: row[U.version],
    created: row.created,
    lastModified: row.modified,
    groups: groupRefs(row.groups),
  };
}

function groupRefs(value: unknown): ResourceRef[] {
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return Array.isArray(parsed) ? (parsed as ResourceRef[]) : [];
}

function visible(builder: Knex.QueryBuilder, visibility: Visibility): Knex.QueryBuilder {
  if (visibility.ownerClientId) builder.where(R_OWNER, visibility.ownerClientId);
  return builder;
}

/** Users table access. Every query names its columns; `r` is the row alias filters compile against. */
export const userRepository = {
  async findById(db: Db, id: string, visibility: Visibility = {}, options: { forUpdate?: boolean } = {}): Promise<UserRecord | undefined> {
    if (!isUuid(id)) return undefined;
    const query = visible(db('users as r').select(USER_COLUMNS).where('r.id', id), visibility);
    if (options.forUpdate) query.forUpdate();
    const row = (await query.first()) as UserRow | undefined;
    return row ? toUserRecord(row) : undefined;
  },

  /** A user and its groups in one round trip (GET /Users/:id): the groups come from a subquery. */
  async findByIdWithGroups(db: Db, id: string, visibility: Visibility = {}): Promise<{ user: UserRecord; groups: ResourceRef[] } | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = visibility.ownerClientId
      ? await selectRows<UserRow & { groups: unknown }>(db, OWNED_USER_BY_ID_WITH_GROUPS, [id, visibility.ownerClientId])
      : await selectRows<UserRow & { groups: unknown }>(db, USER_BY_ID_WITH_GROUPS, [id]);
    return row ? { user: toUserRecord(row), groups: groupRefs(row.groups) } : undefined;
  },

  /** `findByIdWithGroups` with the document as JSON text (see `DocumentShape`). */
  async findDocumentByIdWithGroups(db: Db, id: string, shape: DocumentShape, visibility: Visibility = {}): Promise<UserDocument | undefined> {
    if (!isUuid(id)) return undefined;
    const byId = documentStatements(shape);
    const [row] = visibility.ownerClientId
      ? await selectRows<UserDocumentRow>(db, byId.owned, [id, visibility.ownerClientId])
      : await selectRows<UserDocumentRow>(db, byId.any, [id]);
    return row ? toUserDocument(row) : undefined;
  },

  async findByUserName(db: Db, userName: string): Promise<UserRecord | undefined> {
    const row = (await db('users as r').select(USER_COLUMNS).whereRaw(R_USER_NAME_IS, [userName]).first()) as UserRow | undefined;
    return row ? toUserRecord(row) : undefined;
  },

  async list(db: Db, query: ListQuery): Promise<{ items: UserRecord[]; total: number }> {
    return listResources(db, 'users', USER_COLUMNS_SQL, query, toUserRecord as (row: unknown) => UserRecord);
  },

  /** A page of users with the groups of each, in the same query (no second round trip for `groups`). */
  async listWithGroups(db: Db, query: ListQuery): Promise<{ items: UserRecord[]; total: number; groups: Map<string, ResourceRef[]> }> {
    const groups = new Map<string, ResourceRef[]>();
    const columns = query.ownerClientId ? USER_COLUMNS_WITH_OWNED_GROUPS_SQL : USER_COLUMNS_WITH_GROUPS_SQL;
    const result = await listResources(db, 'users', columns, query, (row) => {
      const user = toUserRecord(row as UserRow);
      groups.set(user.id, groupRefs((row as { groups: unknown }).groups));
      return user;
    });
    return { ...result, groups };
  },

  /**
   * A page of users with the groups of each, the documents as JSON text (see `DocumentShape`): for responses
   * written without any projection of attributes.
   */
  listDocumentsWithGroups(db: Db, query: ListQuery, shape: DocumentShape): Promise<{ items: UserDocument[]; total: number }> {
    return listResources(db, 'users', documentColumns(shape, Boolean(query.ownerClientId)), query, toUserDocument as (row: unknown) => UserDocument);
  },

  /**
   * Inserts a user and, when `linkProviderId` is given and the user has an externalId, its provider link, with
   * its change records and the request's audit event, in ONE statement (INSERT_USER_RECORDED): a create is one
   * round trip and atomic without an explicit transaction.
   */
  async insert(
    db: Db,
    input: { columns: UserColumns; data: JsonObject; createdByClientId: string | null; linkProviderId?: string | null },
    /** Who made the change (Roster itself when left out: seeding, tests) and the request's audit event. */
    record: { context: ChangeContext; audit?: AuditEventInput | null } = { context: { actor: { type: 'system', id: null } } },
    /** quiet: no NOTIFY in the statement; the caller notifies after the commit (only when `db` commits on its own). */
    options: { quiet?: boolean } = {},
  ): Promise<UserRecord> {
    const { columns } = input;
    const { actor, requestId } = record.context;
    const values = [
      actor.type,
      actor.id,
      requestId ?? null,
      columns[U.userName],
      columns[U.externalId],
      columns[U.displayName],
      columns[U.givenName],
      columns[U.familyName],
      columns.active,
      columns[U.emailsLower],
      JSON.stringify(input.data),
      input.createdByClientId,
      input.linkProviderId ?? null,
      auditEventParameter(record.audit),
    ];
    const [row] = await selectRows<UserRow>(db, options.quiet ? INSERT_USER_RECORDED_QUIET : INSERT_USER_RECORDED, values);
    return toUserRecord(row!);
  },

  async update(db: Db, id: string, input: { columns: UserColumns; data: JsonObject; lockReason?: string | null }): Promise<UserRecord> {
    const [row] = (await db('users')
      .where('id', id)
      .update({
        ...input.columns,
        ...(input.lockReason !== undefined ? { [U.lockReason]: input.lockReason } : {}),
        [U.data]: JSON.stringify(input.data),
        [U.version]: db.raw(BUMPED_VERSION),
        [U.updatedAt]: db.fn.now(),
      })
      .returning(USER_COLUMNS.map((column) => column.slice(2)))) as UserRow[];
    return toUserRecord(row!);
  },

  /** Locks an account (a refused deletion) with the reason an admin will see; returns the user after. */
  async lock(db: Db, id: string, reason: string): Promise<UserRecord> {
    const [row] = (await db('users')
      .where('id', id)
      .update({
        [U.active]: false,
        [U.lockReason]: reason,
        [U.data]: db.raw(DATA_INACTIVE),
        [U.version]: db.raw(BUMPED_VERSION),
        [U.updatedAt]: db.fn.now(),
      })
      .returning(USER_COLUMNS.map((column) => column.slice(2)))) as UserRow[];
    return toUserRecord(row!);
  },

  async delete(db: Db, id: string): Promise<boolean> {
    return (await db('users').where('id', id).delete()) > 0;
  },

  /** The groups of each user, in one query for a whole page (no N+1). */
  async groupsOf(db: Db, userIds: string[], visibility: Visibility = {}): Promise<Map<string, ResourceRef[]>> {
    const result = new Map<string, ResourceRef[]>(userIds.map((id) => [id, []]));
    if (userIds.length === 0) return result;
    const query = db(`${groupMembersTable.table} as gm`)
      .join('groups as g', 'g.id', GM_GROUP_ID)
      .select(GM_USER_ID, 'g.id', G_DISPLAY_NAME)
      .whereIn(GM_USER_ID, userIds)
      .orderBy(G_SEQ);
    // Data scope "own": only the client's own groups, as in OWNED_GROUPS_OF_ROW.
    if (visibility.ownerClientId) query.where(G_OWNER, visibility.ownerClientId);
    const rows = (await query) as Array<{ [M.userId]: string; id: string; [G.displayName]: string }>;
    for (const row of rows) result.get(row[M.userId])?.push({ value: row.id, display: row[G.displayName] });
    return result;
  },

  /** Which of these ids name existing (and visible) users. */
  async existingIds(db: Db, ids: string[], visibility: Visibility = {}): Promise<Set<string>> {
    const candidates = ids.filter(isUuid);
    if (candidates.length === 0) return new Set();
    const found = new Set<string>();
    // Chunked so a 100,000-member PUT stays within bind parameter limits.
    for (let start = 0; start < candidates.length; start += 10_000) {
      const chunk = candidates.slice(start, start + 10_000);
      const query = db('users as r').select('r.id').whereRaw('r.id = ANY(?::uuid[])', [chunk]);
      const rows = (await visible(query, visibility)) as Array<{ id: string }>;
      for (const row of rows) found.add(row.id);
    }
    return found;
  },
};

export async function listResources<T>(
  db: Db,
  table: 'users' | 'groups',
  /** The select list, SQL over the row alias `r`. */
  columns: string,
  query: ListQuery,
  map: (row: unknown) => T,
): Promise<{ items: T[]; total: number }> {
  // One definition of which rows (owner scope and filter) and in which order, for every statement below.
  const base = (): Knex.QueryBuilder => {
    const scope = scopeSql(query);
    return db(`${table} as r`).whereRaw(scope.sql, scope.values as Knex.RawBinding[]);
  };
  const ordered = (builder: Knex.QueryBuilder): Knex.QueryBuilder => {
    const order = orderSql(query);
    return builder.orderByRaw(order.sql, order.values as Knex.RawBinding[]);
  };
  let page: () => Promise<unknown[]>;
  if (query.offset > 0) {
    // Deep pages (startIndex near the end): the rows OFFSET skips are walked in a subquery that reads only
    // `seq` (from the index where the order and filter allow), and only the page's rows are fetched whole,
    // with their jsonb and computed columns. Otherwise page 1,000 of 100,000 builds 100,000 full rows.
    const keys = ordered(base().select(R_SEQ)).limit(query.limit).offset(query.offset);
    if (query.afterSeq !== undefined) keys.where(R_SEQ, '>', query.afterSeq);
    page = async () => (await ordered(db(`${table} as r`).select(db.raw(columns)).whereIn(R_SEQ, keys))) as unknown[];
  } else {
    // The first page, a filtered lookup or a cursor page: the request path's commonest statement, written out
    // here so that its text depends only on the query's shape (a prepared statement, see @roster/db).
    const values: unknown[] = [];
    if (query.ownerClientId) values.push(query.ownerClientId);
    if (query.where) for (const binding of query.where.bindings) values.push(binding);
    if (query.afterSeq !== undefined) values.push(query.afterSeq);
    if (query.orderBy) for (const binding of query.orderBy.bindings) values.push(binding);
    values.push(query.limit);
    const statement = firstPageStatement(table, columns, query);
    page = () => selectRows(db, statement, values);
  }
  const wantsRows = query.limit > 0;
  const count = (): Promise<number> =>
    query.withTotal === false
      ? Promise.resolve(-1)
      : base()
          .count<Array<{ total: number | string }>>('* as total')
          .then((result) => Number(result[0]?.total ?? 0));
  if (query.where && wantsRows) {
    // A filtered list (typically `userName eq`, one row) reads the page first: a page that is not full, from
    // offset paging, tells the total without a count query, so the common lookup is one round trip.
    const rows = await page();
    const exact = query.afterSeq === undefined && rows.length < query.limit && (rows.length > 0 || query.offset === 0);
    return { items: rows.map(map), total: exact && query.withTotal !== false ? query.offset + rows.length : await count() };
  }
  const [rows, total] = await Promise.all([wantsRows ? page() : Promise.resolve([] as unknown[]), count()]);
  return { items: rows.map(map), total };
}

// First-page statements by the query's shape: a lookup finds its statement without writing out its text
// (about 700 characters) and hashing it again on every request. Keyed level by level (select list, table,
// flags, order, filter) on values that are the same request after request (the SQL fragments are our
// compilers' strings), so no key is written out per request either. Bounded, as the prepared statements
// are: filter shapes come from clients.
type ShapeLevel = Map<string | number, Prepared | ShapeLevel>;
const FIRST_PAGES: ShapeLevel = new Map();
const MAX_FIRST_PAGE_SHAPES = 2000;
let firstPageShapes = 0;

function firstPageStatement(table: 'users' | 'groups', columns: string, query: ListQuery): Prepared {
  // Everything the text below depends on; the SQL fragments come from our compilers, never from values.
  const flags = (query.ownerClientId ? 1 : 0) | (query.afterSeq === undefined ? 0 : 2) | (query.descending ? 4 : 0);
  const path = [columns, table, flags, query.orderBy?.sql ?? '', query.where?.sql ?? ''];
  let level = FIRST_PAGES;
  for (let index = 0; index < path.length - 1; index += 1) {
    let next = level.get(path[index]!) as ShapeLevel | undefined;
    if (next === undefined) level.set(path[index]!, (next = new Map()));
    level = next;
  }
  const last = path[path.length - 1]!;
  let found = level.get(last) as Prepared | undefined;
  if (found) return found;
  const scope = scopeSql(query);
  const afterSeq = query.afterSeq === undefined ? '' : AND_AFTER_SEQ;
  found = statement(`SELECT ${columns} FROM ${table} AS r WHERE ${scope.sql}${afterSeq} ORDER BY ${orderSql(query).sql} LIMIT ?`);
  if (firstPageShapes < MAX_FIRST_PAGE_SHAPES) {
    level.set(last, found);
    firstPageShapes += 1;
  }
  return found;
}

/** Which rows a list reads, over the row alias `r`: the owner scope (data scope "own") and the filter. */
function scopeSql(query: ListQuery): { sql: string; values: unknown[] } {
  const parts = ['TRUE'];
  const values: unknown[] = [];
  if (query.ownerClientId) {
    parts.push(OWNER_IS);
    values.push(query.ownerClientId);
  }
  if (query.where) {
    parts.push(`(${query.where.sql})`);
    values.push(...query.where.bindings);
  }
  return { sql: parts.join(' AND '), values };
}

/** The list order: the sortBy expression if any (missing values last), `r.seq` breaking ties. */
function orderSql(query: ListQuery): { sql: string; values: unknown[] } {
  const direction = query.descending ? 'DESC' : 'ASC';
  return query.orderBy
    ? { sql: `${query.orderBy.sql} ${direction} NULLS LAST, ${R_SEQ} ${direction}`, values: query.orderBy.bindings }
    : { sql: `${R_SEQ} ${direction}`, values: [] };
}
