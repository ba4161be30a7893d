// `pnpm bench`: the benchmark harness of issue 7 (see docs/benchmarks.md).
//   pnpm bench                     full run on PostgreSQL (DATABASE_URL, or postgres://postgres@127.0.0.1:5432/postgres)
//   pnpm bench --quick             10,000 users, 5 s per scenario
//   pnpm bench --embedded          the embedded database (PGlite) instead of PostgreSQL
//   pnpm bench --users 20000 --duration 5 --only filter,get-by-id --source --no-build --cpu-prof
//   pnpm bench --runs 3            three full runs, then each budget per run and over the runs (bench/summary.ts)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runBenchmark, type BenchOptions, type BenchResult } from './harness.js';
import { REPO_ROOT, killAllChildren } from './processes.js';
import { markdownReport } from './report.js';
import { summaryReport } from './summary.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    embedded: { type: 'boolean', default: false },
    users: { type: 'string' },
    groups: { type: 'string' },
    pool: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    only: { type: 'string' },
    source: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'no-references': { type: 'boolean', default: false },
    'no-vacuum': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    serve: { type: 'boolean', default: false },
    'node-args': { type: 'string' },
    'log-level': { type: 'string' },
    'check-every': { type: 'string' },
    runs: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`pnpm bench [--quick] [--embedded] [--users N] [--groups N] [--pool N] [--duration S] [--connections N]
           [--only id,id] [--source] [--no-build] [--no-references] [--no-vacuum] [--cpu-prof] [--node-args='--flag ...'] [--serve] [--log-level L] [--check-every N]
           [--runs N]`);
  process.exit(0);
}

function count(raw: string | undefined, fallback: number, name: string, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    console.error(`bench: --${name} must be a number >= ${min}, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

const quick = values.quick;
const runs = count(values.runs, 1, 'runs');
if (runs > 1 && values.serve) {
  console.error('bench: --serve keeps one run up; it does not go with --runs');
  process.exit(2);
}
const users = count(values.users, quick ? 10_000 : 100_000, 'users', 200);
const profileDir = path.join(REPO_ROOT, 'bench/results/profiles');
const options: BenchOptions = {
  users,
  groups: count(values.groups, quick ? 100 : 1000, 'groups'),
  poolUsers: count(values.pool, quick ? 5_000 : 20_000, 'pool', 100),
  smallScaleUsers: Math.min(2000, users),
  durationSeconds: count(values.duration, quick ? 5 : 10, 'duration', 0.5),
  connections: count(values.connections, 10, 'connections'),
  embedded: values.embedded,
  postgresUrl: values.embedded ? undefined : process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  gateway: values.source ? 'source' : 'dist',
  checkEvery: count(values['check-every'], 16, 'check-every'),
  only: values.only?.split(',').map((id) => id.trim()).filter(Boolean),
  noReferences: values['no-references'],
  noVacuum: values['no-vacuum'],
  gatewayNodeArgs: [...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...(values['node-args']?.split(/\s+/).filter(Boolean) ?? [])],
  serve: values.serve,
  logLevel: values['log-level'] ?? 'warn',
  log: (line) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`),
};

if (options.gateway === 'dist' && !values['no-build']) {
  options.log('building the gateway (turbo run build --filter=@roster/scim-gateway)');
  const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@roster/scim-gateway', '--output-logs=errors-only'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (build.status !== 0) {
    console.error('bench: the build failed; fix it or run from the sources with --source');
    process.exit(1);
  }
}

// Ctrl-C: stop the running measurement, then the harness's own cleanup stops every process and drops the
// database. Should that hang, the children are killed after 20 s; a second Ctrl-C kills them at once.
const controller = new AbortController();
options.signal = controller.signal;
let interrupts = 0;
let lastInterrupt = 0;
const hardExit = (): never => {
  const left = killAllChildren();
  if (left.length) console.error(`bench: stopped without cleaning up; still to do by hand: ${left.join('; ')}`);
  process.exit(130);
};
const interrupt = (signal: NodeJS.Signals): void => {
  // One Ctrl-C can arrive twice: the terminal signals the whole process group, and tsx relays what it
  // receives to this process. Only a signal a second or more after the last one counts as a second Ctrl-C.
  const now = performance.now();
  const repeated = now - lastInterrupt < 1000;
  lastInterrupt = now;
  if (repeated) return;
  interrupts += 1;
  options.log(`${signal}: stopping`);
  controller.abort();
  if (interrupts > 1) hardExit();
  setTimeout(hardExit, 20_000).unref();
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

try {
  const dir = path.join(REPO_ROOT, 'bench/results');
  const results: BenchResult[] = [];
  for (let run = 1; run <= runs && !controller.signal.aborted; run++) {
    if (runs > 1) options.log(`run ${run} of ${runs}`);
    // Each run is a whole run of its own: its own database, processes and seed.
    const result = await runBenchmark(options);
    results.push(result);
    const report = markdownReport(result);
    console.log(report);
    fs.mkdirSync(dir, { recursive: true });
    const stem = `${result.startedAt.replace(/[:.]/g, '-')}-${result.database}`;
    fs.writeFileSync(path.join(dir, `${stem}.json`), `${JSON.stringify(result, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, `${stem}.md`), `${report}\n`);
    options.log(`results written to bench/results/${stem}.json and .md`);
  }
  if (results.length > 1) {
    const summary = summaryReport(results);
    console.log(`\n${summary}`);
    const stem = `${results[0]!.startedAt.replace(/[:.]/g, '-')}-${results[0]!.database}-summary`;
    fs.writeFileSync(path.join(dir, `${stem}.md`), `${summary}\n`);
    options.log(`the runs read together: bench/results/${stem}.md`);
  }
  process.exit(controller.signal.aborted ? 130 : 0);
} catch (error) {
  console.error(controller.signal.aborted ? 'bench: interrupted' : `bench: failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(controller.signal.aborted ? 130 : 1);
}
