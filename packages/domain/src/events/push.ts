import http from 'node:http';
import https from 'node:https';
import { SET_MEDIA_TYPE } from './types.js';

// One RFC 8935 push: POST the SET as `application/secevent+jwt`; only 202 Accepted is success (§2.2). An error
// answer is 400 with `{"err": ..., "description": ...}` (§2.3, codes in §2.4). Redirects are not followed: a 3xx
// is a failed delivery (§2.1 leaves it out, and following one would send the SET to another party).

export interface PushResult {
  ok: boolean;
  status: number | null;
  /** RFC 8935 §2.4 error code from the receiver, or a transport word: `timeout`, `connection`. */
  err: string | null;
  description: string | null;
  durationMs: number;
}

export interface PushOptions {
  authorization?: string | null;
  /** Time to open the connection (TCP, and TLS for https). */
  connectTimeoutMs: number;
  /** Time from the request being sent to the whole answer having arrived. */
  responseTimeoutMs: number;
}

// Keep-alive agents: one connection per stream at a time (concurrency 1 per stream) reused between SETs.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

const MAX_ERROR_BODY = 4096;

export function pushSet(endpoint: string, set: string, options: PushOptions): Promise<PushResult> {
  const started = performance.now();
  const done = (result: Omit<PushResult, 'durationMs'>): PushResult => ({ ...result, durationMs: Math.round(performance.now() - started) });
  return new Promise((resolve) => {
    const url = new URL(endpoint);
    const transport = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { 'content-type': SET_MEDIA_TYPE, accept: 'application/json', 'content-length': String(Buffer.byteLength(set)) };
    if (options.authorization) headers.authorization = options.authorization;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: Omit<PushResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(result));
    };
    const request = transport.request(url, { method: 'POST', headers, agent: agents[url.protocol as 'http:' | 'https:'] }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ERROR_BODY) chunks.push(chunk);
      });
      response.on('error', () => finish({ ok: false, status: response.statusCode ?? null, err: 'connection', description: 'the connection closed during the answer' }));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status === 202) return finish({ ok: true, status, err: null, description: null });
        let err: string | null = null;
        let description: string | null = null;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { err?: unknown; description?: unknown };
          if (typeof body.err === 'string') err = body.err.slice(0, 100);
          if (typeof body.description === 'string') description = body.description.slice(0, 500);
        } catch {
          // Not an RFC 8935 error body: the status says enough.
        }
        finish({ ok: false, status, err, description: description ?? (status >= 300 && status < 400 ? 'redirects are not followed' : null) });
      });
    });
    const fail = (err: 'timeout' | 'connection', description: string) => {
      finish({ ok: false, status: null, err, description });
      request.destroy();
    };
    request.on('error', (error: Error) => fail('connection', error.message.slice(0, 200)));
    // The connect timeout runs until the socket is connected (a reused keep-alive socket already is); then the
    // response timeout covers sending the SET and reading the whole answer.
    const startResponseTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail('timeout', `no complete answer within ${options.responseTimeoutMs} ms`), options.responseTimeoutMs);
    };
    request.on('socket', (socket) => {
      const secure = url.protocol === 'https:';
      if (socket.connecting) {
        timer = setTimeout(() => fail('timeout', `could not connect within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
        socket.once(secure ? 'secureConnect' : 'connect', startResponseTimer);
      } else {
        startResponseTimer();
      }
    });
    request.end(set);
  });
}
