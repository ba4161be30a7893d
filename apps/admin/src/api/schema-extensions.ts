import { http, type Page } from './client.ts';
import type { BodyOf, ItemOf, ResponseOf } from './types.ts';

// The shapes come from the admin API's OpenAPI document (types.ts): a route change the app does not follow
// fails the typecheck.
// Only an attribute's shape is declared here: the route declares `attributes` as JSON values the domain validates
// (packages/domain schema-extensions.ts, with its recursive subAttributes), so the document says no more than that.
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
export type SchemaExtension = Omit<ResponseOf<'/api/admin/schema-extensions/{id}', 'get'>, 'attributes'> & { attributes: ExtensionAttribute[] };
export type SchemaExtensionInput = Omit<BodyOf<'/api/admin/schema-extensions', 'post'>, 'attributes'> & { attributes: ExtensionAttribute[] };
export type UnrecognizedExtension = ItemOf<ResponseOf<'/api/admin/schema-extensions/unrecognized', 'get'>>;

export const schemaExtensionsApi = {
  list: () => http.get<Page<SchemaExtension>>('/schema-extensions', { limit: 500 }),
  create: (input: SchemaExtensionInput) => http.post<SchemaExtension>('/schema-extensions', input),
  update: (id: string, change: Partial<Omit<SchemaExtensionInput, 'urn' | 'resourceType'>>, confirm = false) =>
    http.patch<SchemaExtension>(`/schema-extensions/${encodeURIComponent(id)}${confirm ? '?confirm=true' : ''}`, change),
  remove: (id: string, confirm = false) => http.delete(`/schema-extensions/${encodeURIComponent(id)}${confirm ? '?confirm=true' : ''}`),
  unrecognized: () => http.get<{ items: UnrecognizedExtension[] }>('/schema-extensions/unrecognized'),
  declareUnrecognized: (urn: string, resourceType: 'User' | 'Group') => http.post<SchemaExtension>('/schema-extensions/unrecognized', { urn, resourceType }),
};
