import { http, type Page } from './client.ts';

/** One attribute with the RFC 7643 §7 characteristics (the server fills the defaults). */
export interface ExtensionAttribute {
  name: string;
  type: 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex';
  multiValued?: boolean;
  description?: string;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: ExtensionAttribute[];
  filterable?: boolean;
}

export interface SchemaExtension {
  id: string;
  urn: string;
  resourceType: 'User' | 'Group';
  required: boolean;
  name: string;
  description: string;
  attributes: ExtensionAttribute[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface SchemaExtensionInput {
  urn: string;
  resourceType: 'User' | 'Group';
  required?: boolean;
  attributes: ExtensionAttribute[];
}

export interface UnrecognizedExtension {
  urn: string;
  resourceType: 'User' | 'Group';
  resources: number;
}

export const schemaExtensionsApi = {
  list: () => http.get<Page<SchemaExtension>>('/schema-extensions', { limit: 500 }),
  create: (input: SchemaExtensionInput) => http.post<SchemaExtension>('/schema-extensions', input),
  update: (id: string, change: Partial<Omit<SchemaExtensionInput, 'urn' | 'resourceType'>>, confirm = false) =>
    http.patch<SchemaExtension>(`/schema-extensions/${encodeURIComponent(id)}${confirm ? '?confirm=true' : ''}`, change),
  remove: (id: string, confirm = false) => http.delete(`/schema-extensions/${encodeURIComponent(id)}${confirm ? '?confirm=true' : ''}`),
  unrecognized: () => http.get<{ items: UnrecognizedExtension[] }>('/schema-extensions/unrecognized'),
  declareUnrecognized: (urn: string, resourceType: 'User' | 'Group') => http.post<SchemaExtension>('/schema-extensions/unrecognized', { urn, resourceType }),
};
