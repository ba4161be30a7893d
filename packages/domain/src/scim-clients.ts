import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isUuid } from './directory/rows.js';
import type { Knex } from 'knex';
import type { AuditService } from './audit.js';
import { DomainError, assertThat, mapUniqueViolations, systemClock, type Clock } from './errors.js';
import { scheduleLinkRebuild } from './link-rebuilds.js';
import { usersTable } from './models/index.js';

// SCIM clients and their credentials (static tokens, OAuth client secrets). Every secret is made here, shown
// once in the value returned by the call that creates it, and stored only as a SHA-256 hash: the values have
// 256 bits of entropy, so a fast hash is enough (no dictionary to attack) and lookups stay one index probe.

export type ScimAuthMethod = 'static_token' | 'oauth_client_credentials' | 'jwt';
export type DataScope = 'all' | 'own';
export type CredentialKind = 'static_token' | 'client_secret';

/**
 * Recognisable prefixes (GitHub-style) so secret scanners can spot a leaked value; the random part is
 * 32 bytes (256 bits) in base64url, 43 characters.
 */
export const SECRET_PREFIX = {
  staticToken: 'roster_st_',
  clientSecret: 'roster_cs_',
  accessToken: 'roster_at_',
  clientId: 'roster_ci_',
} as const;

/** A new secret: prefix + 256 random bits, base64url. */
export function generateSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 hex of a secret: the only form in which it is stored. */
export function hashSecret(secret: string): string {
  // The one-shot crypto.hash (Node 20.12) skips building a Hash object: this runs on every SCIM request.
  return hash('sha256', secret, 'hex');
}

/** Constant-time comparison of two hex hashes of equal length (no early exit on the first differing byte). */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** The non-secret hint an admin uses to tell credentials apart: the last four characters. */
export function secretHint(secret: string): string {
  return secret.slice(-4);
}

export const DEFAULT_CREDENTIAL_LIFETIME_DAYS = 365;
export const MAX_CREDENTIAL_LIFETIME_DAYS = 365;
const U = usersTable.columns;
const USERS_PROVISIONED = `(SELECT count(*)::int FROM users u WHERE u.${U.createdByClientId} = c.id) AS users_provisioned`;

/** Credentials expiring within this many days are flagged in the client list. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export interface CredentialStatusSummary {
  /** Active (unrevoked, unexpired) static tokens or client secrets. Always 0 for `jwt` clients. */
  active: number;
  soonestExpiry: Date | null;
  /** True when the soonest expiry is within EXPIRY_WARNING_DAYS. */
  expiringSoon: boolean;
}

export interface ScimClient {
  id: string;
  name: string;
  authProviderId: string;
  authProviderName: string;
  authMethod: ScimAuthMethod;
  jwtSubject: string | null;
  dataScope: DataScope;
  /** The OAuth client id (not a secret, RFC 6749 §2.2) for `oauth_client_credentials` clients. */
  oauthClientId: string | null;
  usersProvisioned: number;
  lastActivityAt: Date | null;
  credentials: CredentialStatusSummary;
  createdAt: Date;
  updatedAt: Date;
}

export interface Credential {
  id: string;
  kind: CredentialKind;
  hint: string;
  status: 'active' | 'expired' | 'revoked';
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** The one-time secret fields, beside the created thing and never again (DESIGN: Admin JSON API). */
export type CreatedScimClient = ScimClient & { token?: string; clientId?: string; clientSecret?: string };
export type CreatedStaticToken = Credential & { token: string };
export type CreatedClientSecret = Credential & { clientId: string; clientSecret: string };

export interface CreateScimClientInput {
  name: string;
  authProviderId: string;
  authMethod: ScimAuthMethod;
  jwtSubject?: string | null;
  dataScope?: DataScope;
  /** Lifetime of the first static token or client secret, in days (default and max 365). */
  lifetimeDays?: number;
}

export interface UpdateScimClientInput {
  name?: string;
  authProviderId?: string;
  dataScope?: DataScope;
  jwtSubject?: string | null;
  /** Immutable: accepted only when equal to the current method. */
  authMethod?: ScimAuthMethod;
}

/** Told when credentials stop being valid, so this process's authentication cache drops them at once. */
export interface CredentialRevocationListener {
  clientRevoked(clientId: string): void;
  credentialRevoked(credentialId: string): void;
}

export interface ScimClientServiceDeps {
  audit?: AuditService;
  clock?: Clock;
  onRevoked?: CredentialRevocationListener;
  /** Told when a rebuild of links was committed (a client moved to another provider). */
  onLinkRebuildScheduled?: () => void;
}


const AUTH_METHODS: readonly ScimAuthMethod[] = ['static_token', 'oauth_client_credentials', 'jwt'];
const DATA_SCOPES: readonly DataScope[] = ['all', 'own'];

interface ClientRow {
  id: string;
  name: string;
  auth_provider_id: string;
  auth_provider_name: string;
  auth_method: ScimAuthMethod;
  jwt_subject: string | null;
  data_scope: DataScope;
  oauth_client_id: string | null;
  users_provisioned: number;
  last_activity_at: Date | null;
  active_credentials: number;
  soonest_expiry: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface CredentialRow {
  id: string;
  kind: CredentialKind;
  hint: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const CREDENTIAL_COLUMNS = ['id', 'kind', 'hint', 'created_at', 'expires_at', 'revoked_at', 'last_used_at'];

function requireName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw DomainError.invalidInput('name is required', 'name');
  const name = value.trim();
  if (name.length > 200) throw DomainError.invalidInput('name must be at most 200 characters', 'name');
  return name;
}

function requireSubject(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw DomainError.invalidInput('a JWT client needs jwtSubject: the `sub` claim its identity provider puts in tokens', 'jwtSubject');
  if (value.length > 500) throw DomainError.invalidInput('jwtSubject must be at most 500 characters', 'jwtSubject');
  // Compared exactly with `sub`: surrounding spaces would make it never match, so they are refused, not trimmed.
  if (value !== value.trim()) throw DomainError.invalidInput('jwtSubject must not start or end with spaces', 'jwtSubject');
  return value;
}

function lifetime(days: unknown): number {
  if (days === undefined || days === null) return DEFAULT_CREDENTIAL_LIFETIME_DAYS;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_CREDENTIAL_LIFETIME_DAYS) {
    throw DomainError.invalidInput(`lifetimeDays must be a whole number between 1 and ${MAX_CREDENTIAL_LIFETIME_DAYS}`, 'lifetimeDays');
  }
  return days;
}

const nameConflict = (name: string) => () => new DomainError('conflict', `a SCIM client named "${name}" already exists`, { field: 'name' });

export function createScimClientService(knex: Knex, deps: ScimClientServiceDeps = {}) {
  const clock = deps.clock ?? systemClock;
  const { audit, onRevoked } = deps;

  function toCredential(row: CredentialRow): Credential {
    const now = clock().getTime();
    return {
      id: row.id,
      kind: row.kind,
      hint: row.hint,
      status: row.revoked_at ? 'revoked' : row.expires_at.getTime() <= now ? 'expired' : 'active',
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      lastUsedAt: row.last_used_at,
    };
  }

  function toClient(row: ClientRow): ScimClient {
    const soonest = row.soonest_expiry;
    return {
      id: row.id,
      name: row.name,
      authProviderId: row.auth_provider_id,
      authProviderName: row.auth_provider_name,
      authMethod: row.auth_method,
      jwtSubject: row.jwt_subject,
      dataScope: row.data_scope,
      oauthClientId: row.oauth_client_id,
      usersProvisioned: Number(row.users_provisioned),
      lastActivityAt: row.last_activity_at,
      credentials: {
        active: Number(row.active_credentials),
        soonestExpiry: soonest,
        expiringSoon: soonest !== null && soonest.getTime() - clock().getTime() <= EXPIRY_WARNING_DAYS * DAY_MS,
      },
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  // Per-client figures as correlated subqueries: each is one index probe (users__created_by_client_id,
  // audit_events__client_id_at, scim_credentials__client_id), so a page of clients costs what it shows.
  function selectClients(db: Knex | Knex.Transaction = knex): Knex.QueryBuilder {
    const now = clock();
    return db('scim_clients as c')
      .join('auth_providers as p', 'p.id', 'c.auth_provider_id')
      .select([
        'c.id',
        'c.name',
        'c.auth_provider_id',
        'p.name as auth_provider_name',
        'c.auth_method',
        'c.jwt_subject',
        'c.data_scope',
        'c.oauth_client_id',
        'c.created_at',
        'c.updated_at',
        knex.raw(USERS_PROVISIONED),
        // Activity of the client itself, not admins editing it: the latest authenticated request of any kind,
        // logged (writes, token requests, failures: audit_events) or counted (successful reads: client_activity).
        // greatest() skips NULLs, so either alone answers.
        knex.raw(
          "greatest((SELECT max(a.at) FROM audit_events a WHERE a.client_id = c.id AND a.actor_type = 'scim_client'), (SELECT max(r.last_at) FROM client_activity r WHERE r.client_id = c.id)) AS last_activity_at",
        ),
        knex.raw('(SELECT count(*)::int FROM scim_credentials s WHERE s.client_id = c.id AND s.revoked_at IS NULL AND s.expires_at > ?) AS active_credentials', [now]),
        knex.raw('(SELECT min(s.expires_at) FROM scim_credentials s WHERE s.client_id = c.id AND s.revoked_at IS NULL AND s.expires_at > ?) AS soonest_expiry', [now]),
      ]);
  }

  async function findRow(id: string, db: Knex | Knex.Transaction = knex): Promise<ClientRow> {
    if (!isUuid(id)) throw DomainError.notFound('SCIM client', id);
    const row = (await selectClients(db).where('c.id', id).first()) as ClientRow | undefined;
    if (!row) throw DomainError.notFound('SCIM client', id);
    return row;
  }

  async function requireProvider(id: unknown, db: Knex | Knex.Transaction): Promise<{ id: string; kind: 'oidc' | 'saml' }> {
    if (typeof id !== 'string' || !isUuid(id)) throw DomainError.invalidInput('authProviderId must name an existing authentication provider', 'authProviderId');
    const provider = (await db('auth_providers').where('id', id).first('id', 'kind')) as { id: string; kind: 'oidc' | 'saml' } | undefined;
    if (!provider) throw new DomainError('invalid_input', `authentication provider ${id} was not found`, { field: 'authProviderId' });
    return provider;
  }

  async function insertCredential(
    db: Knex.Transaction,
    clientId: string,
    kind: CredentialKind,
    lifetimeDays: number,
  ): Promise<{ secret: string; row: CredentialRow }> {
    const secret = generateSecret(kind === 'static_token' ? SECRET_PREFIX.staticToken : SECRET_PREFIX.clientSecret);
    const expiresAt = new Date(clock().getTime() + lifetimeDays * DAY_MS);
    const [row] = (await db('scim_credentials')
      .insert({ client_id: clientId, kind, hash: hashSecret(secret), hint: secretHint(secret), expires_at: expiresAt, created_at: clock() })
      .returning(CREDENTIAL_COLUMNS)) as CredentialRow[];
    return { secret, row: row! };
  }

  async function recordAdmin(
    db: Knex | Knex.Transaction,
    operation: string,
    clientId: string,
    adminId: string | undefined,
    resource: { type: string; id: string },
    detail?: Record<string, unknown>,
  ): Promise<void> {
    if (!audit || !adminId) return;
    await audit.record({ actorType: 'admin', adminId, clientId, operation, resourceType: resource.type, resourceId: resource.id, status: 200, detail: detail ?? null }, db);
  }

  async function requireClient(id: string, db: Knex | Knex.Transaction = knex): Promise<{ id: string; name: string; auth_method: ScimAuthMethod; oauth_client_id: string | null }> {
    if (!isUuid(id)) throw DomainError.notFound('SCIM client', id);
    const row = (await db('scim_clients').where('id', id).first('id', 'name', 'auth_method', 'oauth_client_id')) as
      | { id: string; name: string; auth_method: ScimAuthMethod; oauth_client_id: string | null }
      | undefined;
    if (!row) throw DomainError.notFound('SCIM client', id);
    return row;
  }

  async function listCredentials(clientId: string, kind: CredentialKind): Promise<{ items: Credential[]; total: number }> {
    await requireClient(clientId);
    const rows = (await knex('scim_credentials').where({ client_id: clientId, kind }).select(CREDENTIAL_COLUMNS).orderBy('created_at', 'desc')) as CredentialRow[];
    return { items: rows.map(toCredential), total: rows.length };
  }

  // Revoking is idempotent: a second call finds revoked_at set and changes nothing. A credential of another
  // client is "not found" through this client, so one client's id cannot be used to probe another's.
  async function revokeCredential(clientId: string, credentialId: string, kind: CredentialKind, adminId: string | undefined): Promise<Credential> {
    await requireClient(clientId);
    const what = kind === 'static_token' ? 'token' : 'client secret';
    if (!isUuid(credentialId)) throw DomainError.notFound(what, credentialId);
    const credential = await knex.transaction(async (trx) => {
      const existing = (await trx('scim_credentials').where({ id: credentialId, client_id: clientId, kind }).first(CREDENTIAL_COLUMNS)) as CredentialRow | undefined;
      if (!existing) throw DomainError.notFound(what, credentialId);
      if (existing.revoked_at) return existing;
      const now = clock();
      const [updated] = (await trx('scim_credentials').where('id', credentialId).update({ revoked_at: now }).returning(CREDENTIAL_COLUMNS)) as CredentialRow[];
      // Access tokens obtained with a revoked client secret stop with it: a leaked secret's tokens must not outlive it.
      await trx('oauth_access_tokens').where('credential_id', credentialId).whereNull('revoked_at').update({ revoked_at: now });
      await recordAdmin(trx, kind === 'static_token' ? 'admin.scim_client.token.revoke' : 'admin.scim_client.secret.revoke', clientId, adminId, { type: 'ScimCredential', id: credentialId }, { hint: existing.hint });
      return updated!;
    });
    onRevoked?.credentialRevoked(credentialId);
    return toCredential(credential);
  }

  async function createCredential(clientId: string, kind: CredentialKind, options: { lifetimeDays?: number }, adminId: string | undefined) {
    const days = lifetime(options?.lifetimeDays);
    const client = await requireClient(clientId);
    const expected: ScimAuthMethod = kind === 'static_token' ? 'static_token' : 'oauth_client_credentials';
    assertThat(client.auth_method === expected, 'invalid_input', kind === 'static_token'
      ? `SCIM client "${client.name}" authenticates with ${client.auth_method}, not static tokens`
      : `SCIM client "${client.name}" authenticates with ${client.auth_method}, not OAuth client credentials`, { field: 'authMethod' });
    return knex.transaction(async (trx) => {
      const { secret, row } = await insertCredential(trx, clientId, kind, days);
      await recordAdmin(trx, kind === 'static_token' ? 'admin.scim_client.token.create' : 'admin.scim_client.secret.create', clientId, adminId, { type: 'ScimCredential', id: row.id }, { hint: row.hint, expiresAt: row.expires_at.toISOString() });
      return { secret, credential: toCredential(row), oauthClientId: client.oauth_client_id };
    });
  }

  return {
    async createScimClient(input: CreateScimClientInput, adminId?: string): Promise<CreatedScimClient> {
      const name = requireName(input?.name);
      const method = input.authMethod;
      if (!AUTH_METHODS.includes(method)) throw DomainError.invalidInput(`authMethod must be one of ${AUTH_METHODS.join(', ')}`, 'authMethod');
      const dataScope = input.dataScope ?? 'all';
      if (!DATA_SCOPES.includes(dataScope)) throw DomainError.invalidInput('dataScope must be "all" or "own"', 'dataScope');
      const days = lifetime(input.lifetimeDays);
      let jwtSubject: string | null = null;
      if (method === 'jwt') jwtSubject = requireSubject(input.jwtSubject);
      else assertThat(input.jwtSubject === undefined || input.jwtSubject === null, 'invalid_input', 'jwtSubject applies only to the jwt method', { field: 'jwtSubject' });

      const created = await knex.transaction(async (trx) => {
        const provider = await requireProvider(input.authProviderId, trx);
        // A JWT is validated against the provider's keys, found by OpenID Connect discovery: SAML has none.
        if (method === 'jwt') assertThat(provider.kind === 'oidc', 'invalid_input', 'the jwt method needs an OpenID Connect authentication provider', { field: 'authProviderId' });
        const oauthClientId = method === 'oauth_client_credentials' ? generateSecret(SECRET_PREFIX.clientId).slice(0, SECRET_PREFIX.clientId.length + 22) : null;
        const [row] = (await mapUniqueViolations(
          () =>
            trx('scim_clients')
              .insert({ name, auth_provider_id: provider.id, auth_method: method, jwt_subject: jwtSubject, data_scope: dataScope, oauth_client_id: oauthClientId })
              .returning(['id']),
          { scim_clients__lower_name: nameConflict(name) },
        )) as Array<{ id: string }>;
        const id = row!.id;
        const secrets: { token?: string; clientId?: string; clientSecret?: string } = {};
        if (method === 'static_token') secrets.token = (await insertCredential(trx, id, 'static_token', days)).secret;
        if (method === 'oauth_client_credentials') {
          secrets.clientId = oauthClientId!;
          secrets.clientSecret = (await insertCredential(trx, id, 'client_secret', days)).secret;
        }
        await recordAdmin(trx, 'admin.scim_client.create', id, adminId, { type: 'ScimClient', id }, { name, authMethod: method });
        return { id, secrets };
      });
      return { ...toClient(await findRow(created.id)), ...created.secrets };
    },

    async getScimClient(id: string): Promise<ScimClient> {
      return toClient(await findRow(id));
    },

    async listScimClients(query: { q?: string; limit?: number; offset?: number } = {}): Promise<{ items: ScimClient[]; total: number }> {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const offset = Math.max(query.offset ?? 0, 0);
      const filter = (builder: Knex.QueryBuilder): Knex.QueryBuilder =>
        query.q ? builder.whereILike('c.name', `%${query.q.replace(/[\\%_]/g, '\\$&')}%`) : builder;
      const [rows, [count]] = await Promise.all([
        filter(selectClients()).orderByRaw('lower(c.name)').limit(limit).offset(offset),
        filter(knex('scim_clients as c')).count<Array<{ total: number }>>('* as total'),
      ]);
      return { items: (rows as ClientRow[]).map(toClient), total: Number(count?.total ?? 0) };
    },

    async updateScimClient(id: string, input: UpdateScimClientInput, adminId?: string): Promise<ScimClient> {
      await knex.transaction(async (trx) => {
        const current = await findRow(id, trx);
        if (input.authMethod !== undefined && input.authMethod !== current.auth_method) {
          throw new DomainError('immutable', 'the authentication method of a SCIM client cannot be changed; create a new client instead', { field: 'authMethod' });
        }
        const changes: Record<string, unknown> = {};
        if (input.name !== undefined) changes.name = requireName(input.name);
        if (input.dataScope !== undefined) {
          if (!DATA_SCOPES.includes(input.dataScope)) throw DomainError.invalidInput('dataScope must be "all" or "own"', 'dataScope');
          changes.data_scope = input.dataScope;
        }
        if (input.jwtSubject !== undefined) {
          assertThat(current.auth_method === 'jwt', 'invalid_input', 'jwtSubject applies only to the jwt method', { field: 'jwtSubject' });
          changes.jwt_subject = requireSubject(input.jwtSubject);
        }
        if (input.authProviderId !== undefined) {
          const provider = await requireProvider(input.authProviderId, trx);
          if (current.auth_method === 'jwt') assertThat(provider.kind === 'oidc', 'invalid_input', 'the jwt method needs an OpenID Connect authentication provider', { field: 'authProviderId' });
          changes.auth_provider_id = provider.id;
          // The client's users are linked to their client's provider: relink them (link-rebuilds.ts).
          if (provider.id !== current.auth_provider_id) await scheduleLinkRebuild(trx, { providerId: provider.id, clientId: id, reason: 'client_moved' });
        }
        if (Object.keys(changes).length === 0) return;
        changes.updated_at = clock();
        await mapUniqueViolations(() => trx('scim_clients').where('id', id).update(changes), {
          scim_clients__lower_name: nameConflict(String(changes.name)),
        });
        await recordAdmin(trx, 'admin.scim_client.update', id, adminId, { type: 'ScimClient', id }, { fields: Object.keys(input) });
      });
      // A changed subject or provider changes who may authenticate as this client: drop cached verdicts.
      if (input.jwtSubject !== undefined || input.authProviderId !== undefined || input.dataScope !== undefined || input.name !== undefined) {
        onRevoked?.clientRevoked(id);
      }
      if (input.authProviderId !== undefined) deps.onLinkRebuildScheduled?.();
      return toClient(await findRow(id));
    },

    /**
     * Deletes the client and with it every token, secret and access token (one transaction; rows cascade).
     * Users and groups it provisioned stay (created_by_client_id becomes NULL); audit events keep its id.
     */
    async deleteScimClient(id: string, adminId?: string): Promise<void> {
      await knex.transaction(async (trx) => {
        const client = await requireClient(id, trx);
        await trx('scim_clients').where('id', id).delete();
        await recordAdmin(trx, 'admin.scim_client.delete', id, adminId, { type: 'ScimClient', id }, { name: client.name });
      });
      onRevoked?.clientRevoked(id);
    },

    listTokens: (clientId: string) => listCredentials(clientId, 'static_token'),

    async createStaticToken(clientId: string, options: { lifetimeDays?: number } = {}, adminId?: string): Promise<CreatedStaticToken> {
      const { secret, credential } = await createCredential(clientId, 'static_token', options, adminId);
      return { ...credential, token: secret };
    },

    revokeStaticToken: (clientId: string, tokenId: string, adminId?: string) => revokeCredential(clientId, tokenId, 'static_token', adminId),

    listSecrets: (clientId: string) => listCredentials(clientId, 'client_secret'),

    async createClientSecret(clientId: string, options: { lifetimeDays?: number } = {}, adminId?: string): Promise<CreatedClientSecret> {
      const { secret, credential, oauthClientId } = await createCredential(clientId, 'client_secret', options, adminId);
      return { ...credential, clientId: oauthClientId!, clientSecret: secret };
    },

    revokeClientSecret: (clientId: string, secretId: string, adminId?: string) => revokeCredential(clientId, secretId, 'client_secret', adminId),
  };
}

export type ScimClientService = ReturnType<typeof createScimClientService>;
