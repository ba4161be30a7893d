import type { SchemaExtensionInput } from '../../api/schema-extensions.ts';

// Starting points for the declaration form. Each names where its shape comes from; the admin edits the URN
// to match what the identity provider is configured to send.

export interface ExtensionPreset {
  id: 'entra' | 'okta' | 'empty';
  input: SchemaExtensionInput;
}

export const extensionPresets: ExtensionPreset[] = [
  {
    // Microsoft Entra ID: custom attributes are mapped to
    // urn:ietf:params:scim:schemas:extension:<CustomExtensionName>:2.0:User:<CustomAttribute> (Entra's
    // "Customize attribute mappings" documentation); all arrive as strings.
    id: 'entra',
    input: {
      urn: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User',
      resourceType: 'User',
      required: false,
      attributes: [
        { name: 'costCenter', type: 'string', filterable: true },
        { name: 'employeeType', type: 'string' },
        { name: 'badges', type: 'complex', multiValued: true, subAttributes: [{ name: 'value', type: 'string' }, { name: 'type', type: 'string' }] },
      ],
    },
  },
  {
    // Okta: each custom app attribute has an "External namespace" (set it to this URN) and an "External name".
    id: 'okta',
    input: {
      urn: 'urn:ietf:params:scim:schemas:extension:okta:2.0:User',
      resourceType: 'User',
      required: false,
      attributes: [
        { name: 'region', type: 'string', filterable: true },
        { name: 'managerEmail', type: 'string' },
        { name: 'badgeNumber', type: 'string', uniqueness: 'server', caseExact: true },
      ],
    },
  },
  { id: 'empty', input: { urn: 'urn:ietf:params:scim:schemas:extension:', resourceType: 'User', required: false, attributes: [] } },
];
