import { route, type AdminRoute } from '../define.js';
import { array, boolean, dateTime, integer, object, oneOf, optional, queryBool, string, unknownValue } from '../schema.js';
import { errorSchema, pageOf, pageQueryShape, uuid, type RouteDeps } from './common.js';

// Extension schemas (RFC 7643 §3.3) an admin declares so that attributes an identity provider maps into a
// custom extension are validated, stored, filterable and described by /Schemas. The rules live in
// packages/domain/src/schema-extensions.ts; these routes translate.

const attributes = array(unknownValue({ description: 'An attribute: name, type, multiValued, required, caseExact, mutability, returned, uniqueness (none|server), canonicalValues, referenceTypes, subAttributes (RFC 7643 §7), filterable' }), {
  max: 100,
  description: 'The attributes, with the characteristics of RFC 7643 §7; missing ones take the RFC 7643 §2.2 defaults',
});

const extensionSchema = object({
  id: uuid(),
  urn: string({ description: 'The schema URN, e.g. urn:ietf:params:scim:schemas:extension:acme:2.0:User' }),
  resourceType: oneOf(['User', 'Group']),
  required: boolean({ description: 'Every resource of the type must carry the extension (RFC 7643 §6)' }),
  name: string(),
  description: string(),
  attributes: unknownValue({ description: 'The attributes with every characteristic filled in' }),
  version: integer({ min: 1, description: 'Grows with every change of the declaration' }),
  createdAt: dateTime(),
  updatedAt: dateTime(),
});

const usageSchema = object({
  resources: integer({ min: 0, description: 'Resources holding values of the extension' }),
  attributes: unknownValue({ description: 'Attribute name -> resources holding a value of it' }),
});

const unrecognizedSchema = object({
  items: array(object({ urn: string(), resourceType: oneOf(['User', 'Group']), resources: integer({ min: 0 }) })),
});

const confirm = queryBool({ description: 'Confirms a change that removes stored values (answered 409 with details.confirmationRequired without it)' });

export function schemaExtensionRoutes({ services }: RouteDeps): AdminRoute[] {
  const { schemaExtensions } = services;
  return [
    route({
      method: 'GET',
      path: '/api/admin/schema-extensions',
      tag: 'Schema extensions',
      summary: 'List declared extension schemas',
      query: object(pageQueryShape),
      responses: { 200: { description: 'A page of extension schemas', schema: pageOf(extensionSchema) } },
      handle: async ({ query }) => ({ body: await schemaExtensions.list(query) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/schema-extensions',
      tag: 'Schema extensions',
      summary: 'Declare an extension schema',
      description: 'Indexes for attributes marked filterable or uniqueness "server" are built before the answer.',
      body: object({
        urn: string({ min: 5, max: 300 }),
        resourceType: oneOf(['User', 'Group']),
        required: optional(boolean()),
        name: optional(string({ max: 200 })),
        description: optional(string({ max: 2000 })),
        attributes,
      }),
      responses: {
        201: { description: 'The extension schema', schema: extensionSchema },
        409: { description: 'The URN is declared already, or a unique attribute already has duplicate values (code conflict)', schema: errorSchema },
      },
      handle: async ({ body, admin, requestId }) => ({ status: 201, body: await schemaExtensions.create(body, admin.id, requestId) }),
    }),
    route({
      method: 'GET',
      path: '/api/admin/schema-extensions/unrecognized',
      tag: 'Schema extensions',
      summary: 'URNs kept on resources that no declared extension owns (unknownExtensions "keep")',
      responses: { 200: { description: 'Each URN with how many resources hold values', schema: unrecognizedSchema } },
      handle: async () => ({ body: { items: await schemaExtensions.unrecognized() } }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/schema-extensions/unrecognized',
      tag: 'Schema extensions',
      summary: 'Declare an extension for an unrecognized URN, its attributes read from the kept values (which stay)',
      body: object({ urn: string({ min: 5, max: 300 }), resourceType: oneOf(['User', 'Group']) }),
      responses: { 201: { description: 'The extension schema', schema: extensionSchema } },
      handle: async ({ body, admin, requestId }) => ({ status: 201, body: await schemaExtensions.declareFromUnrecognized(body.urn, body.resourceType, admin.id, requestId) }),
    }),
    route({
      method: 'GET',
      path: '/api/admin/schema-extensions/:id',
      tag: 'Schema extensions',
      summary: 'One extension schema',
      responses: { 200: { description: 'The extension schema', schema: extensionSchema } },
      handle: async ({ params }) => ({ body: await schemaExtensions.get(params.id!) }),
    }),
    route({
      method: 'GET',
      path: '/api/admin/schema-extensions/:id/usage',
      tag: 'Schema extensions',
      summary: 'How many resources hold values of the extension and of each attribute',
      responses: { 200: { description: 'Counts', schema: usageSchema } },
      handle: async ({ params }) => ({ body: await schemaExtensions.usage(params.id!) }),
    }),
    route({
      method: 'PATCH',
      path: '/api/admin/schema-extensions/:id',
      tag: 'Schema extensions',
      summary: 'Change an extension schema (versioned)',
      description:
        'Adding attributes is free. Removing or retyping an attribute that holds values answers 409 (details.confirmationRequired, details.changes with resourcesWithValues) unless confirm=true; confirmed, those values are removed. The URN and resource type cannot change.',
      query: object({ confirm }),
      body: object(
        {
          required: optional(boolean()),
          name: optional(string({ max: 200 })),
          description: optional(string({ max: 2000 })),
          attributes: optional(attributes),
        },
        { minProperties: 1 },
      ),
      responses: {
        200: { description: 'The extension schema', schema: extensionSchema },
        409: { description: 'Confirmation required, or duplicate values for a unique attribute (code conflict)', schema: errorSchema },
      },
      handle: async ({ params, body, query, admin, requestId }) => ({
        body: await schemaExtensions.update(params.id!, body, admin.id, { confirm: query.confirm === true, requestId }),
      }),
    }),
    route({
      method: 'DELETE',
      path: '/api/admin/schema-extensions/:id',
      tag: 'Schema extensions',
      summary: 'Delete an extension schema',
      description: 'When resources hold its values: 409 (details.confirmationRequired, details.resourcesWithValues) unless confirm=true, which removes the values too.',
      query: object({ confirm }),
      responses: {
        204: { description: 'Deleted' },
        409: { description: 'Confirmation required (code conflict)', schema: errorSchema },
      },
      handle: async ({ params, query, admin, requestId }) => {
        await schemaExtensions.delete(params.id!, admin.id, { confirm: query.confirm === true, requestId });
        return { status: 204 };
      },
    }),
  ];
}
