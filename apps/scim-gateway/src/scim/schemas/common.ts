import { attribute } from './define.js';
import type { AttributeDefinition } from './types.js';

// Attributes every resource carries (RFC 7643 §3.1). They are not part of a schema's `attributes` list in
// /Schemas, but filters, sorting and `attributes=` address them.
export const commonAttributes: AttributeDefinition[] = [
  attribute('id', 'string', 'A unique identifier for a SCIM resource as defined by the service provider.', { mutability: 'readOnly', returned: 'always', uniqueness: 'server', caseExact: true }),
  attribute('externalId', 'string', 'A String that is an identifier for the resource as defined by the provisioning client.', { caseExact: true }),
  attribute('meta', 'complex', 'A complex attribute containing resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      attribute('resourceType', 'string', 'The name of the resource type of the resource.', { mutability: 'readOnly', caseExact: true }),
      attribute('created', 'dateTime', 'The "DateTime" that the resource was added to the service provider.', { mutability: 'readOnly' }),
      attribute('lastModified', 'dateTime', 'The most recent DateTime that the details of this resource were updated at the service provider.', { mutability: 'readOnly' }),
      attribute('location', 'reference', 'The URI of the resource being returned.', { mutability: 'readOnly', caseExact: true }),
      attribute('version', 'string', 'The version of the resource being returned.', { mutability: 'readOnly', caseExact: true }),
    ],
  }),
];
