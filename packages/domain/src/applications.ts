import type { Knex } from 'knex';
import { isUuid } from './directory/rows.js';
import type { AuditService } from './audit.js';
import { DomainError, mapUniqueViolations, systemClock, type Clock } from './errors.js';
import { DEFAULT_CREDENTIAL_LIFETIME_DAYS, MAX_CREDENTIAL_LIFETIME_DAYS, generateSecret, hashSecret, secretHint } from './scim-clients.js';

// Applications: programs that read the directory and resolve sign-ins, with the scopes an admin picked.
// Unlike SCIM clients they never write. A credential is a static bearer token or OAuth client credentials
// (RFC 6749 §4.4) at /oauth/token; both are shown once and stored as SHA-256 hashes (scim-clients.ts says why
// a fast hash is enough for 256-bit values).

export type ApplicationScope = 'directory.read' | 'signin.resolve' | 'events.poll';
/**
 * - `directory.read`: read-only SCIM (GET and POST /.search under /scim_v2); every write is refused with 403
 *   insufficient_scope (RFC 6750 §3.1).
 * - `signin.resolve`: POST /api/v1/sign-in/resolve.
 * - `events.poll`: polling event streams (RFC 8936).
 */
export const APPLICATION_SCOPES: readonly ApplicationScope[] = ['directory.read', 'signin.resolve', 'events.poll'];
export type ApplicationAuthMethod = 'static_token' | 'oauth_client_credentials';

/** Distinct from SCIM clients' prefixes: a leaked value says what it opens, and the two never mix. */
export const APPLICATION_SECRET_PREFIX = {
  staticToken: 'roster_ast_',
  clientSecret: 'roster_acs_',
  accessToken: 'roster_aat_',
  clientId: 'roster_aci_',
} as const;

export interface Application {
  id: string;
  name: string;
  authMethod: ApplicationAuthMethod;
  scopes: ApplicationScope[];
  /** oauth_client_credentials: the client id (not a secret, RFC 6749 §2.2). */
  oauthClientId: string | null;
  /** Active static tokens or client secrets. */
  activeCredentials: number;
  lastUsedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreatedApplication extends Application {
  token?: string;
  clientId?: string;
  clientSecret?: string;
}

interface ApplicationRow {
  id: string;
  name: string;
  auth_method: ApplicationAuthMethod;
  scopes: ApplicationScope[] | string;
  oauth_client_id: string | null;
  active_credentials: number | string;
  last_used_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** PostgreSQL text[] arrives as an array from pg and PGlite; a literal `{a,b}` is parsed for safety. */
function textArray<T extends string>(value: T[] | string): T[] {
  if (Array.isArray(value)) return value;
  return value.replace(/^\{|\}$/g, '').split(',').filter(Boolean) as T[];
}

function toApplication(row: ApplicationRow): Application {
  return {
    id: row.id,
    name: row.name,
    authMethod: row.auth_method,
    scopes: textArray(row.scopes),
    oauthClientId: row.oauth_client_id,
    activeCredentials: Number(row.active_credentials),
    lastUsedAt: row.last_used_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function parseApplicationScopes(value: unknown): ApplicationScope[] {
  if (!Array.isArray(value) || value.length === 0) throw DomainError.invalidInput(`scopes must be a non-empty list of ${APPLICATION_SCOPES.join(', ')}`, 'scopes');
  for (const [index, scope] of value.entries()) {
    if (!(APPLICATION_SCOPES as readonly unknown[]).includes(scope)) {
      throw DomainError.invalidInput(`scopes[${index}] must be one of ${APPLICATION_SCOPES.join(', ')}`, `scopes[${index}]`);
    }
  }
  // In the catalogue's order, once each.
  return APPLICATION_SCOPES.filter((scope) => value.includes(scope));
}

function requireName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw DomainError.invalidInput('name is required', 'name');
  const name = value.trim();
  if (name.length > 200) throw DomainError.invalidInput('name must be at most 200 characters', 'name');
  return name;
}

const nameConflict = (name: string) => () => new DomainError('conflict', `an application named "${name}" already exists`, { field: 'name' });

export interface ApplicationServiceDeps {
  audit?: AuditService;
  clock?: Clock;
  /** Told when an application's access changed (scopes, deletion), so caches of verified credentials drop it. */
  onChanged?: (applicationId: string) => void;
}

export function createApplicationService(knex: Knex, deps: ApplicationServiceDeps = {}) {
  const clock = deps.clock ?? systemClock;

  function select(db: Knex | Knex.Transaction = knex): Knex.QueryBuilder {
    return db('applications as a').select(
      'a.id',
      'a.name',
      'a.auth_method',
      'a.scopes',
      'a.oauth_client_id',
      'a.created_at',
      'a.updated_at',
      db.raw(
        "(SELECT count(*)::int FROM application_credentials c WHERE c.application_id = a.id AND c.kind IN ('static_token', 'client_secret') AND c.revoked_at IS NULL AND c.expires_at > now()) AS active_credentials",
      ),
      db.raw('(SELECT max(c.last_used_at) FROM application_credentials c WHERE c.application_id = a.id) AS last_used_at'),
    );
  }

  async function find(id: string, db: Knex | Knex.Transaction = knex): Promise<Application> {
    if (!isUuid(id)) throw DomainError.notFound('application', id);
    const row = (await select(db).where('a.id', id).first()) as ApplicationRow | undefined;
    if (!row) throw DomainError.notFound('application', id);
    return toApplication(row);
  }

  async function record(db: Knex | Knex.Transaction, operation: string, applicationId: string, adminId: string | undefined, detail: Record<string, unknown>): Promise<void> {
    if (!deps.audit || !adminId) return;
    await deps.audit.record({ actorType: 'admin', adminId, clientId: applicationId, operation, resourceType: 'Application', resourceId: applicationId, status: 200, detail }, db);
  }

  return {
    /** Registers an application; the answer carries its credential, once: a token, or a client id and secret. */
    async create(input: { name: unknown; authMethod: unknown; scopes: unknown; lifetimeDays?: unknown }, adminId?: string): Promise<CreatedApplication> {
      const name = requireName(input.name);
      if (input.authMethod !== 'static_token' && input.authMethod !== 'oauth_client_credentials') {
        throw DomainError.invalidInput('authMethod must be "static_token" or "oauth_client_credentials"', 'authMethod');
      }
      const authMethod: ApplicationAuthMethod = input.authMethod;
      const scopes = parseApplicationScopes(input.scopes);
      const days = input.lifetimeDays ?? DEFAULT_CREDENTIAL_LIFETIME_DAYS;
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_CREDENTIAL_LIFETIME_DAYS) {
        throw DomainError.invalidInput(`lifetimeDays must be a whole number between 1 and ${MAX_CREDENTIAL_LIFETIME_DAYS}`, 'lifetimeDays');
      }
      const secret = generateSecret(authMethod === 'static_token' ? APPLICATION_SECRET_PREFIX.staticToken : APPLICATION_SECRET_PREFIX.clientSecret);
      const oauthClientId = authMethod === 'oauth_client_credentials' ? generateSecret(APPLICATION_SECRET_PREFIX.clientId).slice(0, APPLICATION_SECRET_PREFIX.clientId.length + 22) : null;
      const id = await knex.transaction(async (trx) => {
        const [row] = (await mapUniqueViolations(
          () => trx('applications').insert({ name, auth_method: authMethod, scopes, oauth_client_id: oauthClientId }).returning(['id']),
          { applications__lower_name: nameConflict(name) },
        )) as Array<{ id: string }>;
        await trx('application_credentials').insert({
          application_id: row!.id,
          kind: authMethod === 'static_token' ? 'static_token' : 'client_secret',
          hash: hashSecret(secret),
          hint: secretHint(secret),
          scopes,
          expires_at: new Date(clock().getTime() + days * 86_400_000),
          created_at: clock(),
        });
        await record(trx, 'admin.application.create', row!.id, adminId, { name, authMethod, scopes });
        return row!.id;
      });
      const application = await find(id);
      return authMethod === 'static_token' ? { ...application, token: secret } : { ...application, clientId: oauthClientId!, clientSecret: secret };
    },

    get: (id: string): Promise<Application> => find(id),

    async list(query: { q?: string; limit?: number; offset?: number } = {}): Promise<{ items: Application[]; total: number }> {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const offset = Math.max(query.offset ?? 0, 0);
      const filter = (builder: Knex.QueryBuilder): Knex.QueryBuilder => (query.q ? builder.whereILike('a.name', `%${query.q.replace(/[\\%_]/g, '\\$&')}%`) : builder);
      const [rows, [count]] = await Promise.all([
        filter(select()).orderByRaw('lower(a.name)').limit(limit).offset(offset),
        filter(knex('applications as a')).count<Array<{ total: number }>>('* as total'),
      ]);
      return { items: (rows as ApplicationRow[]).map(toApplication), total: Number(count?.total ?? 0) };
    },

    /** Renames or changes the scopes; fewer scopes take effect for every credential already issued. */
    async update(id: string, input: { name?: unknown; scopes?: unknown; authMethod?: unknown }, adminId?: string): Promise<Application> {
      const current = await find(id);
      if (input.authMethod !== undefined && input.authMethod !== current.authMethod) {
        throw new DomainError('immutable', 'the authentication method of an application cannot be changed; register a new application instead', { field: 'authMethod' });
      }
      const changes: Record<string, unknown> = {};
      if (input.name !== undefined) changes.name = requireName(input.name);
      if (input.scopes !== undefined) changes.scopes = parseApplicationScopes(input.scopes);
      if (Object.keys(changes).length === 0) return current;
      changes.updated_at = clock();
      await knex.transaction(async (trx) => {
        await mapUniqueViolations(() => trx('applications').where('id', id).update(changes), { applications__lower_name: nameConflict(String(changes.name)) });
        await record(trx, 'admin.application.update', id, adminId, { fields: Object.keys(input) });
      });
      deps.onChanged?.(id);
      return find(id);
    },

    /** Deletes the application and every credential and access token it holds (rows cascade). */
    async delete(id: string, adminId?: string): Promise<void> {
      const application = await find(id);
      await knex.transaction(async (trx) => {
        await trx('applications').where('id', id).delete();
        await record(trx, 'admin.application.delete', id, adminId, { name: application.name });
      });
      deps.onChanged?.(id);
    },
  };
}

export type ApplicationService = ReturnType<typeof createApplicationService>;
