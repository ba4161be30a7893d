import net from 'node:net';
import type http from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type ConnectionLimits } from './http-server.js';
import { createLogger } from './logger.js';

// Issue 20, item 7: connection limits of the HTTP server (maxConnections, a cap per address, header and request
// timeouts) refuse the excess, keep serving the others, and say so in the log. Real sockets on 127.0.0.1.

const DEFAULTS: ConnectionLimits = { maxConnections: 1000, maxConnectionsPerAddress: 0, headersTimeoutMs: 20_000, requestTimeoutMs: 60_000 };
const started: http.Server[] = [];
const sockets: net.Socket[] = [];

async function startServer(limits: Partial<ConnectionLimits>): Promise<{ port: number; logs: string[] }> {
  const logs: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _encoding, callback) => (logs.push(chunk.toString('utf8')), callback()) }));
  const server = createHttpServer(
    (request, response) => {
      // Reads the whole body before answering, as the SCIM routes do.
      request.resume();
      request.on('end', () => response.end('ok'));
    },
    { ...DEFAULTS, ...limits },
    logger,
  );
  started.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, logs };
}

/** A connected socket that collects what it receives; `closed` resolves when the server closes it. */
async function connect(port: number): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed };
}

/** An answer to a whole request on a fresh connection. */
async function get(port: number): Promise<string> {
  const connection = await connect(port);
  connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await bounded(connection.closed, 'the answer');
  return connection.received();
}

function bounded<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(started.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

describe('HTTP connection limits', () => {
  it('refuses connections past the cap per address, logs it, and serves again once one closes', async () => {
    const { port, logs } = await startServer({ maxConnectionsPerAddress: 3 });
    const held = [await connect(port), await connect(port), await connect(port)];
    for (const connection of held) connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // headers never end
    const refused = await connect(port);
    await bounded(refused.closed, 'the fourth connection to be closed');
    expect(refused.received()).toBe('');
    expect(logs.join('')).toContain('connection refused: ROSTER_MAX_CONNECTIONS_PER_ADDRESS reached for this address');
    held[0]!.socket.destroy();
    await held[0]!.closed;
    // The server counts the close once it sees it: wait for the condition, not for a time.
    let answer = '';
    for (let attempt = 0; attempt < 100 && !answer.startsWith('HTTP/1.1 200'); attempt++) answer = await get(port);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
  });

  it('drops connections past maxConnections and logs it', async () => {
    const { port, logs } = await startServer({ maxConnections: 2 });
    const held = [await connect(port), await connect(port)];
    for (const connection of held) connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const dropped = await connect(port);
    await bounded(dropped.closed, 'the third connection to be dropped');
    expect(dropped.received()).toBe('');
    expect(logs.join('')).toContain('connection refused: ROSTER_MAX_CONNECTIONS reached');
  });

  it('answers 408 and disconnects a client that never finishes its headers (headersTimeout), and logs it', async () => {
    const { port, logs } = await startServer({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
    const slow = await connect(port);
    slow.socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    await bounded(slow.closed, 'the slow-header connection to be closed');
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    expect(logs.join('')).toContain('request not received in time: answered 408');
  });

  it('answers 408 and disconnects a client that trickles its body past requestTimeout', async () => {
    const { port } = await startServer({ headersTimeoutMs: 1000, requestTimeoutMs: 1500 });
    const slow = await connect(port);
    slow.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{');
    const trickle = setInterval(() => slow.socket.write(' '), 200);
    try {
      await bounded(slow.closed, 'the slow-body connection to be closed');
    } finally {
      clearInterval(trickle);
    }
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
  });

  it('keeps answering other clients while slow ones are held', async () => {
    const { port } = await startServer({ maxConnectionsPerAddress: 0, headersTimeoutMs: 20_000 });
    for (let index = 0; index < 50; index++) (await connect(port)).socket.write('GET / HTTP/1.1\r\n');
    expect(await get(port)).toMatch(/^HTTP\/1\.1 200/);
  });
});
