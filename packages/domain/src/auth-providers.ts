import type { Knex } from 'knex';
import { isUuid } from './directory/rows.js';
import type { AuditService } from './audit.js';
import { DomainError, assertThat, mapUniqueViolations } from './errors.js';
import { readSamlMetadata, type SamlMetadata } from './saml-metadata.js';
import { DEFAULT_IDENTITY_MAPPING, IDENTITY_MAPPING_PRESETS, parseIdentityMapping, type IdentityMapping } from './identity-mapping.js';
import { scheduleLinkRebuild } from './link-rebuilds.js';
import { linkRebuildsTable } from './models/index.js';

// Authentication providers: the identity providers SCIM clients belong to. An OIDC provider is checked by
// running OpenID Connect discovery when it is saved (the discovery itself lives in @roster/auth, injected here
// so the domain does not depend on the HTTP client); a SAML provider by reading its metadata.

export type AuthProviderKind = 'oidc' | 'saml';

/** What OpenID Connect discovery found (OpenID Connect Discovery 1.0 §3); stored in auth_providers.metadata. */
export interface OidcProviderMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint?: string | undefined;
  authorization_endpoint?: string | undefined;
  userinfo_endpoint?: string | undefined;
  end_session_endpoint?: string | undefined;
  id_token_signing_alg_values_supported?: string[] | undefined;
  discovered_at: string;
}

export interface SamlProviderMetadata extends SamlMetadata {
  metadataUrl: string | null;
  read_at: string;
}

export type DiscoveryOutcome =
  | { ok: true; metadata: OidcProviderMetadata }
  | { ok: false; error: { code: string; message: string } };

/** Runs OpenID Connect discovery for an issuer; never throws (the outcome carries the exact error). */
export type DiscoverIssuer = (issuer: string) => Promise<DiscoveryOutcome>;
/** Fetches SAML metadata from a URL (bounded size and time); throws `DomainError` on failure. */
export type FetchSamlMetadata = (url: string) => Promise<string>;

export interface AuthProvider {
  id: string;
  name: string;
  kind: AuthProviderKind;
  issuer: string | null;
  clientId: string | null;
  /** The OIDC client secret itself is never returned by any API. */
  hasClientSecret: boolean;
  /** OIDC only: admins may sign in to the admin app through this provider. Off unless switched on. */
  adminSignIn: boolean;
  metadata: OidcProviderMetadata | SamlProviderMetadata | Record<string, never>;
  /** Number of SCIM clients using this provider (deleting is refused while > 0). */
  scimClientCount: number;
  /** Which claim of a sign-in matches which user value (identity-mapping.ts). */
  identityMapping: IdentityMapping;
  /** The newest rebuild of this provider's links (after a mapping change or a client moved here), or null. */
  linkRebuild: { status: 'running' | 'done'; reason: string; processed: number; total: number; createdAt: string; finishedAt: string | null } | null;
  createdAt: Date;
  updatedAt: Date;
}

export type CreateAuthProviderInput =
  | { name: string; kind: 'oidc'; issuer: string; clientId: string; clientSecret?: string | null; adminSignIn?: boolean; identityMapping?: unknown }
  | { name: string; kind: 'saml'; metadataXml?: string; metadataUrl?: string; identityMapping?: unknown };

export interface UpdateAuthProviderInput {
  name?: string;
  issuer?: string;
  clientId?: string;
  /** A string replaces the secret, `null` removes it, absent keeps it. */
  clientSecret?: string | null;
  metadataXml?: string;
  metadataUrl?: string;
  /** OIDC only. */
  adminSignIn?: boolean;
  /** `{claim, attribute}` or `{preset}`; a change schedules a rebuild of the provider's links. */
  identityMapping?: unknown;
}

export interface AuthProviderServiceDeps {
  discover: DiscoverIssuer;
  fetchSamlMetadata?: FetchSamlMetadata;
  audit?: AuditService;
  /** Told when a rebuild of links was committed, so a worker can start it at once (link-rebuilds.ts). */
  onLinkRebuildScheduled?: () => void;
  /** Told when a provider was changed or deleted, so this process's caches of it go at once (sign-in.ts). */
  onChanged?: (providerId: string) => void;
}

interface AuthProviderRow {
  id: string;
  name: string;
  kind: AuthProviderKind;
  issuer: string | null;
  client_id: string | null;
  has_client_secret: boolean;
  admin_sign_in: boolean;
  metadata: AuthProvider['metadata'];
  scim_client_count: number;
  identity_mapping: IdentityMapping | null;
  link_rebuild: { status: 'running' | 'done'; reason: string; processed: number; total: number; createdAt: string; finishedAt: string | null } | string | null;
  created_at: Date;
  updated_at: Date;
}

const R = linkRebuildsTable.columns;

// Never select client_secret: only whether there is one.
const SELECT = [
  'p.id',
  'p.name',
  'p.kind',
  'p.issuer',
  'p.client_id',
  'p.admin_sign_in',
  'p.metadata',
  'p.identity_mapping',
  'p.created_at',
  'p.updated_at',
];

function toProvider(row: AuthProviderRow): AuthProvider {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    issuer: row.issuer,
    clientId: row.client_id,
    hasClientSecret: row.has_client_secret,
    adminSignIn: row.admin_sign_in === true,
    metadata: row.metadata ?? {},
    scimClientCount: Number(row.scim_client_count),
    identityMapping: row.identity_mapping ?? { ...DEFAULT_IDENTITY_MAPPING },
    linkRebuild: typeof row.link_rebuild === 'string' ? (JSON.parse(row.link_rebuild) as AuthProvider['linkRebuild']) : row.link_rebuild,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}


function requireText(value: unknown, field: string, max = 200): string {
  if (typeof value !== 'string' || value.trim() === '') throw DomainError.invalidInput(`${field} is required`, field);
  const trimmed = value.trim();
  if (trimmed.length > max) throw DomainError.invalidInput(`${field} must be at most ${max} characters`, field);
  return trimmed;
}

function requireUrl(value: unknown, field: string): string {
  const text = requireText(value, field, 2000);
  const url = URL.parse(text);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw DomainError.invalidInput(`${field} must be an http(s) URL`, field);
  return text;
}

/** adminSignIn: a boolean when given; only an OIDC provider can sign admins in (the flow is OpenID Connect). */
function adminSignInOf(value: unknown, kind: AuthProviderKind): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw DomainError.invalidInput('adminSignIn must be true or false', 'adminSignIn');
  if (value && kind !== 'oidc') throw DomainError.invalidInput('admin sign-in works through OIDC providers only', 'adminSignIn');
  return value;
}

const nameConflict = (name: string) => () => new DomainError('conflict', `an authentication provider named "${name}" already exists`, { field: 'name' });

export function createAuthProviderService(knex: Knex, deps: AuthProviderServiceDeps) {
  const { audit } = deps;

  function select(db: Knex | Knex.Transaction = knex): Knex.QueryBuilder {
    return db('auth_providers as p').select([
      ...SELECT,
      knex.raw('(p.client_secret IS NOT NULL) AS has_client_secret'),
      knex.raw('(SELECT count(*)::int FROM scim_clients c WHERE c.auth_provider_id = p.id) AS scim_client_count'),
      knex.raw(
        `(SELECT json_build_object('status', CASE WHEN r.${R.finishedAt} IS NULL THEN 'running' ELSE 'done' END, 'reason', r.${R.reason}, ` +
          `'processed', r.${R.processed}, 'total', r.${R.total}, 'createdAt', r.${R.createdAt}, 'finishedAt', r.${R.finishedAt}) ` +
          `FROM ${linkRebuildsTable.table} r WHERE r.${R.providerId} = p.id ORDER BY r.${R.createdAt} DESC LIMIT 1) AS link_rebuild`,
      ),
    ]);
  }

  async function find(id: string, db: Knex | Knex.Transaction = knex): Promise<AuthProvider> {
    if (!isUuid(id)) throw DomainError.notFound('authentication provider', id);
    const row = (await select(db).where('p.id', id).first()) as AuthProviderRow | undefined;
    if (!row) throw DomainError.notFound('authentication provider', id);
    return toProvider(row);
  }

  async function discoverOrThrow(issuer: string): Promise<OidcProviderMetadata> {
    const outcome = await deps.discover(issuer);
    if (!outcome.ok) {
      throw new DomainError('invalid_input', `OpenID Connect discovery for ${issuer} failed: ${outcome.error.message}`, {
        field: 'issuer',
        discoveryError: outcome.error.code,
      });
    }
    return outcome.metadata;
  }

  async function readSaml(input: { metadataXml?: string | undefined; metadataUrl?: string | undefined }): Promise<SamlProviderMetadata> {
    let xml = input.metadataXml;
    let metadataUrl: string | null = null;
    if (xml === undefined || xml.trim() === '') {
      assertThat(input.metadataUrl, 'invalid_input', 'a SAML provider needs metadataXml or metadataUrl', { field: 'metadataXml' });
      metadataUrl = requireUrl(input.metadataUrl, 'metadataUrl');
      assertThat(deps.fetchSamlMetadata, 'invalid_input', 'fetching SAML metadata from a URL is not available; paste metadataXml', { field: 'metadataUrl' });
      xml = await deps.fetchSamlMetadata(metadataUrl);
    }
    return { ...readSamlMetadata(xml), metadataUrl, read_at: new Date().toISOString() };
  }

  async function recordAdmin(operation: string, resourceId: string, adminId: string | undefined, detail?: Record<string, unknown>): Promise<void> {
    if (!audit || !adminId) return;
    await audit.record({ actorType: 'admin', adminId, operation, resourceType: 'AuthProvider', resourceId, status: 200, detail: detail ?? null });
  }

  return {
    /** The "Test discovery" button: the endpoints found, or the exact error. Nothing is stored. */
    async testDiscovery(issuer: string): Promise<DiscoveryOutcome> {
      return deps.discover(requireUrl(issuer, 'issuer'));
    },

    async create(input: CreateAuthProviderInput, adminId?: string): Promise<AuthProvider> {
      const name = requireText(input?.name, 'name');
      let row: Record<string, unknown>;
      if (input.kind === 'oidc') {
        const issuer = requireUrl(input.issuer, 'issuer');
        const clientId = requireText(input.clientId, 'clientId', 500);
        const metadata = await discoverOrThrow(issuer);
        const secret = input.clientSecret === undefined || input.clientSecret === null || input.clientSecret === '' ? null : requireText(input.clientSecret, 'clientSecret', 2000);
        // The issuer is stored as discovery confirmed it: JWT `iss` is compared to it exactly.
        const adminSignIn = adminSignInOf(input.adminSignIn, 'oidc') ?? false;
        row = { name, kind: 'oidc', issuer: metadata.issuer, client_id: clientId, client_secret: secret, admin_sign_in: adminSignIn, metadata: JSON.stringify(metadata) };
        if (input.identityMapping !== undefined) row.identity_mapping = JSON.stringify(parseIdentityMapping(input.identityMapping, 'oidc'));
      } else if (input.kind === 'saml') {
        adminSignInOf((input as { adminSignIn?: unknown }).adminSignIn, 'saml');
        const metadata = await readSaml(input);
        row = { name, kind: 'saml', issuer: metadata.entityId, client_id: null, client_secret: null, metadata: JSON.stringify(metadata) };
        // A SAML provider has no `sub`: without a choice, the generic SAML preset (NameID against the email).
        row.identity_mapping = JSON.stringify(
          input.identityMapping !== undefined ? parseIdentityMapping(input.identityMapping, 'saml') : IDENTITY_MAPPING_PRESETS.find((preset) => preset.name === 'generic_saml')!.mapping,
        );
      } else {
        throw DomainError.invalidInput('kind must be "oidc" or "saml"', 'kind');
      }
      const [inserted] = await mapUniqueViolations(() => knex('auth_providers').insert(row).returning(['id']), {
        auth_providers__lower_name: nameConflict(name),
      });
      const provider = await find((inserted as { id: string }).id);
      await recordAdmin('admin.auth_provider.create', provider.id, adminId, { name, kind: provider.kind, adminSignIn: provider.adminSignIn });
      return provider;
    },

    async update(id: string, input: UpdateAuthProviderInput, adminId?: string): Promise<AuthProvider> {
      const current = await find(id);
      const changes: Record<string, unknown> = {};
      if (input.name !== undefined) changes.name = requireText(input.name, 'name');
      const adminSignIn = adminSignInOf(input.adminSignIn, current.kind);
      if (adminSignIn !== undefined) changes.admin_sign_in = adminSignIn;
      if (current.kind === 'oidc') {
        assertThat(input.metadataXml === undefined && input.metadataUrl === undefined, 'invalid_input', 'SAML metadata does not apply to an OIDC provider', { field: 'metadataXml' });
        if (input.clientId !== undefined) changes.client_id = requireText(input.clientId, 'clientId', 500);
        if (input.clientSecret !== undefined) {
          changes.client_secret = input.clientSecret === null || input.clientSecret === '' ? null : requireText(input.clientSecret, 'clientSecret', 2000);
        }
        // Discovery runs again on every update so a provider that moved or broke is noticed when saved.
        const metadata = await discoverOrThrow(input.issuer === undefined ? current.issuer ?? '' : requireUrl(input.issuer, 'issuer'));
        changes.issuer = metadata.issuer;
        changes.metadata = JSON.stringify(metadata);
      } else {
        assertThat(input.issuer === undefined && input.clientId === undefined && input.clientSecret === undefined, 'invalid_input', 'issuer, clientId and clientSecret do not apply to a SAML provider', { field: 'issuer' });
        if (input.metadataXml !== undefined || input.metadataUrl !== undefined) {
          const metadata = await readSaml(input);
          changes.issuer = metadata.entityId;
          changes.metadata = JSON.stringify(metadata);
        }
      }
      let mappingChanged = false;
      if (input.identityMapping !== undefined) {
        const mapping = parseIdentityMapping(input.identityMapping, current.kind);
        mappingChanged = mapping.claim !== current.identityMapping.claim || mapping.attribute !== current.identityMapping.attribute;
        if (mappingChanged) changes.identity_mapping = JSON.stringify(mapping);
      }
      if (Object.keys(changes).length === 0) return current;
      changes.updated_at = knex.fn.now();
      await knex.transaction(async (trx) => {
        await mapUniqueViolations(() => trx('auth_providers').where('id', id).update(changes), {
          auth_providers__lower_name: nameConflict(String(changes.name ?? current.name)),
        });
        // Committed with the mapping: a restart cannot lose the rebuild, nor run it before the mapping exists.
        if (mappingChanged) await scheduleLinkRebuild(trx, { providerId: id, reason: 'mapping_changed' });
      });
      deps.onChanged?.(id);
      if (mappingChanged) deps.onLinkRebuildScheduled?.();
      const provider = await find(id);
      await recordAdmin('admin.auth_provider.update', id, adminId, { fields: Object.keys(input) });
      return provider;
    },

    get: (id: string): Promise<AuthProvider> => find(id),

    async list(query: { q?: string; limit?: number; offset?: number } = {}): Promise<{ items: AuthProvider[]; total: number }> {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const offset = Math.max(query.offset ?? 0, 0);
      const filter = (builder: Knex.QueryBuilder): Knex.QueryBuilder =>
        query.q ? builder.whereILike('p.name', `%${query.q.replace(/[\\%_]/g, '\\$&')}%`) : builder;
      const [rows, [count]] = await Promise.all([
        filter(select()).orderByRaw('lower(p.name)').limit(limit).offset(offset),
        filter(knex('auth_providers as p')).count<Array<{ total: number }>>('* as total'),
      ]);
      return { items: (rows as AuthProviderRow[]).map(toProvider), total: Number(count?.total ?? 0) };
    },

    async delete(id: string, adminId?: string): Promise<void> {
      const provider = await find(id);
      if (provider.scimClientCount > 0) {
        const clients = (await knex('scim_clients').where('auth_provider_id', id).select('id', 'name').orderBy('name')) as Array<{ id: string; name: string }>;
        throw new DomainError('in_use', `the authentication provider "${provider.name}" is used by ${clients.length} SCIM client(s): ${clients.map((c) => c.name).join(', ')}`, { clients });
      }
      try {
        await knex('auth_providers').where('id', id).delete();
      } catch (error) {
        // A SCIM client created between the check and the delete: the foreign key (ON DELETE RESTRICT) refuses it.
        if ((error as { code?: string }).code === '23503') throw new DomainError('in_use', `the authentication provider "${provider.name}" is used by a SCIM client`, undefined, { cause: error });
        throw error;
      }
      deps.onChanged?.(id);
      await recordAdmin('admin.auth_provider.delete', id, adminId, { name: provider.name });
    },
  };
}

export type AuthProviderService = ReturnType<typeof createAuthProviderService>;
