import type Router from '@koa/router';
import type { Context } from 'koa';
import { isUuid, parsePollRequest, PollError } from '@roster/domain';
import type { RequestState } from '../middleware/request-context.js';
import type { Services } from '../services.js';

// The receiver-facing endpoints of event streams (docs/events.md): the JWKS that verifies every SET, and the
// RFC 8936 poll endpoint. Errors here use the SET delivery error shape `{err, description}` (RFC 8936 §2.4.4,
// codes from RFC 8935 §2.4), which is what a SET receiver's library expects.

const POLL_BODY_LIMIT = 1024 * 1024;

function sendError(ctx: Context, status: number, err: string, description: string): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = { err, description };
  // RFC 6750 §3: a 401 names the scheme.
  if (status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="roster-events"');
}

async function readBody(ctx: Context): Promise<unknown> {
  if (Number(ctx.get('content-length') || '0') > POLL_BODY_LIMIT) throw new PollError('invalid_request', 413, `the request body exceeds ${POLL_BODY_LIMIT} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > POLL_BODY_LIMIT) throw new PollError('invalid_request', 413, `the request body exceeds ${POLL_BODY_LIMIT} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  // RFC 8936 §2.4: the poll request is a JSON object.
  if (!ctx.is('application/json')) throw new PollError('invalid_request', 415, 'send the poll request as application/json');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PollError('invalid_request', 400, 'the request body is not valid JSON');
  }
}

function bearerOf(ctx: Context): string | undefined {
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(ctx.get('authorization'));
  return match?.[1];
}

export function mountEventRoutes(router: Router, deps: { services: Services }): void {
  const { events } = deps.services;

  router.get('/.well-known/jwks.json', async (ctx) => {
    ctx.body = await events.signer.jwks();
    // Short enough that a rotation's new key is seen soon; the retired key stays published for days anyway.
    ctx.set('Cache-Control', 'public, max-age=300');
  });

  router.post('/api/v1/event-streams/:id/poll', async (ctx) => {
    const state = ctx.state as RequestState;
    state.route = '/api/v1/event-streams/:id/poll';
    ctx.set('Cache-Control', 'no-store');
    const id = ctx.params.id!;
    try {
      const token = bearerOf(ctx);
      if (!token) return sendError(ctx, 401, 'authentication_failed', 'send the stream\'s poll token as "Authorization: Bearer <token>"');
      if (!isUuid(id) || !(await events.authorizePoll(id, token))) {
        return sendError(ctx, 401, 'authentication_failed', 'the token is not valid for this stream');
      }
      const request = parsePollRequest(await readBody(ctx));
      const abort = new AbortController();
      ctx.req.once('close', () => abort.abort());
      ctx.body = await events.poll.poll(id, request, abort.signal);
      ctx.type = 'application/json';
    } catch (error) {
      if (error instanceof PollError) return sendError(ctx, error.status, error.err, error.description);
      state.log.error({ err: error }, 'event poll failed');
      sendError(ctx, 500, 'internal_error', `internal error; quote request id ${state.requestId}`);
    }
  });
  router.all('/api/v1/event-streams/:id/poll', (ctx) => {
    ctx.set('Allow', 'POST');
    sendError(ctx, 405, 'invalid_request', 'use POST to poll');
  });
}
