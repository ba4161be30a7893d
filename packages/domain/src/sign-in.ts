import type { Knex } from 'knex';
import { selectRows, statement } from '@roster/db';
import { isUuid } from './directory/rows.js';
import type { JsonObject, ResourceRef } from './directory/types.js';
import { DomainError } from './errors.js';
import { DEFAULT_IDENTITY_MAPPING, type IdentityMapping } from './identity-mapping.js';
import { groupMembersTable, groupsTable, userProviderLinksTable, usersTable } from './models/index.js';

// Sign-in resolution: who a person signing in through an authentication provider is in the directory, and
// whether they may sign in. The application (or Roster itself, for an ID token it verified) hands over the
// sign-in's claims; the provider's identity mapping picks the claim and the user value it matches.

/**
 * Why an account is locked, as applications see it. Public and stable: applications branch on it.
 * - `deactivated_by_provider`: the identity provider set `active: false` over SCIM (RFC 7643 §4.1.1).
 * - `deletion_refused`: the identity provider deleted the user, Roster refused the deletion (the setting "User
 *   accounts deletable by admins" is off) and locked the account instead.
 * - `locked`: any other lock.
 */
export type LockReason = 'deactivated_by_provider' | 'deletion_refused' | 'locked';
export const LOCK_REASONS: readonly LockReason[] = ['deactivated_by_provider', 'deletion_refused', 'locked'];

/** The lock reasons as stored in users.lock_reason (private: the public names are LockReason). */
export const STORED_LOCK_REASON = { inactive: 'scim_inactive', deleteRefused: 'delete_refused' } as const;

/** The public reason of a stored lock; an inactive user without a stored reason was provisioned inactive. */
export function publicLockReason(stored: string | null): LockReason {
  if (stored === null || stored === STORED_LOCK_REASON.inactive) return 'deactivated_by_provider';
  if (stored === STORED_LOCK_REASON.deleteRefused) return 'deletion_refused';
  return 'locked';
}

export type SignInStatus = 'found' | 'inactive' | 'unknown' | 'ambiguous';

/** The person as an application needs them at sign-in (the SCIM names, RFC 7643 §4.1). */
export interface SignInUser {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
  name: JsonObject | null;
  emails: Array<{ value: string; type?: string; primary?: boolean }>;
  active: true;
}

/**
 * The answer. `found` carries the user and their groups; `inactive` carries the public lock reason and no user;
 * `unknown` means no user of the provider carries this identity; `ambiguous` that more than one active user
 * does (externalId is not unique, RFC 7643 §3.1): the sign-in must be refused. Only `found` admits the person.
 */
export interface SignInResolution {
  status: SignInStatus;
  reason?: LockReason;
  user?: SignInUser;
  groups?: ResourceRef[];
}

interface ResolveRow {
  mapping: IdentityMapping | string | null;
  claim_type: string | null;
  [U.id]: string | null;
  [U.userName]: string | null;
  [U.externalId]: string | null;
  [U.active]: boolean | null;
  [U.lockReason]: string | null;
  [U.data]: JsonObject | string | null;
  groups: unknown;
}

/**
 * One statement, on the index user_provider_links (provider_id, external_id): the provider's mapping, the
 * claim it names (read from the claims, passed as one jsonb parameter), its normalised value, and at most two
 * linked users, active ones first, with the groups of an active one. The claims' shape is checked from
 * `claim_type` afterwards (no second query). Lower-casing is PostgreSQL's lower(), as the links were written.
 */
const U = usersTable.columns;
const G = groupsTable.columns;
const M = groupMembersTable.columns;
const L = userProviderLinksTable.columns;

const RESOLVE_BY_CLAIMS = statement(
  "WITH p AS (SELECT p.id, coalesce(p.identity_mapping, '{\"claim\":\"sub\",\"attribute\":\"externalId\"}'::jsonb) AS m FROM auth_providers p WHERE p.id = ?::uuid), " +
    "k AS (SELECT p.id, p.m, (?::jsonb) -> (p.m ->> 'claim') AS claim FROM p), " +
    "v AS (SELECT k.id, k.m, k.claim, CASE WHEN jsonb_typeof(k.claim) <> 'string' THEN NULL " +
    "WHEN k.m ->> 'attribute' IN ('userName', 'email') THEN lower(k.claim #>> '{}') ELSE k.claim #>> '{}' END AS value FROM k) " +
    // Only the attributes signInUser answers, not the whole user document: pg parses what is selected.
    `SELECT v.m AS mapping, jsonb_typeof(v.claim) AS claim_type, u.id, u.${U.userName}, u.${U.externalId}, u.${U.active}, u.${U.lockReason}, ` +
    `jsonb_build_object('displayName', u.${U.data} -> 'displayName', 'name', u.${U.data} -> 'name', 'emails', u.${U.data} -> 'emails') AS ${U.data}, ` +
    `CASE WHEN u.${U.active} THEN (SELECT coalesce(json_agg(json_build_object('value', g.id, 'display', g.${G.displayName}) ORDER BY g.${G.seq}), '[]'::json) ` +
    `FROM ${groupMembersTable.table} gm JOIN groups g ON g.id = gm.${M.groupId} WHERE gm.${M.userId} = u.id) END AS groups ` +
    `FROM v LEFT JOIN ${userProviderLinksTable.table} l ON l.${L.providerId} = v.id AND l.${L.externalId} = v.value LEFT JOIN users u ON u.id = l.${L.userId} ` +
    `ORDER BY u.${U.active} DESC NULLS LAST LIMIT 2`,
);

function parsed<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

function signInUser(row: ResolveRow): SignInUser {
  const stored = row[U.data];
  const data = stored === null ? {} : parsed(stored);
  const emails = Array.isArray(data.emails) ? (data.emails as SignInUser['emails']).filter((email) => typeof email?.value === 'string') : [];
  return {
    id: row.id!,
    userName: row[U.userName]!,
    externalId: row[U.externalId],
    displayName: typeof data.displayName === 'string' ? data.displayName : null,
    name: typeof data.name === 'object' && data.name !== null ? (data.name as JsonObject) : null,
    emails,
    active: true,
  };
}

export interface SignInProvider {
  id: string;
  kind: 'oidc' | 'saml';
  issuer: string | null;
  clientId: string | null;
  jwksUri: string | null;
  identityMapping: IdentityMapping;
}

/**
 * How long `provider()` may answer from memory: an ID token's resolution would otherwise read the provider (its
 * issuer, client id and jwks_uri) with a statement of its own on every request. A change or deletion of the
 * provider clears this process's entry at once (`forget`, called by the authentication provider service) and
 * reaches other processes sharing the database within this bound (DESIGN.md: caches are bounded in time), as
 * settings do (SETTINGS_CACHE_MS). Resolution by claims reads the mapping in its own statement, never from here.
 */
export const SIGN_IN_PROVIDER_CACHE_MS = 2000;
/** Most providers kept in memory (one entry per provider in use; the oldest goes first). */
const PROVIDER_CACHE_MAX_ENTRIES = 1000;

export interface SignInResolverOptions {
  /** Milliseconds since the epoch; tests step it. */
  now?: () => number;
  providerCacheMs?: number;
}

export function createSignInResolver(knex: Knex, options: SignInResolverOptions = {}) {
  const now = options.now ?? Date.now;
  const cacheMs = options.providerCacheMs ?? SIGN_IN_PROVIDER_CACHE_MS;
  const providers = new Map<string, { provider: SignInProvider; at: number }>();
  // Bumped by forget(): a read started before a change cannot put the old provider back into the cache.
  let generation = 0;

  async function readProvider(providerId: string): Promise<SignInProvider> {
    const row = (await knex('auth_providers').where('id', providerId).first('id', 'kind', 'issuer', 'client_id', 'metadata', 'identity_mapping')) as
      | { id: string; kind: 'oidc' | 'saml'; issuer: string | null; client_id: string | null; metadata: JsonObject | string | null; identity_mapping: IdentityMapping | string | null }
      | undefined;
    if (!row) throw DomainError.notFound('authentication provider', providerId);
    const metadata = row.metadata === null ? {} : parsed(row.metadata);
    return {
      id: row.id,
      kind: row.kind,
      issuer: row.issuer,
      clientId: row.client_id,
      jwksUri: typeof metadata.jwks_uri === 'string' ? metadata.jwks_uri : null,
      identityMapping: row.identity_mapping === null ? { ...DEFAULT_IDENTITY_MAPPING } : parsed(row.identity_mapping),
    };
  }

  return {
    /**
     * Resolves a sign-in from its claims (an ID token's payload the application verified, or SAML attributes
     * with `NameID`). Throws DomainError `not_found` for an unknown provider and `invalid_input` when the
     * mapped claim is missing or not a string: bad input never resolves to `found`.
     */
    async resolveByClaims(providerId: string, claims: JsonObject): Promise<SignInResolution> {
      if (!isUuid(providerId)) throw DomainError.notFound('authentication provider', providerId);
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw DomainError.invalidInput('claims must be a JSON object', 'claims');
      const rows = await selectRows<ResolveRow>(knex, RESOLVE_BY_CLAIMS, [providerId, JSON.stringify(claims)]);
      const first = rows[0];
      if (!first) throw DomainError.notFound('authentication provider', providerId);
      const mapping = first.mapping === null ? DEFAULT_IDENTITY_MAPPING : parsed(first.mapping);
      if (first.claim_type === null) throw DomainError.invalidInput(`the claims lack "${mapping.claim}", the claim this provider's identity mapping names`, `claims.${mapping.claim}`);
      if (first.claim_type !== 'string') throw DomainError.invalidInput(`the claim "${mapping.claim}" must be a string, not ${first.claim_type}`, `claims.${mapping.claim}`);
      if (first.id === null) return { status: 'unknown' };
      const active = rows.filter((row) => row[U.active] === true);
      if (active.length > 1) return { status: 'ambiguous' };
      if (active.length === 1) return { status: 'found', user: signInUser(first), groups: groupRefs(first.groups) };
      return { status: 'inactive', reason: publicLockReason(first[U.lockReason]) };
    },

    /**
     * What verifying an ID token for this provider needs (issuer, audience = client id, JWKS); not_found
     * otherwise. From memory for at most SIGN_IN_PROVIDER_CACHE_MS; an unknown provider is never cached.
     */
    async provider(providerId: string): Promise<SignInProvider> {
      if (!isUuid(providerId)) throw DomainError.notFound('authentication provider', providerId);
      const at = now();
      const hit = providers.get(providerId);
      if (hit && at - hit.at < cacheMs) return hit.provider;
      const started = generation;
      const provider = await readProvider(providerId);
      if (cacheMs > 0 && started === generation) {
        providers.delete(providerId);
        if (providers.size >= PROVIDER_CACHE_MAX_ENTRIES) providers.delete(providers.keys().next().value!);
        providers.set(providerId, { provider, at });
      }
      return provider;
    },

    /** Drops this process's cached provider (it was changed or deleted here). */
    forget(providerId: string): void {
      generation += 1;
      providers.delete(providerId);
    },
  };
}

function groupRefs(value: unknown): ResourceRef[] {
  const list = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return Array.isArray(list) ? (list as ResourceRef[]) : [];
}

export type SignInResolver = ReturnType<typeof createSignInResolver>;
