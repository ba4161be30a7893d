// `pnpm bench:events`: the event-delivery budgets of issue 18 (docs/benchmarks.md, "Event delivery"), on PostgreSQL.
//   pnpm bench:events                    10 s phases against a scratch database on DATABASE_URL (or the local server)
//   pnpm bench:events --duration 5 [--source] [--no-build] [--cpu-prof]
// One gateway process, built and run with plain node as `pnpm bench` runs it (`--source`: through tsx instead;
// `--no-build`: use the dist as it is), LOG_LEVEL=warn; a local receiver in its own process (bench/set-receiver.mjs)
// that answers 202 at once and records when each SET arrived. Phases, in one run so the reference is measured
// beside the figure it judges:
//   1. SCIM write throughput (POST /Users, 10 connections) with no stream;
//   2. the same with 3 active push streams (budget: >= 0.85 of 1);
//   3. lag from each SCIM response to the receiver's 202 at 500 writes/s with 3 push streams (p50 < 200 ms, p99 < 1 s);
//   4. delivery throughput: 3 new streams starting at the oldest change deliver the whole log (>= 2,000 SETs/s).
// Rates depend on what else runs on the machine; the CPU time per SCIM write and per SET of each process (from
// /proc/<pid>/stat) hardly does, so those are printed too and are what to compare between builds.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDatabase } from '../packages/db/src/index.js';
import { createScratchPostgresDatabase } from '../packages/db/src/testing.js';
import { createChangeLog, createEventStreamService, createScimClientService } from '../packages/domain/src/index.js';
import { percentiles } from './measure.js';
import { Cleanup, GATEWAY_NODE_FLAGS, REPO_ROOT, cpuMs, freePort, startChild, waitReady } from './processes.js';
import { CORE_USER } from './seed.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    source: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const durationMs = Number(values.duration) * 1000;
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const cleanup = new Cleanup();
const log = (line: string) => console.log(line);
const loadAverage = () => os.loadavg().map((load) => load.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const scratch = await createScratchPostgresDatabase(serverUrl);
  cleanup.add('drop the scratch database', () => scratch.drop(), { leavesState: true });
  const db = await createDatabase({ url: scratch.url, poolMax: 4 });
  cleanup.add('close the database', () => db.close());

  if (!values.source && !values['no-build']) {
    log('building the gateway (turbo run build --filter=@roster/scim-gateway)');
    const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@roster/scim-gateway', '--output-logs=errors-only'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    });
    if (build.status !== 0) throw new Error('the build failed; fix it or run from the sources with --source');
  }
  log(`load average at start: ${loadAverage()} (${os.cpus().length} cores)`);

  // The receiver, in its own process: 202 at once; the arrival time of each SET by stream (aud) and txn.
  const receiverPort = await freePort();
  const receiver = startChild(process.execPath, ['bench/set-receiver.mjs'], { PORT: String(receiverPort) }, cleanup, 'receiver');
  const receiverBase = `http://127.0.0.1:${receiverPort}`;
  await waitReady(`${receiverBase}/count`, receiver, performance.now());
  const receiverUrl = `${receiverBase}/events`;
  const received = async () => ((await (await fetch(`${receiverBase}/count`)).json()) as { received: number }).received;

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const profile = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.join(REPO_ROOT, 'bench', 'results', 'profiles')}`] : [];
  const gateway = startChild(
    process.execPath,
    values.source
      ? [...profile, '--import', 'tsx', '--conditions=source', 'apps/scim-gateway/src/main.ts']
      : [...GATEWAY_NODE_FLAGS, ...profile, 'apps/scim-gateway/dist/main.js'],
    { DATABASE_URL: scratch.url, PORT: String(port), PUBLIC_URL: url, LOG_LEVEL: 'warn', ROSTER_ALLOW_INSECURE_ISSUERS: '1', ROSTER_RATE_LIMIT_PER_SECOND: '1000000', ROSTER_RATE_LIMIT_BURST: '1000000', ROSTER_CLIENT_MAX_IN_FLIGHT: '10000' },
    cleanup,
    'gateway',
  );
  await waitReady(`${url}/readyz`, gateway, started);

  const [provider] = (await db.knex('auth_providers').insert({ name: 'Bench provider', kind: 'saml', metadata: '{}' }).returning('id')) as Array<{ id: string }>;
  const client = await createScimClientService(db.knex, {}).createScimClient({ name: 'Bench client', authProviderId: provider!.id, authMethod: 'static_token', dataScope: 'all' });
  const changeLog = createChangeLog(db.knex);
  cleanup.add('close the change log', () => changeLog.close());
  const streams = createEventStreamService(db.knex, { changeLog, allowInsecureEndpoints: true });
  const headers = { authorization: `Bearer ${client.token!}`, 'content-type': 'application/scim+json' };
  let series = 0;
  // The load generator: node:http with keep-alive (cheaper per request than fetch, so the bench process takes
  // less of the cores the gateway needs; its CPU is printed per phase).
  // At most 64 connections: the open loop of phase 3 queues in the agent beyond that, instead of opening
  // hundreds of connections that a busy gateway resets (the lag is measured from each response, so queueing
  // here does not flatter it).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let failedRequests = 0;
  const post = (): Promise<{ status: number; requestId: string; at: number }> =>
    postOnce()
      .catch((error: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
        // A kept-alive connection the gateway closed as idle just as it was reused: send again on a new one.
        if (error.reusedSocket && error.code === 'ECONNRESET') return postOnce();
        throw error;
      })
      .catch(() => {
        failedRequests += 1;
        return { status: 0, requestId: '', at: 0 };
      });
  const postOnce = (): Promise<{ status: number; requestId: string; at: number }> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ schemas: [CORE_USER], userName: `bench-${++series}@example.com`, displayName: 'Bench' });
      const request = http.request(`${url}/scim_v2/Users`, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
        response.resume();
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, requestId: String(response.headers['x-request-id'] ?? ''), at: performance.timeOrigin + performance.now() }),
        );
        response.on('error', reject);
      });
      request.on('error', (error) => reject(Object.assign(error, { reusedSocket: request.reusedSocket })));
      request.end(body);
    });

  // CPU time of the gateway, the receiver and this process (the load generator) over a phase.
  const cpuNow = () => ({ gateway: cpuMs(gateway.pid) ?? 0, receiver: cpuMs(receiver.pid) ?? 0, bench: (process.cpuUsage().user + process.cpuUsage().system) / 1000 });
  const cpuSince = (before: ReturnType<typeof cpuNow>, wallMs: number, per: number, unit: string) => {
    const after = cpuNow();
    const share = (ms: number) => `${((ms / wallMs) * 100).toFixed(0)}%`;
    const gatewayMs = after.gateway - before.gateway;
    return (
      `   CPU: gateway ${share(gatewayMs)} of a core (${per > 0 ? (gatewayMs / per).toFixed(3) : '-'} ms per ${unit}), ` +
      `receiver ${share(after.receiver - before.receiver)}, load generator ${share(after.bench - before.bench)}; load average ${loadAverage()}`
    );
  };

  async function writeThroughput(label: string): Promise<number> {
    const cpu = cpuNow();
    const until = performance.now() + durationMs;
    let ok = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (performance.now() < until) if ((await post()).status === 201) ok += 1;
      }),
    );
    const rate = ok / (durationMs / 1000);
    log(`${label}: ${rate.toFixed(0)} SCIM writes/s`);
    log(cpuSince(cpu, durationMs, ok, 'SCIM write'));
    return rate;
  }

  const createStreams = async (prefix: string, startAt: 'now' | 'oldest') =>
    Promise.all([0, 1, 2].map((i) => streams.create({ name: `${prefix} ${i}`, delivery: 'push', endpointUrl: receiverUrl, audience: `${prefix}-${i}`, format: 'notice', startAt })));
  const drained = async (ids: string[], timeoutMs = 300_000) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const lags = await Promise.all(ids.map((id) => streams.lag(id)));
      if (lags.every((lag) => lag.events === 0)) return;
      if (performance.now() > deadline) throw new Error('streams did not catch up');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  await writeThroughput('warm-up');
  const without = await writeThroughput('1. no stream');
  const live = await createStreams('live', 'now');
  const withStreams = await writeThroughput('2. 3 push streams');
  await drained(live.map((s) => s.id));

  // 3. Open loop at 500 writes/s: the SCIM response time of each request, then when each stream received it.
  const responses: Array<{ requestId: string; at: number }> = [];
  const pace = 500;
  const start = performance.now();
  const phase3Cpu = cpuNow();
  const refused: Record<number, number> = {};
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < (pace * durationMs) / 1000; i += 1) {
    const due = start + (i * 1000) / pace;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(post().then((r) => void (r.status === 201 ? responses.push(r) : (refused[r.status] = (refused[r.status] ?? 0) + 1))));
  }
  await Promise.all(inFlight);
  const achieved = responses.length / ((performance.now() - start) / 1000);
  await drained(live.map((s) => s.id));
  const phase3Ms = performance.now() - start;
  const arrivals = new Map(Object.entries((await (await fetch(`${receiverBase}/arrivals`)).json()) as Record<string, number>));
  const lags: number[] = [];
  for (const response of responses) {
    for (const stream of live) {
      const at = arrivals.get(`${stream.audience} ${response.requestId}`);
      if (at !== undefined) lags.push(Math.max(0, at - response.at));
    }
  }
  const lag = percentiles(lags)!;
  if (Object.keys(refused).length) log(`   answers other than 201 (status: count; 0 is no answer): ${JSON.stringify(refused)}`);
  if (failedRequests) log(`   ${failedRequests} SCIM requests failed without an answer (connection reset or refused)`);
  log(`3. lag at ${achieved.toFixed(0)} writes/s with 3 streams: p50 ${lag.p50.toFixed(0)} ms, p99 ${lag.p99.toFixed(0)} ms, max ${lag.max.toFixed(0)} ms (${lags.length} SETs)`);
  log(cpuSince(phase3Cpu, phase3Ms, responses.length, 'SCIM write and its 3 SETs'));
  for (const stream of live) await streams.remove(stream.id);

  // 4. Three new streams from the oldest change: the whole log, as fast as one process delivers it.
  const before = await received();
  const deliveryCpu = cpuNow();
  const deliveryStart = performance.now();
  const backlog = await createStreams('backlog', 'oldest');
  await drained(backlog.map((s) => s.id));
  const deliveryMs = performance.now() - deliveryStart;
  const sets = (await received()) - before;
  const throughput = sets / (deliveryMs / 1000);
  log(`4. delivery throughput: ${sets} SETs in ${(deliveryMs / 1000).toFixed(1)} s = ${throughput.toFixed(0)} SETs/s`);
  log(cpuSince(deliveryCpu, deliveryMs, sets, 'SET'));

  log('');
  log('| budget | figure | verdict |');
  log('| --- | --- | --- |');
  log(`| lag p50 < 200 ms at 500 writes/s, 3 streams | ${lag.p50.toFixed(0)} ms (at ${achieved.toFixed(0)} writes/s) | ${lag.p50 < 200 ? 'met' : 'missed'} |`);
  log(`| lag p99 < 1 s | ${lag.p99.toFixed(0)} ms | ${lag.p99 < 1000 ? 'met' : 'missed'} |`);
  log(`| delivery >= 2,000 SETs/s (one process) | ${throughput.toFixed(0)} SETs/s | ${throughput >= 2000 ? 'met' : 'missed'} |`);
  log(`| SCIM writes with 3 streams >= 0.85 of none | ${(withStreams / without).toFixed(2)} (${withStreams.toFixed(0)} / ${without.toFixed(0)}) | ${withStreams / without >= 0.85 ? 'met' : 'missed'} |`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanup.run(log));
