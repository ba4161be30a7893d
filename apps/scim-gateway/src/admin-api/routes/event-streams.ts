import { PROV_EVENTS, sendVerificationSet, type EventStream } from '@roster/domain';
import { route, type AdminRoute } from '../define.js';
import { array, boolean, dateTime, integer, nullable, object, oneOf, optional, string } from '../schema.js';
import { errorSchema, pageOf, pageQueryShape, uuid, type RouteDeps } from './common.js';

// Event streams (docs/events.md): RFC 9967 SETs pushed to an application (RFC 8935) or polled by it (RFC 8936).

const delivery = oneOf(['push', 'poll']);
const format = oneOf(['notice', 'full'], { description: 'notice: names of the changed attributes; full: the resource as SCIM returns it, or the PATCH operations' });
const eventList = array(string({ min: 1, max: 200 }), { max: 20, description: `RFC 9967 event URIs, among ${PROV_EVENTS.join(', ')}; all when left out` });

const streamFields = {
  id: uuid(),
  name: string(),
  delivery,
  endpointUrl: nullable(string({ description: 'push: where SETs are POSTed' })),
  audience: string({ description: 'The SET `aud`' }),
  hasAuthorizationHeader: boolean({ description: 'push: an Authorization header value is set (never shown)' }),
  events: array(string()),
  format,
  clientIds: nullable(array(uuid(), { description: 'Only resources these SCIM clients provisioned; null: every resource' })),
  state: oneOf(['active', 'paused', 'failing']),
  pollTokenHint: nullable(string({ description: 'poll: last four characters of the token' })),
  lastDeliveryAt: nullable(dateTime()),
  lastDeliveryStatus: nullable(string()),
  lastError: nullable(string()),
  nextAttemptAt: nullable(dateTime({ description: 'push: when the next retry is due' })),
  failingSince: nullable(dateTime({ description: 'push: since when the oldest undelivered SET has been failing' })),
  deliveredCount: integer({ min: 0 }),
  failedCount: integer({ min: 0 }),
  lag: object({
    events: integer({ min: 0, description: 'Changes not yet delivered (counted up to 10000)' }),
    seconds: integer({ min: 0, description: 'Age of the oldest of them' }),
  }),
  receiver: object({
    issuer: string({ description: 'The SET `iss`' }),
    jwksUri: string({ description: 'Where the receiver gets the verification keys' }),
    pollUrl: nullable(string({ description: 'poll: the RFC 8936 endpoint' })),
  }),
  createdAt: dateTime(),
  updatedAt: dateTime(),
};
const streamSchema = object(streamFields);
const createdStreamSchema = object({ ...streamFields, token: optional(string({ description: 'poll: the bearer token, shown only in this response' })) });

const deliverySchema = object({
  id: uuid(),
  at: dateTime(),
  jti: string(),
  eventUri: string(),
  resource: nullable(string()),
  outcome: oneOf(['delivered', 'failed', 'acknowledged', 'set_error', 'handed_out']),
  httpStatus: nullable(integer()),
  err: nullable(string({ description: 'RFC 8935 §2.4 error code, or timeout / connection' })),
  description: nullable(string()),
  durationMs: nullable(integer()),
  attempt: integer({ min: 1 }),
});

export function eventStreamRoutes({ services, config }: RouteDeps): AdminRoute[] {
  const { streams, signer } = services.events;
  const tag = 'Event streams';
  const withStatus = async (stream: EventStream) => {
    const lag = await streams.lag(stream.id);
    return {
      ...stream,
      lag: { events: lag.events, seconds: Math.round(lag.seconds) },
      receiver: {
        issuer: config.publicUrl,
        jwksUri: `${config.publicUrl}/.well-known/jwks.json`,
        pollUrl: stream.delivery === 'poll' ? `${config.publicUrl}/api/v1/event-streams/${stream.id}/poll` : null,
      },
    };
  };
  const editable = {
    name: string({ min: 1, max: 200 }),
    endpointUrl: string({ min: 1, max: 2000 }),
    audience: string({ min: 1, max: 500 }),
    authorizationHeader: string({ min: 1, max: 4096, description: 'push: sent as the Authorization header value; stored, never shown' }),
    events: eventList,
    format,
    clientIds: array(uuid(), { max: 500 }),
  };
  return [
    route({
      method: 'GET',
      path: '/api/admin/event-streams',
      tag,
      summary: 'List event streams with their state and lag',
      query: object(pageQueryShape),
      responses: { 200: { description: 'A page of streams', schema: pageOf(streamSchema) } },
      handle: async ({ query }) => {
        const page = await streams.list(query);
        return { body: { items: await Promise.all(page.items.map(withStatus)), total: page.total } };
      },
    }),
    route({
      method: 'POST',
      path: '/api/admin/event-streams',
      tag,
      summary: 'Create an event stream; a poll stream\'s 201 carries its bearer token, once',
      body: object({
        name: editable.name,
        delivery,
        endpointUrl: optional(editable.endpointUrl),
        audience: editable.audience,
        authorizationHeader: optional(editable.authorizationHeader),
        events: optional(editable.events),
        format,
        clientIds: optional(editable.clientIds),
        startAt: optional(oneOf(['now', 'oldest'], { description: 'now (default): changes from now on; oldest: from the oldest retained change' })),
      }),
      responses: {
        201: { description: 'The stream (and, for poll, its token)', schema: createdStreamSchema },
        409: { description: 'A stream with this name exists (code conflict)', schema: errorSchema },
      },
      handle: async ({ body, admin }) => {
        const created = await streams.create(body, admin.id);
        return { status: 201, body: { ...(await withStatus(created)), ...(created.token ? { token: created.token } : {}) } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/event-streams/:id',
      tag,
      summary: 'One event stream, with its lag and the receiver\'s setup values',
      responses: { 200: { description: 'The stream', schema: streamSchema } },
      handle: async ({ params }) => ({ body: await withStatus(await streams.get(params.id!)) }),
    }),
    route({
      method: 'PATCH',
      path: '/api/admin/event-streams/:id',
      tag,
      summary: 'Change a stream (the delivery method is fixed); authorizationHeader null removes it',
      body: object(
        {
          name: optional(editable.name),
          endpointUrl: optional(editable.endpointUrl),
          audience: optional(editable.audience),
          authorizationHeader: optional(nullable(editable.authorizationHeader)),
          events: optional(editable.events),
          format: optional(format),
          clientIds: optional(nullable(editable.clientIds)),
        },
        { minProperties: 1 },
      ),
      responses: { 200: { description: 'The stream', schema: streamSchema } },
      handle: async ({ params, body, admin }) => ({ body: await withStatus(await streams.update(params.id!, body, admin.id)) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/admin/event-streams/:id',
      tag,
      summary: 'Delete a stream, its undelivered SETs and its delivery log',
      responses: { 204: { description: 'Deleted' } },
      handle: async ({ params, admin }) => {
        await streams.remove(params.id!, admin.id);
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      path: '/api/admin/event-streams/:id/pause',
      tag,
      summary: 'Pause delivery; the stream keeps its place',
      responses: { 200: { description: 'The stream', schema: streamSchema } },
      handle: async ({ params, admin }) => ({ body: await withStatus(await streams.pause(params.id!, admin.id)) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/event-streams/:id/resume',
      tag,
      summary: 'Resume a paused or failing stream and retry now (the backoff starts over)',
      responses: { 200: { description: 'The stream', schema: streamSchema } },
      handle: async ({ params, admin }) => ({ body: await withStatus(await streams.resume(params.id!, admin.id)) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/event-streams/:id/test',
      tag,
      summary: 'Send a verification SET now (push) or queue one for the next poll',
      responses: {
        200: {
          description: 'What the receiver answered',
          schema: object({
            jti: string(),
            ok: boolean(),
            httpStatus: nullable(integer()),
            err: nullable(string()),
            description: nullable(string()),
            durationMs: nullable(integer()),
          }),
        },
      },
      handle: async ({ params }) => ({ body: await sendVerificationSet(services.knex, await streams.rowOf(params.id!), { signer, issuer: config.publicUrl, secrets: services.events.secrets }) }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/event-streams/:id/token',
      tag,
      summary: 'Poll streams: replace the bearer token (the old one stops working at once); the answer carries the new one, once',
      responses: { 200: { description: 'The new token', schema: object({ token: string() }) } },
      handle: async ({ params, admin }) => ({ body: await streams.rotatePollToken(params.id!, admin.id) }),
    }),
    route({
      method: 'GET',
      path: '/api/admin/event-streams/:id/deliveries',
      tag,
      summary: 'The delivery log of a stream, newest first',
      query: object(pageQueryShape),
      responses: { 200: { description: 'A page of delivery attempts', schema: pageOf(deliverySchema) } },
      handle: async ({ params, query }) => ({ body: await streams.deliveries(params.id!, query) }),
    }),
  ];
}
