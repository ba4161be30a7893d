import autocannon from 'autocannon';
import pg from 'pg';
import { cpuMs } from './processes.js';

// How a figure is measured: autocannon against an HTTP server, or a pool of pg clients running one query in
// a closed loop (the raw SQL reference). Both give the same shape.

export interface Measurement {
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  max: number;
  /** Connection errors and timeouts, non-2xx answers, and responses that failed their correctness check. */
  errors: number;
  non2xx: number;
  mismatches: number;
  /** What the first failures looked like (status and body start), for the report. */
  failures: string[];
  /**
   * CPU milliseconds the server process spent per request (from /proc/<pid>/stat, 10 ms ticks): unlike
   * req/s it barely moves when other work shares the machine.
   */
  serverCpuMsPerRequest?: number;
  /**
   * CPU milliseconds PostgreSQL's backends for the database spent per request (DatabaseCpu): where PostgreSQL
   * runs on this machine. What the database's size costs shows here, not in the gateway's own CPU.
   */
  databaseCpuMsPerRequest?: number;
}

/**
 * The CPU time of the PostgreSQL backends connected to one database, read from /proc: PostgreSQL on the same
 * machine, readable by this user (as in CI and on the benchmark machine); otherwise `sample` gives nothing.
 */
export class DatabaseCpu {
  private constructor(private readonly client: pg.Client) {}

  static async open(databaseUrl: string): Promise<DatabaseCpu> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return new DatabaseCpu(client);
  }

  /** CPU ms by backend pid (client backends of this database, this probe's own excluded). */
  async sample(): Promise<Map<number, number> | undefined> {
    const { rows } = await this.client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
    );
    const sample = new Map<number, number>();
    for (const { pid } of rows) {
      const ms = cpuMs(pid);
      if (ms !== undefined) sample.set(pid, ms);
    }
    return rows.length > 0 && sample.size === 0 ? undefined : sample;
  }

  /** CPU ms spent between two samples; a backend that appeared in between counts from its start. */
  static spent(before: Map<number, number> | undefined, after: Map<number, number> | undefined): number | undefined {
    if (!before || !after) return undefined;
    let total = 0;
    for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
    return total;
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

/** Per request, rounded to 0.001 ms. */
export function perRequest(ms: number | undefined, requests: number): number | undefined {
  return ms === undefined || requests === 0 ? undefined : Math.round((ms / requests) * 1000) / 1000;
}

export interface CannonRequest {
  method: string;
  /** Builds the request (path, body, headers) each time; `context` is per connection. */
  build(context: Record<string, unknown>): { path: string; body?: string; headers?: Record<string, string> };
  /** Checks a response; returns an error message when it is wrong. */
  check?(status: number, body: string, context: Record<string, unknown>): string | undefined;
  /** Check one response in this many (1 = all). */
  checkEvery?: number;
}

export interface CannonOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Stop after this many requests even if the time is not up (pools of fresh users run out). */
  amount?: number;
  headers?: Record<string, string>;
  request: CannonRequest;
  signal?: AbortSignal;
}

export async function cannon(options: CannonOptions): Promise<Measurement> {
  // The abort event has fired already for a signal aborted before this run: without this, an interrupted
  // harness went on measuring the rest of its rounds at full length.
  if (options.signal?.aborted) throw new Error('interrupted');
  const failures: string[] = [];
  let mismatches = 0;
  let seen = 0;
  const note = (line: string): void => {
    if (failures.length < 5) failures.push(line.slice(0, 300));
  };
  // Own latency record at 0.01 ms resolution (autocannon's histogram keeps whole milliseconds): the clock
  // starts when the request is built, which is right before it is written (one request in flight per connection).
  const latencies: number[] = [];
  const { request } = options;
  const every = request.checkEvery ?? 1;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        // autocannon refuses more connections than requests.
        connections: options.amount === undefined ? options.connections : Math.max(1, Math.min(options.connections, options.amount)),
        duration: options.durationSeconds,
        // A request counts as failed after 60 s, the time Okta gives one (autocannon's own default is 10 s:
        // ten 1,000-user /Bulk requests queued on the embedded database's one connection went past it).
        timeout: 60,
        ...(options.amount !== undefined ? { amount: options.amount } : {}),
        headers: options.headers ?? {},
        requests: [
          {
            method: request.method as autocannon.Request['method'],
            setupRequest: (req, context) => {
              const built = request.build(context as Record<string, unknown>);
              (context as { t0?: number }).t0 = performance.now();
              return { ...req, path: built.path, body: built.body ?? '', headers: { ...options.headers, ...(built.headers ?? {}) } } as autocannon.Request;
            },
            onResponse: (status, body, context) => {
              const t0 = (context as { t0?: number }).t0;
              if (t0 !== undefined) latencies.push(performance.now() - t0);
              seen += 1;
              if (status < 200 || status >= 300) {
                note(`${status} ${body}`);
                return;
              }
              if (!request.check || seen % every !== 0) return;
              const problem = request.check(status, body, context as Record<string, unknown>);
              if (problem) {
                mismatches += 1;
                note(problem);
              }
            },
          },
        ],
      },
      (error: unknown, output: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(output)),
    );
    // An amount-limited run still ends at its duration (the harness must end in bounded time).
    const timer = options.amount !== undefined ? setTimeout(() => instance.stop(), options.durationSeconds * 1000 + 250) : undefined;
    const abort = (): void => instance.stop();
    options.signal?.addEventListener('abort', abort, { once: true });
    instance.once('done', () => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
    });
  });
  const seconds = result.duration;
  const completed = result.requests.total;
  const own = percentiles(latencies);
  return withSamples(latencies, {
    requests: completed,
    seconds,
    reqPerSec: seconds > 0 ? completed / seconds : 0,
    p50: own?.p50 ?? result.latency.p50,
    p99: own?.p99 ?? result.latency.p99,
    max: own?.max ?? result.latency.max,
    errors: result.errors + result.non2xx + mismatches,
    non2xx: result.non2xx,
    mismatches,
    failures,
  });
}

/**
 * The limit: `connections` pg clients each running `sql` in a closed loop for the duration, with fresh
 * parameters per query. Latency is the round trip as the client sees it.
 */
export async function rawSql(options: {
  databaseUrl: string;
  connections: number;
  durationSeconds: number;
  sql: string;
  params: () => unknown[];
  check?: (rows: unknown[]) => string | undefined;
  signal?: AbortSignal;
  /** Also report PostgreSQL's CPU per lookup. */
  databaseCpu?: DatabaseCpu;
}): Promise<Measurement> {
  if (options.signal?.aborted) throw new Error('interrupted');
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.connections });
  const latencies: number[] = [];
  const failures: string[] = [];
  let errors = 0;
  let mismatches = 0;
  try {
    // Warm every connection first so connecting is not measured.
    await Promise.all(Array.from({ length: options.connections }, () => pool.query('SELECT 1')));
    const cpuBefore = await options.databaseCpu?.sample();
    const started = performance.now();
    const end = started + options.durationSeconds * 1000;
    const worker = async (): Promise<void> => {
      const client = await pool.connect();
      try {
        while (performance.now() < end && !options.signal?.aborted) {
          const t0 = performance.now();
          try {
            const { rows } = await client.query(options.sql, options.params());
            latencies.push(performance.now() - t0);
            const problem = options.check?.(rows);
            if (problem) {
              mismatches += 1;
              if (failures.length < 5) failures.push(problem);
            }
          } catch (error) {
            errors += 1;
            if (failures.length < 5) failures.push((error as Error).message);
          }
        }
      } finally {
        client.release();
      }
    };
    await Promise.all(Array.from({ length: options.connections }, worker));
    const seconds = (performance.now() - started) / 1000;
    const databaseCpuMsPerRequest = perRequest(DatabaseCpu.spent(cpuBefore, await options.databaseCpu?.sample()), latencies.length);
    const { p50, p99, max } = percentiles(latencies) ?? { p50: 0, p99: 0, max: 0 };
    return withSamples(latencies, {
      ...(databaseCpuMsPerRequest !== undefined ? { databaseCpuMsPerRequest } : {}),
      requests: latencies.length,
      seconds,
      reqPerSec: latencies.length / seconds,
      p50,
      p99,
      max,
      errors: errors + mismatches,
      non2xx: 0,
      mismatches,
      failures,
    });
  } finally {
    await pool.end();
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The latencies behind a measurement's percentiles, kept beside it (not in the JSON results: tens of
 * thousands of numbers a run), so that runs measured in rounds give the percentiles of all their requests.
 */
const samplesOf = new WeakMap<Measurement, number[]>();

export function withSamples(latencies: number[], measurement: Measurement): Measurement {
  samplesOf.set(measurement, latencies);
  return measurement;
}

/** The percentiles of several runs' requests together, when every run kept its latencies. */
export function pooledPercentiles(runs: readonly Measurement[]): { p50: number; p99: number; max: number } | undefined {
  const samples = runs.map((run) => samplesOf.get(run));
  if (samples.some((latencies) => latencies === undefined || latencies.length === 0)) return undefined;
  return percentiles(samples.flatMap((latencies) => latencies!));
}

/** Nearest-rank percentiles in milliseconds, rounded to 0.01 ms; undefined for no samples. */
export function percentiles(samples: number[]): { p50: number; p99: number; max: number } | undefined {
  if (samples.length === 0) return undefined;
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: round2(at(0.5)), p99: round2(at(0.99)), max: round2(sorted[sorted.length - 1]!) };
}
