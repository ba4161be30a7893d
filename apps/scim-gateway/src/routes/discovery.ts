import { EVENT_URIS, type JsonObject } from '@roster/domain';
import { ScimError } from '../scim/errors.js';
import { MAX_PAYLOAD_BYTES, sendScim } from '../scim/http.js';
import { DEFAULT_PAGE_SIZE, LIST_RESPONSE_SCHEMA, MAX_PAGE_SIZE } from '../scim/list.js';
import { allSchemas, commonAttributes, currentSchemas, findSchema, type SchemaDefinition } from '../scim/schemas/index.js';
import { MAX_BULK_OPERATIONS } from './bulk.js';
import type { ScimRoutes } from './scim-routes.js';

// Discovery (RFC 7644 §4): readable without authentication, since it holds no secrets and identity providers
// read it before they have a working credential. Every value is true to what is implemented.

function serviceProviderConfig(publicUrl: string, baseUrl: string): JsonObject {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: `${publicUrl}/admin/`,
    patch: { supported: true },
    bulk: { supported: true, maxOperations: MAX_BULK_OPERATIONS, maxPayloadSize: MAX_PAYLOAD_BYTES },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    // RFC 9865 §4: both index (startIndex) and cursor paging.
    pagination: {
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: DEFAULT_PAGE_SIZE,
      maxPageSize: MAX_PAGE_SIZE,
    },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description:
          'A static access token issued by Roster, an access token from Roster\'s OAuth 2.0 token endpoint (client credentials), or a JWT from the client\'s OpenID Connect provider, in the Authorization header.',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        documentationUri: `${publicUrl}/admin/`,
        primary: true,
      },
    ],
    // RFC 9967 §4: the SET events Roster generates for event streams (docs/events.md). Requests are always
    // completed synchronously: asynchronous SCIM requests (§2.5.1.1) are not offered.
    securityEvents: { asyncRequest: 'none', eventUris: [...EVENT_URIS] },
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

function resourceTypeResource(name: 'User' | 'Group', baseUrl: string): JsonObject {
  // schemaExtensions lists the enterprise extension and every declared one with its `required` (RFC 7643 §6).
  const definition = currentSchemas().resourceTypes[name];
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: definition.id,
    name: definition.name,
    endpoint: definition.endpoint,
    description: definition.description,
    schema: definition.schema,
    schemaExtensions: definition.schemaExtensions,
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${definition.id}` },
  };
}

function schemaResource(schema: SchemaDefinition, baseUrl: string): JsonObject {
  const core = schema.id.includes(':core:');
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    // externalId is a common attribute (RFC 7643 §3.1); published on core schemas so clients see it is supported.
    attributes: core ? [...schema.attributes, commonAttributes.find((attribute) => attribute.name === 'externalId')!] : schema.attributes,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

function listOf(resources: JsonObject[]): JsonObject {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources };
}

export function mountDiscoveryRoutes(router: ScimRoutes, deps: { publicUrl: string; baseUrl: string }): void {
  const { publicUrl, baseUrl } = deps;
  const config = serviceProviderConfig(publicUrl, baseUrl);

  // `serviceConfiguration` is an old draft name that some clients still request.
  for (const path of ['/ServiceProviderConfig', '/ServiceProviderConfigs', '/serviceConfiguration']) {
    router.on('GET', path, (ctx) => sendScim(ctx, 200, config));
  }
  router.on('GET', '/ResourceTypes', (ctx) => sendScim(ctx, 200, listOf([resourceTypeResource('User', baseUrl), resourceTypeResource('Group', baseUrl)])));
  router.on('GET', '/ResourceTypes/:name', (ctx) => {
    const name = Object.keys(currentSchemas().resourceTypes).find((candidate) => candidate.toLowerCase() === ctx.params.name!.toLowerCase());
    if (!name) throw ScimError.notFound(`ResourceType ${ctx.params.name} not found`);
    sendScim(ctx, 200, resourceTypeResource(name as 'User' | 'Group', baseUrl));
  });
  router.on('GET', '/Schemas', (ctx) => sendScim(ctx, 200, listOf(allSchemas().map((schema) => schemaResource(schema, baseUrl)))));
  router.on('GET', '/Schemas/:urn', (ctx) => {
    const schema = findSchema(ctx.params.urn!);
    if (!schema) throw ScimError.notFound(`Schema ${ctx.params.urn} not found`);
    sendScim(ctx, 200, schemaResource(schema, baseUrl));
  });
}
