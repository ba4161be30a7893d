// The admin API's shapes, taken from its OpenAPI 3.1 document (openapi.gen.ts, generated at build time by
// `pnpm api:types` from the gateway's route declarations). Nothing here is declared by hand: when a route's
// path or shape changes and the app does not follow, the typecheck fails.
import type { paths } from './openapi.gen.ts';

export type ApiPath = keyof paths;
type Method = 'get' | 'post' | 'patch' | 'delete';
type Operation<P extends ApiPath, M extends Method> = NonNullable<paths[P][M]>;

/** The JSON body of a response (200 unless said). */
export type ResponseOf<P extends ApiPath, M extends Method, S extends number = 200> =
  Operation<P, M> extends { responses: { [K in S]: { content: { 'application/json': infer T } } } } ? T : never;

/** The JSON request body. */
export type BodyOf<P extends ApiPath, M extends Method> = Operation<P, M> extends { requestBody: { content: { 'application/json': infer T } } } ? T : never;

/** The query parameters. */
export type QueryOf<P extends ApiPath, M extends Method> = Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** One item of a `{ items, total }` list. */
export type ItemOf<T> = T extends { items: Array<infer I> } ? I : never;
