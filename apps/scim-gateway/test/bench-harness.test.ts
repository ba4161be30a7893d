import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkBudgets, type BenchResult, type BudgetCheck, type BudgetFigure } from '../../../bench/harness.js';
import { Cleanup, GATEWAY_NODE_FLAGS, REPO_ROOT, killAllChildren } from '../../../bench/processes.js';
import { pooledPercentiles, withSamples, type Measurement } from '../../../bench/measure.js';
import { budgetsOverRuns, meets, summaryReport } from '../../../bench/summary.js';
import { deepSortedPage, type FloodMeasurement } from '../../../bench/starve.js';

// The benchmark harness's own logic (percentiles over runs, budgets over runs, cleanup after a hard exit), without
// load: part of `pnpm test`. The harness run itself is test/bench-smoke.test.ts (`pnpm bench:smoke`).

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

describe('the gateway process of the harness', () => {
  it('runs the gateway with the node flags of `pnpm start`', () => {
    const start = (JSON.parse(fs.readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(start).toContain(`node ${GATEWAY_NODE_FLAGS.join(' ')} apps/scim-gateway/dist/main.js`);
  });
});

describe("issue 19's budgets in a run's report", () => {
  const measurement = (reqPerSec: number, p99: number, errors = 0): Measurement =>
    ({ requests: reqPerSec, seconds: 1, reqPerSec, p50: 1, p99, max: p99, errors, non2xx: 0, mismatches: errors, failures: [] }) as Measurement;
  const resultOf = (database: BenchResult['database'], relinkErrors: number, badInputWrong: number): BenchResult =>
    ({
      database,
      options: { connections: 10 },
      references: {},
      startToReadyMs: { fresh: 1000 },
      rss: { peakMb: 100, byPhaseMb: {} },
      scenarios: [
        { id: 'signin-claims', title: 'claims', connections: 10, measurement: measurement(4600, 4), pairedGetById: measurement(5000, 3) },
        { id: 'signin-idtoken', title: 'ID token', connections: 10, measurement: measurement(2400, 6), pairedGetById: measurement(5000, 3) },
      ],
      signIn: {
        relink: { from: { claim: 'sub', attribute: 'externalId' }, to: { claim: 'email', attribute: 'userName' }, users: 120_000, seconds: 12, usersPerSecond: 10_000, observedSeconds: 12.1, during: measurement(3000, 8, relinkErrors), problems: [] },
        badInput: { cases: [{ case: 'unknown provider', expected: '404 not_found', answered: badInputWrong ? '200 found' : '404 not_found', ok: badInputWrong === 0 }], wrong: badInputWrong },
      },
    }) as unknown as BenchResult;
  const row = (checks: BudgetCheck[], budget: string): BudgetCheck | undefined => checks.find((check) => check.budget === budget);

  it('judge sign-in against GET by id of the same process, and the relink by its rate', () => {
    const checks = checkBudgets(resultOf('postgres', 0, 0));
    expect(row(checks, 'signin-claims: >= 0.9 x GET /Users/:id (interleaved)')).toMatchObject({ pass: true, figure: { value: 0.92, comparison: '>=', limit: 0.9 } });
    expect(row(checks, 'signin-claims: p99 < 10 ms')).toMatchObject({ pass: true, figure: { value: 4, limit: 10 } });
    expect(row(checks, 'signin-idtoken: >= 0.5 x GET /Users/:id (interleaved)')).toMatchObject({ pass: false, figure: { value: 0.48, limit: 0.5 } });
    expect(row(checks, 'relink >= 5,000 users/s, SCIM served meanwhile (no errors)')).toMatchObject({ pass: true, figure: { value: 10_000, limit: 5000 } });
    expect(row(checks, 'sign-in: bad input answers 4xx, never found')).toMatchObject({ pass: true, figure: { value: 0, everyRun: true } });
  });

  it('count a relink with failed reads as 0 users/s, and a wrong answer to bad input on any database', () => {
    const checks = checkBudgets(resultOf('embedded', 2, 1));
    // On the embedded database the rates are reported, not judged; correctness is.
    expect(row(checks, 'relink >= 5,000 users/s, SCIM served meanwhile (no errors)')).toMatchObject({ pass: null, figure: { value: 0 } });
    expect(row(checks, 'sign-in: bad input answers 4xx, never found')).toMatchObject({ pass: false, figure: { value: 1 } });
    expect(row(checks, 'sign-in: bad input answers 4xx, never found')?.measured).toBe('1 of 1 wrong: unknown provider: 200 found, expected 404 not_found');
    expect(row(checks, 'no errors in any scenario or reference')).toMatchObject({ pass: false, measured: 'GET by id during the relink: 2' });
  });
});

describe("issue 20's starvation budget in a run's report", () => {
  const measurement = (p50: number, p99: number, errors = 0): Measurement =>
    ({ requests: 1000, seconds: 1, reqPerSec: 1000, p50, p99, max: p99, errors, non2xx: 0, mismatches: 0, failures: [] }) as Measurement;
  const resultOf = (database: BenchResult['database'], duringP99: number, floodErrors: number): BenchResult =>
    ({
      database,
      options: { connections: 10 },
      references: {},
      startToReadyMs: { fresh: 1000 },
      rss: { peakMb: 100, byPhaseMb: {} },
      scenarios: [],
      starvation: {
        floodConnections: 40,
        readerConnections: 2,
        alone: measurement(1.2, 3.5),
        during: measurement(4.1, duringP99),
        flood: { ...measurement(300, 900, floodErrors), ok: 700, limited: 300 - floodErrors, non2xx: 300 } as FloodMeasurement,
      },
    }) as unknown as BenchResult;
  const budget = "another client's GET by id p99 < 200 ms while one client floods 40 sorted deep pages";
  const row = (checks: BudgetCheck[], name: string): BudgetCheck | undefined => checks.find((check) => check.budget === name);

  it('judge the reads during the flood by their p99, and show the read alone and the flood beside it', () => {
    const checks = checkBudgets(resultOf('postgres', 48.5, 0));
    expect(row(checks, budget)).toEqual({
      budget,
      measured: 'p99 48.5 ms, p50 4.1 ms (alone right before: p99 3.5 ms, p50 1.2 ms); the flood: 700 pages 200, 300 refused 429',
      pass: true,
      figure: { value: 48.5, comparison: '<', limit: 200 },
    });
    expect(row(checks, 'no errors in any scenario or reference')).toMatchObject({ pass: true, measured: '0 errors' });
    expect(row(checkBudgets(resultOf('postgres', 250, 0)), budget)).toMatchObject({ pass: false, figure: { value: 250 } });
  });

  it('count a flood answer other than 200 or 429 as an error, and report the p99 on the embedded database without judging it', () => {
    const checks = checkBudgets(resultOf('embedded', 250, 3));
    expect(row(checks, budget)).toMatchObject({ pass: null, figure: { value: 250 } });
    expect(row(checks, budget)?.measured).toContain('the flood: 700 pages 200, 297 refused 429, 3 errors');
    expect(row(checks, 'no errors in any scenario or reference')).toMatchObject({ pass: false, measured: 'starve: the flood (other than 200 or 429): 3' });
  });

  it('leave the row unmeasured in a run without it', () => {
    const { starvation: _left, ...without } = resultOf('postgres', 10, 0);
    expect(row(checkBudgets(without as BenchResult), budget)).toEqual({ budget, measured: 'not measured', pass: null });
  });
});

describe('the flood of sorted deep pages', () => {
  it('asks for a random page in the second half of the directory, never past its last full page', () => {
    expect(deepSortedPage('/scim_v2', 100_000, () => 0)).toEqual({ path: '/scim_v2/Users?sortBy=userName&startIndex=50000&count=100', startIndex: 50_000 });
    expect(deepSortedPage('/scim_v2', 100_000, () => 0.999999).startIndex).toBe(99_901);
    // A directory smaller than two pages still gets a valid startIndex (RFC 7644 §3.4.2.4: 1-based).
    expect(deepSortedPage('/scim_v2', 120, () => 0.999999).startIndex).toBe(60);
    expect(deepSortedPage('/scim_v2', 1, () => 0.5).startIndex).toBe(1);
  });
});
