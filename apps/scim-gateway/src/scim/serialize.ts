import type { DocumentShape, GroupRecord, JsonObject, ResourceRef, UserDocument, UserRecord } from '@roster/domain';
import { GROUP_SCHEMA, USER_SCHEMA } from './schemas/index.js';

// Resources as served (RFC 7643 §3): schemas, id, externalId, the stored attributes, then the references
// computed from memberships, and meta with a weak ETag version (RFC 7644 §3.14).

export function etagOf(version: number): string {
  return `W/"${version}"`;
}

export function userLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/Users/${id}`;
}

export function groupLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/Groups/${id}`;
}

/**
 * The `schemas` of a resource (RFC 7643 §3): its core schema, then every extension it holds values of, in the
 * document's order. Extension values sit under their URN keys (RFC 7643 §3.3) and no core attribute name
 * starts with `urn:`, so those keys are exactly the extensions the resource holds.
 */
export function schemasOfDocument(core: string, document: JsonObject): string[] {
  const schemas = [core];
  for (const key of Object.keys(document)) if (EXTENSION_KEY.test(key)) schemas.push(key);
  return schemas;
}

const EXTENSION_KEY = /^urn:/i;

export function serializeUser(user: UserRecord, baseUrl: string, groups?: ResourceRef[]): JsonObject {
  const { externalId: _externalId, ...attributes } = user.data;
  const resource: JsonObject = { schemas: schemasOfDocument(USER_SCHEMA, attributes), id: user.id };
  if (user.externalId !== null) resource.externalId = user.externalId;
  Object.assign(resource, attributes);
  resource.userName = user.userName;
  resource.active = user.active;
  if (groups) {
    resource.groups = groups.map((group) => ({
      value: group.value,
      $ref: groupLocation(baseUrl, group.value),
      display: group.display,
      type: 'direct',
    }));
  }
  resource.meta = metaOf('User', user, userLocation(baseUrl, user.id));
  return resource;
}

/**
 * How lists read user documents to write them into a response unparsed (`userJson`): the attributes served
 * from their own columns are left out of the document, and its extension URN keys decide `schemas`.
 */
export const USER_DOCUMENT_SHAPE: DocumentShape = { omit: ['externalId', 'userName', 'active'] };

const USER_SCHEMAS_JSON = JSON.stringify([USER_SCHEMA]);
/**
 * `schemas` as JSON text per list of extension keys: nearly every user of a directory carries the same few
 * (the enterprise extension, an admin's declared ones), so the text is made once, not once per user.
 * Bounded: a `keep` policy may store any URN, and one bad client must not grow this without end.
 */
const USER_SCHEMAS_BY_KEYS = new Map<string, string>();
const USER_SCHEMAS_CACHED = 64;

function userSchemasJson(extensionKeys: readonly string[]): string {
  if (extensionKeys.length === 0) return USER_SCHEMAS_JSON;
  const key = extensionKeys.length === 1 ? extensionKeys[0]! : extensionKeys.join('\n');
  let text = USER_SCHEMAS_BY_KEYS.get(key);
  if (text === undefined) {
    text = JSON.stringify([USER_SCHEMA, ...extensionKeys]);
    if (USER_SCHEMAS_BY_KEYS.size < USER_SCHEMAS_CACHED) USER_SCHEMAS_BY_KEYS.set(key, text);
  }
  return text;
}

/**
 * `serializeUser` with the user's groups, written straight to JSON text, the stored document spliced in as
 * PostgreSQL wrote it: the same resource (a test holds the two equal), without parsing the document and
 * serializing it again.
 */
export function userJson(user: UserDocument, baseUrl: string): string {
  const schemas = userSchemasJson(user.extensionKeys);
  let text = `{"schemas":${schemas},"id":${JSON.stringify(user.id)}`;
  if (user.externalId !== null) text += `,"externalId":${JSON.stringify(user.externalId)}`;
  // jsonb writes an object as `{...}`; its members go between ours (none when it is `{}`).
  const members = user.documentJson.slice(1, -1);
  if (members.trim() !== '') text += `,${members}`;
  text += `,"userName":${JSON.stringify(user.userName)},"active":${user.active}`;
  const prefixes = locationPrefixes(baseUrl);
  // Ids are PostgreSQL uuids (hex digits and dashes): written as they are, as in the meta below.
  let refs = '';
  for (const group of user.groups) {
    refs += `${refs ? ',' : ''}{"value":"${group.value}","$ref":${prefixes.groups}${group.value}","display":${JSON.stringify(group.display)},"type":"direct"}`;
  }
  const meta = `{"resourceType":"User","created":"${user.created}","lastModified":"${user.lastModified}","location":${prefixes.users}${user.id}","version":${JSON.stringify(etagOf(user.version))}}`;
  return `${text},"groups":[${refs}],"meta":${meta}}`;
}

let prefixesOf: { baseUrl: string; users: string; groups: string } | undefined;

/** `"<baseUrl>/Users/` and `"<baseUrl>/Groups/` as JSON text without the closing quote (one base URL per process). */
function locationPrefixes(baseUrl: string): { users: string; groups: string } {
  if (prefixesOf?.baseUrl !== baseUrl) {
    const open = (path: string): string => JSON.stringify(`${baseUrl}${path}`).slice(0, -1);
    prefixesOf = { baseUrl, users: open('/Users/'), groups: open('/Groups/') };
  }
  return prefixesOf;
}

/** The `meta` attribute (RFC 7643 §3.1): the version is the ETag (RFC 7644 §3.14). */
function metaOf(resourceType: 'User' | 'Group', record: { createdAt: Date; updatedAt: Date; version: number }, location: string): JsonObject {
  return { resourceType, created: record.createdAt.toISOString(), lastModified: record.updatedAt.toISOString(), location, version: etagOf(record.version) };
}

export function serializeGroup(group: GroupRecord, baseUrl: string, members?: ResourceRef[]): JsonObject {
  const { externalId: _externalId, ...attributes } = group.data;
  const resource: JsonObject = { schemas: schemasOfDocument(GROUP_SCHEMA, attributes), id: group.id };
  if (group.externalId !== null) resource.externalId = group.externalId;
  Object.assign(resource, attributes);
  resource.displayName = group.displayName;
  if (members) {
    resource.members = members.map((member) => ({
      value: member.value,
      $ref: userLocation(baseUrl, member.value),
      display: member.display,
      type: 'User',
    }));
  }
  resource.meta = metaOf('Group', group, groupLocation(baseUrl, group.id));
  return resource;
}
