import { attribute } from './define.js';
import type { SchemaDefinition } from './types.js';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

// RFC 7643 §4.2. Members are users only: Roster does not nest groups (see routes/groups.ts).
export const groupSchema: SchemaDefinition = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: [
    attribute('displayName', 'string', 'A human-readable name for the Group.', { required: true, uniqueness: 'server' }),
    attribute('members', 'complex', 'A list of members of the Group.', {
      multiValued: true,
      subAttributes: [
        attribute('value', 'string', 'Identifier of the member of this Group.', { mutability: 'immutable', caseExact: true }),
        attribute('$ref', 'reference', 'The URI corresponding to a SCIM resource that is a member of this Group.', { mutability: 'immutable', referenceTypes: ['User'], caseExact: true }),
        attribute('display', 'string', 'A human-readable name of the member.', { mutability: 'readOnly' }),
        attribute('type', 'string', 'A label indicating the type of resource.', { mutability: 'immutable', canonicalValues: ['User'] }),
      ],
    }),
  ],
};
