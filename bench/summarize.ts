// `pnpm bench:summary [result.json ...]`: several runs of `pnpm bench` read together (bench/summary.ts), by
// default every PostgreSQL run in bench/results/.
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
console.log(summaryReport(results));
