import { DomainError } from './errors.js';
import type { AuthProviderKind } from './auth-providers.js';
import { usersTable } from './models/index.js';

const U = usersTable.columns;

// Identity mapping: which value of a sign-in (a claim of the provider's ID token, or a SAML attribute) names
// which user of the directory. A SCIM client of the provider writes the user; the mapped user value is kept
// in user_provider_links (see directory/links.ts), so a sign-in is found by one indexed lookup.

/** The user values a claim can be compared to. */
export type IdentityAttribute = 'externalId' | 'userName' | 'email' | 'employeeNumber';
export const IDENTITY_ATTRIBUTES: readonly IdentityAttribute[] = ['externalId', 'userName', 'email', 'employeeNumber'];

export interface IdentityMapping {
  /**
   * OIDC: a claim of the ID token (`sub`, `oid`, `email`, `preferred_username` or any named top-level claim).
   * SAML: `NameID` or the name of an attribute of the assertion.
   */
  claim: string;
  attribute: IdentityAttribute;
}

/** The first round's meaning, kept for providers saved before mappings existed. */
export const DEFAULT_IDENTITY_MAPPING: IdentityMapping = { claim: 'sub', attribute: 'externalId' };

export type IdentityMappingPresetName = 'keycloak' | 'entra_id' | 'okta' | 'generic_oidc' | 'generic_saml';

export interface IdentityMappingPreset {
  name: IdentityMappingPresetName;
  label: string;
  kind: AuthProviderKind;
  mapping: IdentityMapping;
  /** Why this claim: shown in the admin form and in docs/applications.md. */
  why: string;
}

/** One place per identity provider's habit (QUIRK): the pair that is stable there. */
export const IDENTITY_MAPPING_PRESETS: readonly IdentityMappingPreset[] = [
  {
    name: 'keycloak',
    label: 'Keycloak',
    kind: 'oidc',
    mapping: { claim: 'sub', attribute: 'externalId' },
    // QUIRK: the Keycloak SCIM plugin sends the Keycloak user id as externalId; `sub` is that id.
    why: "Keycloak's SCIM plugin sends the Keycloak user id as externalId, and the ID token's sub is that id.",
  },
  {
    name: 'entra_id',
    label: 'Microsoft Entra ID',
    kind: 'oidc',
    mapping: { claim: 'oid', attribute: 'externalId' },
    // QUIRK: Entra's `sub` is pairwise (different per application); `oid` is the object id, the same everywhere.
    why: "Entra's sub differs per application; oid is the user's object id. Map objectId to externalId in the Entra provisioning attribute mappings.",
  },
  {
    name: 'okta',
    label: 'Okta',
    kind: 'oidc',
    mapping: { claim: 'sub', attribute: 'externalId' },
    // QUIRK: Okta sends its user id (00u...) as externalId, and `sub` is that id.
    why: "Okta provisions externalId as the Okta user id (00u...), which is also the ID token's sub.",
  },
  {
    name: 'generic_oidc',
    label: 'Other OpenID Connect provider',
    kind: 'oidc',
    mapping: { claim: 'sub', attribute: 'externalId' },
    why: 'sub is the stable identifier OpenID Connect guarantees (Core 1.0 section 2); have the provider send it as externalId. Email changes and can be reassigned.',
  },
  {
    name: 'generic_saml',
    label: 'SAML provider',
    kind: 'saml',
    mapping: { claim: 'NameID', attribute: 'email' },
    why: 'Most SAML providers send the email address as NameID (urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress).',
  },
];

// A claim name: printable, no spaces; long enough for URIs used as claim names.
const CLAIM_NAME = /^[A-Za-z0-9_.:/#-]{1,200}$/;

/** Validates an admin's identity mapping (or a preset's name) for a provider of this kind. */
export function parseIdentityMapping(value: unknown, kind: AuthProviderKind): IdentityMapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw DomainError.invalidInput('identityMapping must be an object {claim, attribute} or {preset}', 'identityMapping');
  }
  const input = value as Record<string, unknown>;
  if (input.preset !== undefined) {
    const preset = IDENTITY_MAPPING_PRESETS.find((candidate) => candidate.name === input.preset);
    if (!preset) throw DomainError.invalidInput(`identityMapping.preset must be one of ${IDENTITY_MAPPING_PRESETS.map((p) => p.name).join(', ')}`, 'identityMapping.preset');
    if (preset.kind !== kind) throw DomainError.invalidInput(`the preset ${preset.name} is for ${preset.kind.toUpperCase()} providers`, 'identityMapping.preset');
    return { ...preset.mapping };
  }
  const { claim, attribute } = input;
  if (typeof claim !== 'string' || !CLAIM_NAME.test(claim)) {
    throw DomainError.invalidInput('identityMapping.claim must be a claim or attribute name (letters, digits, _ . : / # -, at most 200)', 'identityMapping.claim');
  }
  if (typeof attribute !== 'string' || !(IDENTITY_ATTRIBUTES as readonly string[]).includes(attribute)) {
    throw DomainError.invalidInput(`identityMapping.attribute must be one of ${IDENTITY_ATTRIBUTES.join(', ')}`, 'identityMapping.attribute');
  }
  return { claim, attribute: attribute as IdentityAttribute };
}

/** userName and emails compare case-insensitively (RFC 7643 §4.1.1, §4.1.2 caseExact false); ids exactly. */
export function normalizeIdentityValue(attribute: IdentityAttribute, value: string): string {
  return attribute === 'userName' || attribute === 'email' ? value.toLowerCase() : value;
}

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/**
 * The SQL of the mapped user value, over a user row aliased `u` with its `data` (jsonb) and `user_name` and
 * `external_id`, and a mapping (jsonb) expression: one definition for every writer of links (a create's CTE,
 * maintainLinks, the rebuild). NULL when the user has no such value: no link then.
 */
export function identityValueSql(user: string, mapping: string): string {
  const emails = `(CASE WHEN jsonb_typeof(${user}.${U.data} -> 'emails') = 'array' THEN ${user}.${U.data} -> 'emails' ELSE '[]'::jsonb END)`;
  // The primary email (RFC 7643 §4.1.2), else the first one.
  const email =
    `(SELECT lower(e ->> 'value') FROM jsonb_array_elements(${emails}) WITH ORDINALITY AS x(e, n) ` +
    `WHERE jsonb_typeof(e -> 'value') = 'string' ORDER BY coalesce(e ->> 'primary' = 'true', false) DESC, n LIMIT 1)`;
  return (
    `(CASE coalesce(${mapping} ->> 'attribute', 'externalId') ` +
    `WHEN 'externalId' THEN nullif(${user}.${U.externalId}, '') ` +
    `WHEN 'userName' THEN lower(${user}.${U.userName}) ` +
    `WHEN 'email' THEN nullif(${email}, '') ` +
    `WHEN 'employeeNumber' THEN nullif(${user}.${U.data} -> '${ENTERPRISE}' ->> 'employeeNumber', '') END)`
  );
}
