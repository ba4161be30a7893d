import compose from 'koa-compose';
import type { Context, Middleware } from 'koa';

/** A SCIM handler's context: Koa's, with the path's parameters (`/Users/:id` gives `params.id`). */
export type ScimContext = Context & { params: Record<string, string> };
export type ScimMiddleware = (ctx: ScimContext, next: () => Promise<void>) => unknown;

/** The methods SCIM routes are registered for; `*` is any method. */
export type ScimMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | '*';

interface Route {
  method: ScimMethod;
  /** The path as registered, under the SCIM prefix (`/Users/:id`): the label of metrics and logs. */
  template: string;
  /** Literal segments lower-cased (endpoint names match in any case), `:name` parameters, a final `*rest`. */
  segments: string[];
  run(ctx: ScimContext): Promise<void>;
}

export interface ScimMatch {
  /** The route that answers this method on this path. */
  route?: Route;
  /** Template of the first route on this path, also when the method is not one it takes. */
  template?: string;
  /** Methods this path takes (HEAD wherever GET is), for 405 and OPTIONS. */
  allowed: string[];
  params: Record<string, string>;
}

const finished = (): Promise<void> => Promise.resolve();

/** The route's handlers as one function; most routes have one handler, called without koa-compose's dispatch. */
function chainOf(handlers: ScimMiddleware[]): (ctx: ScimContext) => Promise<void> {
  if (handlers.length !== 1) {
    const chain = compose(handlers as Middleware[]);
    return (ctx) => chain(ctx);
  }
  const only = handlers[0]!;
  return (ctx) => {
    // As koa-compose: a handler that throws gives a rejected promise, never a synchronous throw.
    try {
      return Promise.resolve(only(ctx, finished)) as Promise<void>;
    } catch (error) {
      return Promise.reject(error as Error);
    }
  };
}

/** @koa/router's rule: a parameter that is not valid percent-encoding is passed on as sent. */
function decodeParameter(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The SCIM endpoints as a table, matched once per request. The surface has about twenty fixed routes, so
 * a request is matched by its first segment and then segment by segment, and each route's middleware is
 * composed when it is registered. A general router (path-to-regexp over every layer, nested routers, a
 * middleware chain composed per request) cost about 10 µs of a 120 µs lookup (docs/benchmarks.md).
 */
export class ScimRoutes {
  readonly #byFirst = new Map<string, Route[]>();

  /** Registers `handlers` for `method` on the path template (`/Users/:id`, `/Me/*rest`). */
  on(method: ScimMethod, template: string, ...handlers: ScimMiddleware[]): void {
    if (!template.startsWith('/')) throw new Error(`a SCIM route starts with /: ${template}`);
    const segments = template
      .slice(1)
      .split('/')
      .map((segment) => (segment.startsWith(':') || segment.startsWith('*') ? segment : segment.toLowerCase()));
    if (segments.slice(0, -1).some((segment) => segment.startsWith('*'))) throw new Error(`only the last segment may be *rest: ${template}`);
    if (segments[0]!.startsWith(':') || segments[0]!.startsWith('*')) throw new Error(`a SCIM route starts with a fixed segment: ${template}`);
    const route: Route = { method, template, segments, run: chainOf(handlers) };
    // A fixed segment wins over a parameter whatever the order of registration: fewer variable segments
    // first (the sort is stable, so equals keep their order).
    const variable = (candidate: Route): number => candidate.segments.filter((segment) => segment.startsWith(':') || segment.startsWith('*')).length;
    const list = [...(this.#byFirst.get(segments[0]!) ?? []), route].sort((a, b) => variable(a) - variable(b));
    this.#byFirst.set(segments[0]!, list);
  }

  /** `path` is under the SCIM prefix and already normalised (no empty segments but a bare `/`). */
  match(path: string, method: string): ScimMatch {
    const parts = path.length > 1 ? path.slice(1).split('/') : [''];
    const candidates = this.#byFirst.get(parts[0]!.toLowerCase());
    const found: ScimMatch = { allowed: [], params: {} };
    if (!candidates) return found;
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const route of candidates) {
      const params = paramsOf(route.segments, parts);
      if (!params) continue;
      found.template ??= route.template;
      // A route for any method always answers, so `allowed` is only read when every route here names its method.
      if (route.method !== '*') found.allowed.push(...(route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]));
      if (!found.route && (route.method === wanted || route.method === '*')) {
        found.route = route;
        found.template = route.template;
        found.params = params;
      }
    }
    return found;
  }
}

function paramsOf(segments: string[], parts: string[]): Record<string, string> | undefined {
  const rest = segments[segments.length - 1]!.startsWith('*');
  if (rest ? parts.length < segments.length : parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index]!;
    if (segment.startsWith('*')) {
      params[segment.slice(1)] = parts.slice(index).map(decodeParameter).join('/');
      break;
    }
    const part = parts[index]!;
    if (segment.startsWith(':')) {
      if (part === '') return undefined;
      params[segment.slice(1)] = decodeParameter(part);
    } else if (segment !== part && segment !== part.toLowerCase()) {
      return undefined;
    }
  }
  return params;
}
