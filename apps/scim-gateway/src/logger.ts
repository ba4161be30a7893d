import pino, { type Logger } from 'pino';

export type { Logger };

// Secrets never reach the log: credentials travel in headers and form bodies, which are redacted by path;
// request bodies are never logged at all.
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.clientSecret',
  '*.client_secret',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.client_assertion',
];

/**
 * The process's log on stdout. Without a destination of the caller's (tests pass one), lines go through an
 * asynchronous sonic-boom: a line is appended to a buffer and written without blocking; lines that arrive
 * while a write is in flight go out together in the next one. The synchronous default made a write(2) per
 * line, on every request at LOG_LEVEL=info (docs/benchmarks.md, "The request log line"). No minimum length:
 * a lone line (an error on a quiet process) is written at once, not held until more arrive. pino flushes what
 * is buffered synchronously when the process exits (process.exit included).
 */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: false })): Logger {
  return pino(
    {
      level,
      base: { service: 'roster' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
