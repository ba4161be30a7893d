import autocannon from 'autocannon';
import { percentiles, withSamples, type Measurement } from './measure.js';

// Issue 20, item 5: one client must not starve the shared database pool. One SCIM client floods the gateway
// with sorted deep pages at 40 connections while another client reads users by id; the other client's p99 is
// the budget. The defences measured are the product's defaults (the per-client cap on requests in flight, the
// statement timeout), so the harness runs this on a gateway process of its own (harness.ts).

/** The flood of issue 20: 40 requests at once from one client, answered 200 or 429 (past the in-flight cap). */
export const FLOOD_CONNECTIONS = 40;
/** The other client: a few connections, far below the cap, so that every one of its answers must be a 200. */
export const READER_CONNECTIONS = 2;
/** Issue 20's budget for the other client's GET by id while the flood runs. */
export const STARVE_P99_LIMIT_MS = 200;

export interface FloodMeasurement extends Measurement {
  /** Pages answered 200, and requests refused with 429 (each with Retry-After, RFC 6585 §4). */
  ok: number;
  limited: number;
}

export interface StarvationResult {
  floodConnections: number;
  readerConnections: number;
  /** The other client's GET by id on the same process right before the flood. */
  alone: Measurement;
  /** The same read while the flood runs: the budget's figure. */
  during: Measurement;
  flood: FloodMeasurement;
  /** RSS peak of the starvation gateway (sampled apart from the run's gateway RSS budget). */
  rssPeakMb?: number | undefined;
}

/**
 * A sorted page deep in the directory: a random `startIndex` in its second half, so PostgreSQL sorts and skips
 * tens of thousands of rows (RFC 7644 §3.4.2.3 sorting, §3.4.2.4 paging) — the request of issue 20's report.
 */
export function deepSortedPage(scimPath: string, totalUsers: number, random = Math.random): { path: string; startIndex: number } {
  const from = Math.max(1, Math.ceil(totalUsers / 2));
  const to = Math.max(from, totalUsers - 99);
  const startIndex = from + Math.floor(random() * (to - from + 1));
  return { path: `${scimPath}/Users?sortBy=userName&startIndex=${startIndex}&count=100`, startIndex };
}

/**
 * Runs the flood (a closed loop of `connections` requests) until `signal` aborts it or `boundSeconds` pass. A 200
 * is checked (one in `checkEvery`) to be the page asked for; a 429 must carry Retry-After; anything else, and
 * every connection error or timeout, is an error.
 */
export function flood(options: {
  url: string;
  scimPath: string;
  token: string;
  totalUsers: number;
  connections: number;
  boundSeconds: number;
  checkEvery: number;
  signal: AbortSignal;
}): Promise<FloodMeasurement> {
  const failures: string[] = [];
  const note = (line: string): void => {
    if (failures.length < 5) failures.push(line.slice(0, 300));
  };
  const latencies: number[] = [];
  let ok = 0;
  let limited = 0;
  let other = 0;
  let mismatches = 0;
  return new Promise<FloodMeasurement>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.boundSeconds,
        timeout: 60,
        headers: { authorization: `Bearer ${options.token}` },
        requests: [
          {
            method: 'GET',
            setupRequest: (req, context) => {
              const page = deepSortedPage(options.scimPath, options.totalUsers);
              Object.assign(context, { startIndex: page.startIndex, t0: performance.now() });
              return { ...req, path: page.path } as autocannon.Request;
            },
            onResponse: (status, body, context, headers) => {
              const { startIndex, t0 } = context as { startIndex: number; t0: number };
              latencies.push(performance.now() - t0);
              if (status === 200) {
                ok += 1;
                if (ok % options.checkEvery !== 0) return;
                let parsed: { startIndex?: unknown; Resources?: unknown } | undefined;
                try {
                  parsed = JSON.parse(body) as typeof parsed;
                } catch {
                  parsed = undefined;
                }
                if (parsed?.startIndex !== startIndex || !Array.isArray(parsed.Resources) || parsed.Resources.length === 0) {
                  mismatches += 1;
                  note(`page at ${startIndex} answered ${body.slice(0, 200)}`);
                }
              } else if (status === 429) {
                limited += 1;
                const retryAfter = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
                if (!retryAfter) {
                  mismatches += 1;
                  note(`429 without Retry-After: ${body.slice(0, 200)}`);
                }
              } else {
                other += 1;
                note(`${status} ${body}`);
              }
            },
          },
        ],
      },
      (error: unknown, result: autocannon.Result) => {
        options.signal.removeEventListener('abort', stop);
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const requests = ok + limited + other;
        const own = percentiles(latencies) ?? { p50: 0, p99: 0, max: 0 };
        const measurement: FloodMeasurement = {
            requests,
            seconds: result.duration,
            reqPerSec: result.duration > 0 ? requests / result.duration : 0,
            ...own,
            errors: result.errors + other + mismatches,
            non2xx: limited + other,
            mismatches,
            failures,
            ok,
            limited,
        };
        resolve(withSamples(latencies, measurement) as FloodMeasurement);
      },
    );
    const stop = (): void => instance.stop();
    if (options.signal.aborted) stop();
    else options.signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * The measurement: the other client's GET by id alone (after a warm-up), then the flood starts, and after
 * `warmUpSeconds` of it the same read is measured again for `durationSeconds`; then the flood stops.
 */
export async function measureStarvation(input: {
  url: string;
  scimPath: string;
  userIds: string[];
  totalUsers: number;
  readerToken: string;
  flooderToken: string;
  durationSeconds: number;
  warmUpSeconds: number;
  checkEvery: number;
  signal?: AbortSignal | undefined;
}): Promise<StarvationResult> {
  const read = (seconds: number): Promise<Measurement> =>
    readById({ url: input.url, scimPath: input.scimPath, userIds: input.userIds, token: input.readerToken, connections: READER_CONNECTIONS, durationSeconds: seconds, checkEvery: input.checkEvery, signal: input.signal });
  await read(input.warmUpSeconds);
  const alone = await read(input.durationSeconds);
  const stop = new AbortController();
  const forward = (): void => stop.abort();
  input.signal?.addEventListener('abort', forward, { once: true });
  const flooding = flood({
    url: input.url,
    scimPath: input.scimPath,
    token: input.flooderToken,
    totalUsers: input.totalUsers,
    connections: FLOOD_CONNECTIONS,
    // Stopped once the read is measured; the bound only keeps a stuck run finite.
    boundSeconds: input.warmUpSeconds + input.durationSeconds + 120,
    checkEvery: input.checkEvery,
    signal: stop.signal,
  });
  // When the read fails, that error is the one to report; the flood's own is then not awaited.
  flooding.catch(() => undefined);
  let during: Measurement;
  try {
    // The flood's first requests find an idle pool: the budget is about the steady state it reaches.
    await new Promise((resolve) => setTimeout(resolve, input.warmUpSeconds * 1000));
    during = await read(input.durationSeconds);
  } finally {
    stop.abort();
    input.signal?.removeEventListener('abort', forward);
  }
  return { floodConnections: FLOOD_CONNECTIONS, readerConnections: READER_CONNECTIONS, alone, during, flood: await flooding };
}

/**
 * The reader: `connections` workers each sending GET /Users/:id of a random user, one after the other, for
 * `durationSeconds`; a request started in that window is awaited and counted with its whole latency. (autocannon
 * drops the requests in flight when it stops: a read stuck behind the flood for longer than the window would
 * leave no sample at all, and a starved reader would show no latency.) Every answer must be 200; one in
 * `checkEvery` is checked to be the user asked for.
 */
export async function readById(options: {
  url: string;
  scimPath: string;
  userIds: string[];
  token: string;
  connections: number;
  durationSeconds: number;
  checkEvery: number;
  signal?: AbortSignal | undefined;
}): Promise<Measurement> {
  if (options.signal?.aborted) throw new Error('interrupted');
  const latencies: number[] = [];
  const failures: string[] = [];
  const note = (line: string): void => {
    if (failures.length < 5) failures.push(line.slice(0, 300));
  };
  let errors = 0;
  let non2xx = 0;
  let mismatches = 0;
  const started = performance.now();
  const end = started + options.durationSeconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end && !options.signal?.aborted) {
      const id = options.userIds[Math.floor(Math.random() * options.userIds.length)]!;
      const t0 = performance.now();
      try {
        // A request counts as failed after 60 s, as in measure.ts's cannon.
        const response = await fetch(`${options.url}${options.scimPath}/Users/${id}`, { headers: { authorization: `Bearer ${options.token}` }, signal: AbortSignal.timeout(60_000) });
        const body = await response.text();
        latencies.push(performance.now() - t0);
        if (response.status !== 200) {
          non2xx += 1;
          note(`${response.status} ${body}`);
        } else if (latencies.length % options.checkEvery === 0) {
          let answered: unknown;
          try {
            answered = (JSON.parse(body) as { id?: unknown }).id;
          } catch {
            answered = undefined;
          }
          if (answered !== id) {
            mismatches += 1;
            note(`GET ${id} answered ${body.slice(0, 200)}`);
          }
        }
      } catch (error) {
        errors += 1;
        note((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  const { p50, p99, max } = percentiles(latencies) ?? { p50: 0, p99: 0, max: 0 };
  return withSamples(latencies, {
    requests: latencies.length,
    seconds,
    reqPerSec: latencies.length / seconds,
    p50,
    p99,
    max,
    errors: errors + non2xx + mismatches,
    non2xx,
    mismatches,
    failures,
  });
}
