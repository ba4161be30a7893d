import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

// The reference SET receiver of the event tests: what an application does with Roster's push delivery. It checks
// the request the way RFC 8935 §2 describes (POST, Content-Type application/secevent+jwt), verifies every SET
// against Roster's JWKS with jose (signature, `typ: secevent+jwt`, `iss`, `aud`), and records what it accepted, in
// the order it accepted it. `behave` lets a test make it fail on chosen attempts.

export type Behaviour =
  | { kind: 'accept' }
  | { kind: 'status'; status: number; body?: unknown }
  /** Never answer (the sender's response timeout fires). */
  | { kind: 'hang' }
  /** Close the connection without an answer. */
  | { kind: 'close' };

export interface ReceivedSet {
  jti: string;
  claims: JWTPayload & { events: Record<string, Record<string, unknown>>; sub_id?: Record<string, string>; txn?: string };
  header: { typ?: string; kid?: string; alg?: string };
  authorization: string | undefined;
}

export interface SetReceiver {
  url: string;
  /** Accepted SETs in the order of acceptance (a redelivered jti appears again). */
  received: ReceivedSet[];
  /** Every POST that reached the receiver, accepted or not. */
  attempts: number;
  /** TCP connections accepted so far (keep-alive: a sender reuses one). */
  connections: number;
  /** Requests refused because the SET did not verify: they must never happen. */
  rejected: string[];
  /** Decides the answer to attempt number `attempt` (1-based). Default: accept. */
  behave: (attempt: number, set: ReceivedSet) => Behaviour;
  /** Stops listening (connections are refused) until `start` again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startSetReceiver(options: { jwksUrl: string; issuer: string; audience: string; port?: number }): Promise<SetReceiver> {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  const app = new Koa();
  const receiver: SetReceiver = {
    url: '',
    received: [],
    attempts: 0,
    connections: 0,
    rejected: [],
    behave: () => ({ kind: 'accept' }),
    stop: async () => {},
    start: async () => {},
    close: async () => {},
  };
  const hanging = new Set<http.ServerResponse>();
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || ctx.get('content-type') !== 'application/secevent+jwt') {
      ctx.status = 400;
      ctx.body = { err: 'invalid_request', description: 'POST application/secevent+jwt' };
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) chunks.push(chunk);
    const token = Buffer.concat(chunks).toString('utf8');
    receiver.attempts += 1;
    let set: ReceivedSet;
    try {
      const verified = await jwtVerify(token, jwks, { issuer: options.issuer, audience: options.audience, typ: 'secevent+jwt', algorithms: ['ES256'] });
      set = {
        jti: verified.payload.jti!,
        claims: verified.payload as ReceivedSet['claims'],
        header: verified.protectedHeader as ReceivedSet['header'],
        authorization: ctx.get('authorization') || undefined,
      };
    } catch (error) {
      receiver.rejected.push((error as Error).message);
      ctx.status = 400;
      ctx.body = { err: 'invalid_key', description: (error as Error).message };
      return;
    }
    const behaviour = receiver.behave(receiver.attempts, set);
    switch (behaviour.kind) {
      case 'accept':
        receiver.received.push(set);
        ctx.status = 202;
        return;
      case 'status':
        ctx.status = behaviour.status;
        if (behaviour.body !== undefined) ctx.body = behaviour.body;
        return;
      case 'hang':
        ctx.respond = false;
        hanging.add(ctx.res);
        return;
      case 'close':
        ctx.respond = false;
        ctx.req.socket.destroy();
        return;
    }
  });
  let server: http.Server | undefined;
  let port = options.port ?? 0;
  receiver.start = async () => {
    server = http.createServer(app.callback());
    server.on('connection', () => void (receiver.connections += 1));
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    receiver.url = `http://127.0.0.1:${port}/events`;
  };
  receiver.stop = async () => {
    if (!server) return;
    const closing = server;
    server = undefined;
    for (const res of hanging) res.destroy();
    hanging.clear();
    closing.closeAllConnections();
    await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  receiver.close = receiver.stop;
  await receiver.start();
  return receiver;
}

/** Waits for a condition with a generous upper bound (never a fixed sleep followed by an assertion). */
export async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
