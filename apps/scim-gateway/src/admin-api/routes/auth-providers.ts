import { IDENTITY_ATTRIBUTES, IDENTITY_MAPPING_PRESETS, type AuthProvider } from '@roster/domain';
import { ApiError } from '../errors.js';
import { route, type AdminRoute } from '../define.js';
import { array, boolean, dateTime, discriminated, integer, literal, nullable, object, oneOf, optional, string, unknownValue } from '../schema.js';
import { errorSchema, pageOf, pageQueryShape, uuid, type RouteDeps } from './common.js';

const METADATA_XML_MAX = 512 * 1024;

const identityMappingSchema = object({
  claim: string({ min: 1, max: 200, description: 'OIDC: an ID token claim (sub, oid, email, preferred_username or another); SAML: NameID or an attribute name' }),
  attribute: oneOf(IDENTITY_ATTRIBUTES, { description: 'The user value the claim is compared to (userName and email case-insensitively)' }),
});
// An admin may send a preset's name instead of the pair (the provider form's first choice).
const identityMappingInput = optional(
  object({
    preset: optional(oneOf(IDENTITY_MAPPING_PRESETS.map((preset) => preset.name), { description: 'A preset instead of claim and attribute' })),
    claim: optional(string({ min: 1, max: 200 })),
    attribute: optional(oneOf(IDENTITY_ATTRIBUTES)),
  }, { description: 'Which claim of a sign-in matches which user value; a change rebuilds the links (docs/applications.md)' }),
);

const providerSchema = object({
  id: uuid(),
  name: string(),
  kind: oneOf(['oidc', 'saml']),
  issuer: nullable(string({ description: 'OIDC issuer as discovery confirmed it, or the SAML entity id' })),
  clientId: nullable(string({ description: 'OIDC: our client id at the provider' })),
  hasClientSecret: boolean({ description: 'The OIDC client secret itself is never returned' }),
  adminSignIn: boolean({ description: 'OIDC only: admins may sign in to the admin app through this provider (default false)' }),
  metadata: unknownValue({ description: 'OIDC: discovered endpoints; SAML: entity id, sign-in URL, signing certificate (public)' }),
  entityId: optional(nullable(string({ description: 'SAML only' }))),
  ssoUrl: optional(nullable(string({ description: 'SAML only: the sign-in URL' }))),
  metadataUrl: optional(nullable(string({ description: 'SAML only' }))),
  certificateExpiresAt: optional(nullable(dateTime({ description: 'SAML only: end of validity of the signing certificate' }))),
  scimClientCount: integer({ min: 0, description: 'SCIM clients using this provider; deleting is refused while above 0' }),
  identityMapping: identityMappingSchema,
  linkRebuild: nullable(
    object({
      status: oneOf(['running', 'done']),
      reason: oneOf(['mapping_changed', 'client_moved']),
      processed: integer({ min: 0 }),
      total: integer({ min: 0 }),
      createdAt: dateTime(),
      finishedAt: nullable(dateTime()),
    }, { description: 'The newest rebuild of this provider\'s links and its progress' }),
  ),
  createdAt: dateTime(),
  updatedAt: dateTime(),
});

/** The domain object plus the SAML facts a screen shows, flattened. */
function present(provider: AuthProvider): Record<string, unknown> {
  if (provider.kind !== 'saml') return { ...provider };
  const metadata = provider.metadata as { entityId?: string; ssoUrl?: string | null; metadataUrl?: string | null; signingCertificate?: { validTo?: string } | null };
  const validTo = metadata.signingCertificate?.validTo;
  const expires = validTo ? new Date(validTo) : null;
  return {
    ...provider,
    entityId: metadata.entityId ?? null,
    ssoUrl: metadata.ssoUrl ?? null,
    metadataUrl: metadata.metadataUrl ?? null,
    certificateExpiresAt: expires && !Number.isNaN(expires.getTime()) ? expires : null,
  };
}

const name = string({ min: 1, max: 200 });
const adminSignIn = boolean({
  description: 'OIDC only. Offer "Sign in with <provider>" to admins (default false). Admins then need email_verified=true at the provider; the first sign-in binds the admin to the provider subject.',
});
const issuer = string({ format: 'uri', max: 2000, description: 'http:// only when ROSTER_ALLOW_INSECURE_ISSUERS=1' });

export function authProviderRoutes({ services }: RouteDeps): AdminRoute[] {
  const { authProviders } = services;
  return [
    route({
      method: 'GET',
      path: '/api/admin/auth-providers',
      tag: 'Authentication providers',
      summary: 'List authentication providers',
      query: object(pageQueryShape),
      responses: { 200: { description: 'A page of providers', schema: pageOf(providerSchema) } },
      handle: async ({ query }) => {
        const page = await authProviders.list(query);
        return { body: { items: page.items.map(present), total: page.total } };
      },
    }),
    route({
      method: 'POST',
      path: '/api/admin/auth-providers',
      tag: 'Authentication providers',
      summary: 'Add an OIDC provider (discovery must succeed) or a SAML provider (from its metadata)',
      body: discriminated('kind', {
        oidc: object({ name, kind: literal('oidc'), issuer, clientId: string({ min: 1, max: 500 }), clientSecret: optional(nullable(string({ max: 2000 }))), adminSignIn: optional(adminSignIn), identityMapping: identityMappingInput }),
        saml: object({ name, kind: literal('saml'), metadataXml: optional(string({ max: METADATA_XML_MAX })), metadataUrl: optional(string({ format: 'uri', max: 2000 })), identityMapping: identityMappingInput }),
      }),
      responses: {
        201: { description: 'The provider', schema: providerSchema },
        409: { description: 'A provider with this name exists (code conflict)', schema: errorSchema },
      },
      handle: async ({ body, admin }) => ({ status: 201, body: present(await authProviders.create(body, admin.id)) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/auth-providers/test-discovery',
      tag: 'Authentication providers',
      summary: 'Run OpenID Connect discovery for an issuer without saving anything',
      body: object({ issuer }),
      responses: {
        200: { description: 'The discovered metadata (issuer, endpoints, jwks_uri)', schema: unknownValue() },
        400: { description: 'Discovery failed; the message is the exact error (code discovery_failed)', schema: errorSchema },
      },
      handle: async ({ body }) => {
        const outcome = await authProviders.testDiscovery(body.issuer);
        if (!outcome.ok) {
          throw new ApiError('discovery_failed', 400, `OpenID Connect discovery for ${body.issuer} failed: ${outcome.error.message}`, { field: 'issuer', discoveryError: outcome.error.code });
        }
        return { body: outcome.metadata };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/identity-mapping-presets',
      tag: 'Authentication providers',
      summary: 'The identity mapping presets per known provider (Keycloak, Entra ID, Okta, generic OIDC and SAML)',
      responses: {
        200: {
          description: 'The presets',
          schema: object({
            items: array(object({ name: string(), label: string(), kind: oneOf(['oidc', 'saml']), mapping: identityMappingSchema, why: string() })),
          }),
        },
      },
      handle: async () => ({ body: { items: IDENTITY_MAPPING_PRESETS } }),
    }),
    route({
      method: 'GET',
      path: '/api/admin/auth-providers/:id',
      tag: 'Authentication providers',
      summary: 'One authentication provider',
      responses: { 200: { description: 'The provider', schema: providerSchema } },
      handle: async ({ params }) => ({ body: present(await authProviders.get(params.id!)) }),
    }),
    route({
      method: 'PATCH',
      path: '/api/admin/auth-providers/:id',
      tag: 'Authentication providers',
      summary: 'Change a provider (OIDC discovery runs again)',
      description: 'clientSecret: a string replaces it, null removes it, absent keeps it. kind cannot change.',
      body: object(
        {
          name: optional(name),
          kind: optional(oneOf(['oidc', 'saml'], { description: 'Accepted only when unchanged' })),
          issuer: optional(issuer),
          clientId: optional(string({ min: 1, max: 500 })),
          clientSecret: optional(nullable(string({ max: 2000 }))),
          metadataXml: optional(string({ max: METADATA_XML_MAX })),
          metadataUrl: optional(string({ format: 'uri', max: 2000 })),
          adminSignIn: optional(adminSignIn),
          identityMapping: identityMappingInput,
        },
        { minProperties: 1 },
      ),
      responses: { 200: { description: 'The provider', schema: providerSchema } },
      handle: async ({ params, body, admin }) => {
        const { kind, ...changes } = body;
        if (kind !== undefined) {
          const current = await authProviders.get(params.id!);
          if (current.kind !== kind) throw new ApiError('immutable', 400, 'The kind of an authentication provider cannot change; add a new provider instead', { field: 'kind' });
        }
        return { body: present(await authProviders.update(params.id!, changes, admin.id)) };
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/admin/auth-providers/:id',
      tag: 'Authentication providers',
      summary: 'Delete a provider (refused while a SCIM client uses it)',
      responses: {
        204: { description: 'Deleted' },
        409: { description: 'Used by SCIM clients (code in_use; details.clients lists them)', schema: errorSchema },
      },
      handle: async ({ params, admin }) => {
        await authProviders.delete(params.id!, admin.id);
        return { status: 204 };
      },
    }),
  ];
}
