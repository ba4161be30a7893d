// `pnpm bench:summary [result.json ...]`: several runs of `pnpm bench` read together (bench/summary.ts), by
// default the PostgreSQL runs in bench/results/ made like the newest one (same users, duration and scenarios).
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './harness.js';
import { REPO_ROOT } from './processes.js';
import { summaryReport } from './summary.js';

const dir = path.join(REPO_ROOT, 'bench/results');
const given = process.argv.slice(2);
const files = given.length
  ? given
  : fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((name) => name.endsWith('-postgres.json'))
        .sort()
        .map((name) => path.join(dir, name))
    : [];
if (files.length === 0) {
  console.error('bench:summary: no results; run `pnpm bench` first, or name result files (bench/results/*.json)');
  process.exit(2);
}
const results: BenchResult[] = [];
for (const file of files) {
  const result = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResult;
  // Results written before the budgets kept their figures as numbers cannot be read together.
  if (!result.budgets?.some((check) => check.figure)) {
    console.error(`bench:summary: ${file} has no budget figures (written by an older harness); skipped`);
    continue;
  }
  results.push(result);
}
if (results.length === 0) process.exit(2);
// Without files named, only the runs comparable with the newest: a quick or partial run beside full ones
// would move the medians.
const newest = results[results.length - 1]!;
const alike = (result: BenchResult): boolean =>
  result.options.users === newest.options.users &&
  result.options.durationSeconds === newest.options.durationSeconds &&
  String(result.options.only ?? '') === String(newest.options.only ?? '');
console.log(summaryReport(given.length ? results : results.filter(alike)));
