import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runBenchmark, type BenchResult, type BudgetCheck, type BudgetFigure } from '../../../bench/harness.js';
import { Cleanup, GATEWAY_NODE_FLAGS, REPO_ROOT, killAllChildren } from '../../../bench/processes.js';
import { markdownReport } from '../../../bench/report.js';
import { pooledPercentiles, withSamples, type Measurement } from '../../../bench/measure.js';
import { budgetsOverRuns, meets, summaryReport } from '../../../bench/summary.js';

// Keeps `pnpm bench` working: the whole harness on a few hundred users for a second per scenario, on
// PostgreSQL when TEST_DATABASE_URL is set (references included), else on the embedded database. It asserts
// that every scenario ran and every answer was right, never how fast: CI machines are not benchmark machines.
describe('benchmark harness (smoke)', () => {
  it('seeds, runs every scenario and both references without a wrong answer', async () => {
    const lines: string[] = [];
    const postgresUrl = process.env.TEST_DATABASE_URL || undefined;
    const result = await runBenchmark({
      users: 300,
      groups: 5,
      poolUsers: 1100,
      smallScaleUsers: 200,
      bulkSize: 50,
      durationSeconds: 1,
      connections: 2,
      embedded: postgresUrl === undefined,
      postgresUrl,
      gateway: 'source',
      checkEvery: 1,
      log: (line) => lines.push(line),
    });

    const ids = result.scenarios.map((scenario) => scenario.id);
    expect(ids).toEqual([
      'filter-static',
      'filter-oauth',
      'filter-jwt',
      'discovery',
      'get-by-id',
      'page-first',
      'page-end',
      'cursor-first',
      'cursor-end',
      'group-big',
      'group-small',
      'post-user',
      'bulk-1000',
      'patch-add-1000-c2',
      'patch-add-1000-c1',
      'patch-remove-one-c2',
      'patch-remove-one-c1',
      'patch-add-one-c2',
      'patch-add-one-c1',
    ]);
    for (const scenario of result.scenarios) {
      expect({ id: scenario.id, errors: scenario.measurement.errors, failures: scenario.measurement.failures }).toEqual({ id: scenario.id, errors: 0, failures: [] });
      expect(scenario.measurement.requests, scenario.id).toBeGreaterThan(0);
    }
    if (postgresUrl) {
      expect(result.references.rawSql?.errors).toBe(0);
      expect(result.references.minimalKoa?.errors).toBe(0);
      expect(result.references.minimalKoa?.requests).toBeGreaterThan(0);
      expect(result.references.authentication?.skipped.errors).toBe(0);
      expect(result.references.authentication?.skipped.requests).toBeGreaterThan(0);
      for (const method of ['static', 'oauth', 'jwt'] as const) {
        expect(result.references.authentication?.methods[method].errors, method).toBe(0);
        expect(result.references.authentication?.methods[method].requests, method).toBeGreaterThan(0);
      }
      // The two budgets against the minimal server pair it with their scenario and say so.
      for (const id of ['filter-static', 'get-by-id']) {
        const scenario = result.scenarios.find((candidate) => candidate.id === id)!;
        expect(scenario.pairedMinimal?.errors, id).toBe(0);
        expect(scenario.pairedMinimal?.requests, id).toBeGreaterThan(0);
        expect(scenario.vsMinimal, id).toBe(Math.round((scenario.measurement.reqPerSec / scenario.pairedMinimal!.reqPerSec) * 100) / 100);
        expect(result.budgets.find((check) => check.budget === `${id}: >= 0.9 x minimal Koa + pg`)?.measured, id).toContain('the minimal server, interleaved with it');
      }
      expect(result.scenarios.find((candidate) => candidate.id === 'filter-oauth')?.pairedMinimal).toBeUndefined();
      // PostgreSQL's own CPU per request is read beside the gateway's, and the raw lookup is measured at both sizes.
      expect(result.scenarios.find((candidate) => candidate.id === 'filter-static')?.measurement.databaseCpuMsPerRequest).toBeTypeOf('number');
      expect(result.references.flatness?.rawSql?.small.requests).toBeGreaterThan(0);
      expect(result.references.flatness?.rawSql?.large.requests).toBeGreaterThan(0);
      expect(markdownReport(result)).toContain('| scenario | conn | req/s | p50 ms | p99 ms | errors | server CPU ms/req | PostgreSQL CPU ms/req | vs minimal Koa | vs raw SQL |');
      expect(markdownReport(result)).toContain('| reference: minimal Koa + pg, interleaved with the row above |');
    }
    // Flatness: 200 users in a database of their own against the full one, interleaved, both answering right.
    const flatness = result.references.flatness!;
    expect({ smallUsers: flatness.smallUsers, users: flatness.users }).toEqual({ smallUsers: 200, users: 300 });
    for (const side of [flatness.small, flatness.large, flatness.getById!.small, flatness.getById!.large]) {
      expect({ errors: side.errors, failures: side.failures }).toEqual({ errors: 0, failures: [] });
      expect(side.requests).toBeGreaterThan(0);
    }
    const flat = result.budgets.find((check) => check.budget.startsWith('filtered GET flat from 2,000'))!;
    expect(flat.measured).toContain(`(${Math.round(flatness.small.reqPerSec)} -> ${Math.round(flatness.large.reqPerSec)} req/s`);
    // Judged on PostgreSQL; on the embedded database the budgets are reported only.
    expect(flat.pass).toBe(postgresUrl ? flatness.large.reqPerSec >= 0.9 * flatness.small.reqPerSec : null);
    expect(markdownReport(result)).toContain('| reference: filtered GET at 200 users (a second database and process, interleaved with the next row) |');
    // GET by id, the budget's other read, against the same two processes.
    const flatById = result.budgets.find((check) => check.budget.startsWith('GET by id flat from 2,000'))!;
    expect(flatById.figure?.value).toBe(flatness.getById!.large.reqPerSec / flatness.getById!.small.reqPerSec);
    expect(flatById.pass).toBe(postgresUrl ? flatById.figure!.value >= 0.9 : null);
    expect(markdownReport(result)).toContain('| reference: GET /Users/:id at 200 users (the two processes above, interleaved with the next row) |');
    expect(result.seeding.map((rate) => rate.count)).toEqual([300, 1100, 5, 300]);
    expect(result.startToReadyMs.fresh).toBeGreaterThan(0);
    expect(result.startToReadyMs.restart).toBeGreaterThan(0);
    expect(result.rss.peakMb).toBeGreaterThan(0);
    expect(result.budgets.find((check) => check.budget === 'no errors in any scenario or reference')?.pass).toBe(true);
    // Every budget measured keeps its figure as a number, for reading several runs together (pnpm bench:summary).
    for (const check of result.budgets) {
      if (check.measured === 'not measured') expect(check.figure, check.budget).toBeUndefined();
      else expect(check.figure?.value, check.budget).toBeTypeOf('number');
    }
    // On the embedded database only correctness is judged, and it is.
    if (!postgresUrl) expect(result.budgets.filter((check) => check.pass !== null).map((check) => check.budget)).toEqual(['no errors in any scenario or reference']);
    expect(flat.figure?.value).toBe(flatness.large.reqPerSec / flatness.small.reqPerSec);
    expect(markdownReport(result)).toContain('| GET /Users/:id | 2 |');
  }, 240_000);

  it('runs the gateway with the node flags of `pnpm start`', () => {
    const start = (JSON.parse(fs.readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(start).toContain(`node ${GATEWAY_NODE_FLAGS.join(' ')} apps/scim-gateway/dist/main.js`);
  });
});

describe('percentiles of runs measured in rounds', () => {
  const run = (latencies: number[]): Measurement =>
    withSamples(latencies, { requests: latencies.length, seconds: 1, reqPerSec: latencies.length, p50: 0, p99: 0, max: 0, errors: 0, non2xx: 0, mismatches: 0, failures: [] });

  it('are those of all the requests together, not the worst run\'s', () => {
    // 100 fast requests and 100 with a slow tail: the slow run's own p99 is 40 ms, the pooled one 30 ms.
    const fast = run(Array.from({ length: 100 }, () => 1));
    const slow = run([...Array.from({ length: 97 }, () => 2), 30, 40, 50]);
    expect(pooledPercentiles([fast, slow])).toEqual({ p50: 1, p99: 30, max: 50 });
    expect(pooledPercentiles([fast, run(Array.from({ length: 100 }, (_, i) => (i < 99 ? 1 : 9)))])).toEqual({ p50: 1, p99: 1, max: 9 });
  });

  it('are not made up when a run kept no latencies', () => {
    const kept = run([1, 2, 3]);
    const plain: Measurement = { requests: 3, seconds: 1, reqPerSec: 3, p50: 2, p99: 3, max: 3, errors: 0, non2xx: 0, mismatches: 0, failures: [] };
    expect(pooledPercentiles([kept, plain])).toBeUndefined();
  });
});

describe('several runs read together', () => {
  const checkOf = (budget: string, value: number | undefined, comparison: BudgetFigure['comparison'], limit: number, judged = true, everyRun?: true): BudgetCheck => {
    if (value === undefined) return { budget, measured: 'not measured', pass: null };
    const figure: BudgetFigure = { value, comparison, limit, ...(everyRun ? { everyRun } : {}) };
    return { budget, measured: String(value), pass: judged ? meets(figure) : null, figure };
  };
  const resultOf = (startedAt: string, budgets: BudgetCheck[], database: BenchResult['database'] = 'postgres'): BenchResult =>
    ({ startedAt, database, options: { users: 100_000 }, budgets }) as unknown as BenchResult;
  const runsOf = (flatness: Array<number | undefined>, errors: number[], p99: number[]): BenchResult[] =>
    flatness.map((flat, index) =>
      resultOf(`2026-11-29T10:0${index}:00.000Z`, [
        checkOf('flat', flat, '>=', 0.9),
        checkOf('errors', errors[index], '<=', 0, true, true),
        checkOf('p99', p99[index], '<', 10),
      ]),
    );

  it('judge a ratio by the median of the runs, and say how many runs met it', () => {
    const [flat, , p99] = budgetsOverRuns(runsOf([0.85, 0.95, 0.93], [0, 0, 0], [4, 11.5, 5]));
    expect(flat).toMatchObject({ budget: 'flat', median: 0.93, judged: 3, met: 2, pass: true });
    expect(p99).toMatchObject({ median: 5, judged: 3, met: 2, pass: true });
    expect(budgetsOverRuns(runsOf([0.85, 0.88, 0.93], [0, 0, 0], [4, 4, 4]))[0]).toMatchObject({ median: 0.88, met: 1, pass: false });
    // An even number of runs: the mean of the middle two.
    expect(budgetsOverRuns(runsOf([0.8, 0.9, 0.92, 1.2], [0, 0, 0, 0], [4, 4, 4, 4]))[0]).toMatchObject({ median: 0.91, pass: true });
  });

  it('fail a correctness budget missed in any run, whatever the median', () => {
    const [, errors] = budgetsOverRuns(runsOf([1, 1, 1], [0, 3, 0], [4, 4, 4]));
    expect(errors).toMatchObject({ median: 0, judged: 3, met: 2, pass: false });
  });

  it('leave out a run that did not measure a budget, and judge nothing on the embedded database', () => {
    expect(budgetsOverRuns(runsOf([undefined, 0.95, 0.99], [0, 0, 0], [4, 4, 4]))[0]).toMatchObject({ median: 0.97, judged: 2, met: 2, pass: true });
    const embedded = [0.5, 0.6].map((flat, index) => resultOf(`2026-11-29T10:0${index}:00.000Z`, [checkOf('flat', flat, '>=', 0.9, false)], 'embedded'));
    expect(budgetsOverRuns(embedded)[0]).toMatchObject({ median: 0.55, judged: 0, pass: null });
  });

  it('print each run\'s figure, a miss in bold, the median and the verdict', () => {
    const report = summaryReport(runsOf([0.85, 0.95, 0.93], [0, 3, 0], [4, 4, 4]));
    expect(report).toContain('| budget | run 1 (2026-11-29 10:00) | run 2 (2026-11-29 10:01) | run 3 (2026-11-29 10:02) | median | met in | verdict |');
    expect(report).toContain('| flat | **0.85** | 0.95 | 0.93 | 0.93 | 2 of 3 | pass |');
    expect(report).toContain('| errors | 0 | **3** | 0 | 0 | 2 of 3 | **miss** |');
  });
});

describe('a hard exit of the harness', () => {
  it('names what it leaves behind: the databases and data directories not yet removed, not the processes it kills', async () => {
    const cleanup = new Cleanup();
    cleanup.add('drop database roster_bench_test_left', () => {}, { leavesState: true });
    cleanup.add('stop gateway (test)', () => {});
    cleanup.add('remove embedded data dir /tmp/roster-bench-test', () => {}, { leavesState: true });
    expect(killAllChildren()).toEqual(expect.arrayContaining(['remove embedded data dir /tmp/roster-bench-test', 'drop database roster_bench_test_left']));
    expect(killAllChildren()).not.toContain('stop gateway (test)');
    await cleanup.run();
    expect(killAllChildren()).not.toContain('drop database roster_bench_test_left');
  });
});
