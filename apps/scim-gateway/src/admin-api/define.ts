import type { Context } from 'koa';
import type { AuthenticatedSession } from '@roster/domain';
import { ApiError } from './errors.js';
import { validate, type Infer, type JsonSchema, type Schema } from './schema.js';

// Every admin route is declared once, as data: method, path, the schemas of its query and body, its
// responses and its handler. The same list mounts the routes, validates requests and writes the OpenAPI
// document, so the document cannot drift from what is served (a test checks both directions).

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface ResponseDoc {
  description: string;
  /** JSON body; also strips undeclared fields from what the handler returns. */
  schema?: Schema<unknown>;
  /** A non-JSON body (CSV). */
  contentType?: string;
}

export interface Reply {
  status?: number;
  body?: unknown;
}

interface BaseInput<B, Q> {
  ctx: Context;
  body: B;
  query: Q;
  params: Record<string, string>;
  requestId: string;
}

export interface PublicInput<B, Q> extends BaseInput<B, Q> {
  /** Set when the request carries a valid session cookie anyway. */
  session?: SessionInput;
}

export interface SessionInput extends AuthenticatedSession {
  /** The cookie value (needed to sign out). */
  token: string;
}

export interface AuthedInput<B, Q> extends BaseInput<B, Q> {
  admin: { id: string; email: string };
  session: SessionInput;
}

interface RouteDocs {
  method: Method;
  path: string;
  summary: string;
  description?: string;
  tag: string;
  responses: Record<number, ResponseDoc>;
}

export interface AdminRoute extends RouteDocs {
  auth: 'session' | 'none';
  /** Mutating session routes need X-CSRF-Token. */
  csrf: boolean;
  body?: Schema<unknown>;
  query?: Schema<unknown>;
  run(input: BaseInput<unknown, unknown> & { session?: SessionInput }): Promise<Reply | void>;
}

type Handler<I> = (input: I) => Promise<Reply | void> | Reply | void;

export function route<BS extends Schema<unknown> | undefined = undefined, QS extends Schema<unknown> | undefined = undefined>(
  def: RouteDocs & {
    body?: BS;
    query?: QS;
    handle: Handler<AuthedInput<BS extends Schema<unknown> ? Infer<BS> : undefined, QS extends Schema<unknown> ? Infer<QS> : undefined>>;
  },
): AdminRoute {
  const { handle, ...docs } = def;
  return {
    ...docs,
    auth: 'session',
    csrf: def.method !== 'GET',
    run: async (input) => {
      if (!input.session) throw new ApiError('unauthenticated', 401, 'Sign in first');
      return handle({ ...input, admin: input.session.admin, session: input.session } as never);
    },
  };
}

export function publicRoute<BS extends Schema<unknown> | undefined = undefined, QS extends Schema<unknown> | undefined = undefined>(
  def: RouteDocs & {
    body?: BS;
    query?: QS;
    handle: Handler<PublicInput<BS extends Schema<unknown> ? Infer<BS> : undefined, QS extends Schema<unknown> ? Infer<QS> : undefined>>;
  },
): AdminRoute {
  const { handle, ...docs } = def;
  return { ...docs, auth: 'none', csrf: false, run: async (input) => handle(input as never) };
}

export function parseQuery(route: AdminRoute, query: Record<string, string | string[] | undefined>): unknown {
  if (!route.query) {
    const unknown = Object.keys(query);
    if (unknown.length) throw invalid('query', unknown.map((key) => ({ path: key, message: 'is not a known query parameter' })));
    return undefined;
  }
  const result = validate(route.query, { ...query });
  if (!result.ok) throw invalid('query', result.issues);
  return result.value;
}

export function parseBody(route: AdminRoute, body: unknown): unknown {
  if (!route.body) return undefined;
  const result = validate(route.body, body);
  if (!result.ok) throw invalid('body', result.issues);
  return result.value;
}

function invalid(where: 'query' | 'body', issues: Array<{ path: string; message: string }>): ApiError {
  const first = issues[0]!;
  const label = where === 'body' ? 'request body' : 'query';
  const summary = first.path ? `${first.path} ${first.message}` : first.message;
  return new ApiError('invalid_input', 400, `Invalid ${label}: ${summary}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, { issues });
}

/** The response body as declared for this status (undeclared fields dropped). */
export function shapeResponse(route: AdminRoute, status: number, body: unknown): unknown {
  const schema = route.responses[status]?.schema;
  return schema ? schema.strip(body) : body;
}

export type { JsonSchema };
