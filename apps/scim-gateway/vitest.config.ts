import { configDefaults, defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// The benchmark harness's smoke run loads the machine for minutes and is not part of `pnpm test`: it runs with
// `pnpm bench:smoke` (which sets ROSTER_BENCH_SMOKE=1), after a change to bench/ or before a benchmark run.
const BENCH_SMOKE = 'test/bench-smoke.test.ts';

export default mergeConfig(
  sharedConfig,
  defineProject({ test: { name: 'scim-gateway', exclude: process.env.ROSTER_BENCH_SMOKE ? configDefaults.exclude : [...configDefaults.exclude, BENCH_SMOKE] } }),
);
