import { ApiError } from '../errors.js';
import { route, type AdminRoute } from '../define.js';
import { array, boolean, dateTime, integer, nullable, object, optional, queryBool, queryEnum, queryString, string, unknownValue } from '../schema.js';
import { activityEventSchema } from './activity.js';
import { pageOf, pageQueryShape, uuid, type RouteDeps } from './common.js';

const emailSchema = object({ value: string(), type: optional(string()), primary: optional(boolean()) });

const userFields = {
  id: uuid(),
  userName: string(),
  displayName: nullable(string()),
  givenName: nullable(string()),
  familyName: nullable(string()),
  externalId: nullable(string()),
  active: boolean(),
  lockReason: nullable(string({ description: 'Why the account is locked (e.g. a refused deletion)' })),
  emails: array(emailSchema),
  createdByClientId: nullable(uuid('The SCIM client that provisioned the user')),
  createdByClientName: nullable(string()),
  createdAt: dateTime(),
  updatedAt: dateTime(),
};

const userSummarySchema = object(userFields);

const extensionsSchema = array(object({ urn: string(), declared: boolean({ description: 'False: kept under unknownExtensions "keep", no declared extension owns it' }), values: unknownValue() }), {
  description: 'The extension values among attributes, by URN',
});

const userDetailSchema = object({
  ...userFields,
  attributes: unknownValue({ description: 'The SCIM attributes as provisioned' }),
  extensions: extensionsSchema,
  groups: array(object({ id: uuid(), displayName: string() }), { description: 'At most 500, by name' }),
  groupCount: integer({ min: 0 }),
  providerLinks: array(object({ providerId: uuid(), providerName: string(), providerKind: string(), externalId: string() })),
  recentActivity: array(activityEventSchema, { description: 'The 20 latest events about this user' }),
});

const groupFields = {
  id: uuid(),
  displayName: string(),
  externalId: nullable(string()),
  memberCount: integer({ min: 0 }),
  createdByClientId: nullable(uuid()),
  createdByClientName: nullable(string()),
  createdAt: dateTime(),
  updatedAt: dateTime(),
};

const memberSchema = object({ id: uuid(), userName: string(), displayName: nullable(string()), active: boolean() });

// Directory browsing (read only). Ids that are not UUIDs answer 404 like unknown ones: they name nothing.
export function directoryRoutes({ services }: RouteDeps): AdminRoute[] {
  const { directory } = services;
  return [
    route({
      method: 'GET',
      path: '/api/admin/users',
      tag: 'Directory',
      summary: 'List provisioned users',
      description: '`q` searches userName, displayName, given and family name and emails.',
      query: object({
        ...pageQueryShape,
        active: queryBool({ description: 'true: active users only; false: locked or deactivated users only' }),
        status: queryEnum(['active', 'locked'], { description: 'Same as active=true / active=false' }),
        clientId: queryString({ format: 'uuid', description: 'Only users provisioned by this SCIM client' }),
      }),
      responses: { 200: { description: 'A page of users', schema: pageOf(userSummarySchema) } },
      handle: async ({ query }) => {
        const fromStatus = query.status === undefined ? undefined : query.status === 'active';
        if (query.active !== undefined && fromStatus !== undefined && query.active !== fromStatus) {
          throw new ApiError('invalid_input', 400, 'Invalid query: active and status contradict each other', { issues: [{ path: 'status', message: 'contradicts active' }] });
        }
        const { status: _status, ...rest } = query;
        return { body: await directory.listUsers({ ...rest, active: query.active ?? fromStatus }) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/users/:id',
      tag: 'Directory',
      summary: 'One user with attributes, groups, provider links and recent activity',
      responses: { 200: { description: 'The user', schema: userDetailSchema } },
      handle: async ({ params }) => {
        const user = await directory.getUser(params.id!);
        if (!user) throw ApiError.notFound('User');
        const names = await directory.clientNames(user.recentActivity.map((event) => event.clientId));
        return { body: { ...user, recentActivity: user.recentActivity.map((event) => ({ ...event, clientName: event.clientId ? (names.get(event.clientId) ?? null) : null })) } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/groups',
      tag: 'Directory',
      summary: 'List groups with member counts',
      query: object(pageQueryShape),
      responses: { 200: { description: 'A page of groups', schema: pageOf(object(groupFields)) } },
      handle: async ({ query }) => ({ body: await directory.listGroups(query) }),
    }),
    route({
      method: 'GET',
      path: '/api/admin/groups/:id',
      tag: 'Directory',
      summary: 'One group (without its members)',
      responses: { 200: { description: 'The group', schema: object({ ...groupFields, attributes: unknownValue(), extensions: extensionsSchema }) } },
      handle: async ({ params }) => {
        const group = await directory.getGroup(params.id!);
        if (!group) throw ApiError.notFound('Group');
        return { body: group };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/groups/:id/members',
      tag: 'Directory',
      summary: 'Members of a group, paged; q searches userName and displayName',
      query: object(pageQueryShape),
      responses: { 200: { description: 'A page of members', schema: pageOf(memberSchema) } },
      handle: async ({ params, query }) => {
        const page = await directory.listGroupMembers(params.id!, query);
        if (!page) throw ApiError.notFound('Group');
        return { body: page };
      },
    }),
  ];
}
