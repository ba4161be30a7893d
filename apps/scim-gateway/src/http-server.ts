import http from 'node:http';
import type { Socket } from 'node:net';
import type { Limits } from './config.js';
import type { Logger } from './logger.js';

/** Keep-alive a little longer than the 60 s idle timeout of common load balancers, so they close first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** At most one warning line per limit and this interval: a flood of refused sockets must not flood the log. */
const WARN_INTERVAL_MS = 10_000;

export type ConnectionLimits = Pick<Limits, 'maxConnections' | 'maxConnectionsPerAddress' | 'headersTimeoutMs' | 'requestTimeoutMs'>;

/**
 * The HTTP server with the connection limits of issue 20, item 7: about 20,000 slow-header sockets exhausted the
 * process's file descriptors and made /healthz fail for 50 s, silently. Here:
 * - `maxConnections` (ROSTER_MAX_CONNECTIONS): Node drops connections above it at accept time ('drop' event);
 * - a cap per remote address (ROSTER_MAX_CONNECTIONS_PER_ADDRESS, 0 = off), so one address cannot take them all;
 * - `headersTimeout` 20 s and `requestTimeout` (ROSTER_HEADERS_TIMEOUT_MS, ROSTER_REQUEST_TIMEOUT_MS): a client
 *   trickling headers or a body is answered 408 and disconnected, which also bounds how long a /Bulk body may
 *   take to arrive (routes/bulk.ts reads it before taking a slot);
 * - a warning in the log whenever one of them refuses someone, at most one line per limit per 10 s with the count.
 * A reverse proxy in front, with limits of its own, stays the first line (docs/operations.md).
 */
export function createHttpServer(handler: http.RequestListener, limits: ConnectionLimits, logger: Logger): http.Server {
  // Node checks the two timeouts every connectionsCheckingInterval (default 30 s, which would let a 20 s header
  // timeout run to 50 s); once a second costs a walk over the open connections.
  const server = http.createServer({ connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs) }, handler);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.maxConnections = limits.maxConnections;

  const warn = throttledWarning(logger);
  server.on('drop', (data?: { remoteAddress?: string }) => {
    warn('maxConnections', { limit: limits.maxConnections, remoteAddress: data?.remoteAddress }, 'connection refused: ROSTER_MAX_CONNECTIONS reached');
  });

  if (limits.maxConnectionsPerAddress > 0) {
    const open = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      const count = (open.get(address) ?? 0) + 1;
      if (count > limits.maxConnectionsPerAddress) {
        warn('maxConnectionsPerAddress', { limit: limits.maxConnectionsPerAddress, remoteAddress: address }, 'connection refused: ROSTER_MAX_CONNECTIONS_PER_ADDRESS reached for this address');
        socket.destroy();
        return;
      }
      open.set(address, count);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left <= 0) open.delete(address);
        else open.set(address, left);
      });
    });
  }

  // With a 'clientError' listener Node leaves the answer to us (http.Server, event 'clientError'): the same
  // answers as its own (408 for a timeout, 431 for oversized headers, else 400), plus the warning for timeouts.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timedOut) {
      warn('requestTimeout', { headersTimeoutMs: limits.headersTimeoutMs, requestTimeoutMs: limits.requestTimeoutMs, remoteAddress: socket.remoteAddress }, 'request not received in time: answered 408');
    }
    // As Node does: answer only when no response on this socket has begun, or the bytes would corrupt it.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const status = timedOut ? '408 Request Timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
  return server;
}

/** One warning per key and WARN_INTERVAL_MS, carrying how many events it stands for. */
function throttledWarning(logger: Logger): (key: string, fields: Record<string, unknown>, message: string) => void {
  const state = new Map<string, { lastAt: number; suppressed: number }>();
  return (key, fields, message) => {
    const now = Date.now();
    const entry = state.get(key);
    if (entry && now - entry.lastAt < WARN_INTERVAL_MS) {
      entry.suppressed += 1;
      return;
    }
    logger.warn({ ...fields, limit_name: key, occurrences: 1 + (entry?.suppressed ?? 0) }, message);
    state.set(key, { lastAt: now, suppressed: 0 });
  };
}
