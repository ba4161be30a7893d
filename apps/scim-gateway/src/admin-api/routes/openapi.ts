import { publicRoute, type AdminRoute } from '../define.js';
import { errorSchema, type RouteDeps } from './common.js';
import { SESSION_COOKIE } from '../http.js';
import { unknownValue, type JsonSchema } from '../schema.js';

/** `/api/admin/users/:id` -> `/api/admin/users/{id}` */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };

function errorResponse(description: string): JsonSchema {
  return { description, content: { 'application/json': { schema: ERROR_REF } } };
}

/** An OpenAPI 3.1 document of the admin API, generated from the same route list that is mounted. */
export function buildOpenApiDocument(routes: AdminRoute[], deps: { publicUrl: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const parameters: JsonSchema[] = pathParams(route.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }));
    if (route.query) {
      const query = route.query.jsonSchema() as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        const { description, ...rest } = schema as JsonSchema & { description?: string };
        parameters.push({ name, in: 'query', required: false, ...(description ? { description } : {}), schema: rest });
      }
    }
    const responses: Record<string, JsonSchema> = {};
    for (const [status, doc] of Object.entries(route.responses)) {
      const content = doc.schema
        ? { content: { 'application/json': { schema: Number(status) >= 400 ? ERROR_REF : doc.schema.jsonSchema() } } }
        : doc.contentType
          ? { content: { [doc.contentType]: { schema: { type: 'string' } } } }
          : Number(status) >= 400
            ? { content: { 'application/json': { schema: ERROR_REF } } }
            : {};
      responses[status] = { description: doc.description, ...content };
    }
    if ((route.body || route.query) && !responses['400']) responses['400'] = errorResponse('Invalid input (code invalid_input; details.issues names every field), or invalid_json');
    if (route.auth === 'session') responses['401'] = errorResponse('Not signed in, or the session expired (code unauthenticated)');
    if (route.csrf) responses['403'] = errorResponse('Missing or wrong X-CSRF-Token (code csrf_failed)');
    if (pathParams(route.path).length && !responses['404']) responses['404'] = errorResponse('Not found (also for ids that are not UUIDs)');
    if (route.body) {
      responses['413'] = errorResponse('Body larger than 1 MB (code payload_too_large)');
      responses['415'] = errorResponse('Body is not application/json (code unsupported_media_type)');
    }
    responses['500'] = errorResponse('Internal error; the body carries the requestId');
    const security = route.auth === 'session' ? [route.csrf ? { sessionCookie: [], csrfToken: [] } : { sessionCookie: [] }] : [];
    const operation: JsonSchema = {
      operationId: `${route.method.toLowerCase()}${openApiPath(route.path).replace('/api/admin', '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      security,
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body.jsonSchema() } } } } : {}),
      responses,
    };
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Roster admin API',
      version: deps.version,
      description: 'Configure Roster: admins, authentication providers, SCIM clients and their credentials, settings; browse the directory and the activity log. Secrets appear only in the 201 response that creates them.',
    },
    servers: [{ url: deps.publicUrl }],
    paths,
    components: {
      schemas: { Error: errorSchema.jsonSchema() },
      securitySchemes: {
        sessionCookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Set by POST /api/admin/session' },
        csrfToken: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'The csrfToken of POST/GET /api/admin/session' },
      },
    },
  };
}

export function openApiRoutes(_deps: RouteDeps, all: () => AdminRoute[], version: string, publicUrl: string): AdminRoute[] {
  let cached: JsonSchema | undefined;
  return [
    publicRoute({
      method: 'GET',
      path: '/api/admin/openapi.json',
      tag: 'Info',
      summary: 'This OpenAPI 3.1 document',
      responses: { 200: { description: 'OpenAPI 3.1', schema: unknownValue({ description: 'An OpenAPI 3.1 document' }) } },
      handle: () => {
        cached ??= buildOpenApiDocument(all(), { publicUrl, version });
        return { body: cached };
      },
    }),
  ];
}
