import { describe, expect, it } from 'vitest';
import { runBenchmark } from '../../../bench/harness.js';
import { markdownReport } from '../../../bench/report.js';

// Keeps `pnpm bench` working: the whole harness on a few hundred users for a second per scenario, on PostgreSQL
// when TEST_DATABASE_URL is set (references included), else on the embedded database. It asserts that every
// scenario ran and every answer was right, never how fast: CI machines are not benchmark machines. It loads the
// machine for minutes, so `pnpm test` leaves it out (apps/scim-gateway/vitest.config.ts): `pnpm bench:smoke`.
describe('benchmark harness (smoke)', () => {
  it('seeds, runs every scenario, both references and the starvation measurement without a wrong answer', async () => {
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
      'signin-claims',
      'signin-idtoken',
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
    // Issue 19: both sign-in scenarios measured interleaved with GET by id on the same process, each checked
    // response `found` with the right user (checkEvery 1); bad input each its 4xx; the relink timed while reads ran.
    for (const id of ['signin-claims', 'signin-idtoken']) {
      const scenario = result.scenarios.find((candidate) => candidate.id === id)!;
      expect({ id, errors: scenario.pairedGetById?.errors, failures: scenario.pairedGetById?.failures }).toEqual({ id, errors: 0, failures: [] });
      expect(scenario.pairedGetById?.requests, id).toBeGreaterThan(0);
      const ratio = result.budgets.find((check) => check.budget.startsWith(`${id}: >= `) && check.budget.endsWith('x GET /Users/:id (interleaved)'))!;
      expect(ratio.figure?.value, id).toBe(scenario.measurement.reqPerSec / scenario.pairedGetById!.reqPerSec);
      expect(ratio.figure?.limit, id).toBe(id === 'signin-claims' ? 0.9 : 0.5);
    }
    expect(markdownReport(result)).toContain('| reference: GET /Users/:id on the same process, interleaved with the row above |');
    const badInput = result.signIn?.badInput;
    expect(badInput?.cases.map((item) => [item.case, item.answered])).toEqual([
      ['unknown provider', '404 not_found'],
      ['malformed ID token', '400 invalid_id_token/malformed'],
      ['ID token signed by another key', '400 invalid_id_token/signature'],
      ['ID token for another audience', '400 invalid_id_token/claim_aud'],
      ['expired ID token', '400 invalid_id_token/expired'],
      ['claim of the wrong type (array)', '400 invalid_input'],
      ['claim of the wrong type (number)', '400 invalid_input'],
      ['claims not an object', '400 invalid_request'],
    ]);
    expect(result.budgets.find((check) => check.budget === 'sign-in: bad input answers 4xx, never found')).toMatchObject({ pass: true, figure: { value: 0, everyRun: true } });
    const relink = result.signIn?.relink;
    // Every user the static client provisioned: the seed, the pool and those the POST and /Bulk scenarios made.
    expect(relink?.users).toBeGreaterThanOrEqual(300 + 1100);
    expect(relink?.problems).toEqual([]);
    expect({ errors: relink?.during.errors, failures: relink?.during.failures }).toEqual({ errors: 0, failures: [] });
    expect(relink?.during.requests).toBeGreaterThan(0);
    expect(result.budgets.find((check) => check.budget === 'relink >= 5,000 users/s, SCIM served meanwhile (no errors)')?.figure?.value).toBe(relink!.usersPerSecond);
    expect(markdownReport(result)).toContain(`| GET /Users/:id while ${relink!.users.toLocaleString('en-US')} users are relinked (closed loop until the rebuild is done) |`);

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
    if (!postgresUrl) {
      expect(result.budgets.filter((check) => check.pass !== null).map((check) => check.budget)).toEqual(['sign-in: bad input answers 4xx, never found', 'no errors in any scenario or reference']);
    }
    // Issue 20: another client's GET by id alone and during one client's flood of sorted deep pages, on a
    // gateway with the default in-flight cap; every read 200, every flood request 200 or 429 (with Retry-After).
    const starvation = result.starvation!;
    for (const [what, m] of [['alone', starvation.alone], ['during', starvation.during], ['flood', starvation.flood]] as const) {
      expect({ what, errors: m.errors, failures: m.failures }).toEqual({ what, errors: 0, failures: [] });
      expect(m.requests, what).toBeGreaterThan(0);
    }
    expect(starvation.flood.ok + starvation.flood.limited).toBe(starvation.flood.requests);
    expect(starvation.flood.ok).toBeGreaterThan(0);
    const starve = result.budgets.find((check) => check.budget === "another client's GET by id p99 < 200 ms while one client floods 40 sorted deep pages")!;
    expect(starve.figure).toEqual({ value: starvation.during.p99, comparison: '<', limit: 200 });
    expect(starve.pass).toBe(postgresUrl ? starvation.during.p99 < 200 : null);
    expect(markdownReport(result)).toContain('| starve: the same, while one client floods 40 sorted deep pages (the next row) | 2 |');
    expect(flat.figure?.value).toBe(flatness.large.reqPerSec / flatness.small.reqPerSec);
    expect(markdownReport(result)).toContain('| GET /Users/:id | 2 |');
  }, 360_000);
});
