// `pnpm test`: the whole suite on one database. With TEST_DATABASE_URL set every test file gets its own
// database on that PostgreSQL server; without it every test file gets its own in-memory embedded database.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const url = process.env.TEST_DATABASE_URL;
const label = url ? `PostgreSQL (${url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')})` : 'embedded PGlite (in memory)';
console.log(`roster tests: database = ${label}`);

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });

// Browser tests drive the built admin SPA through the gateway.
const build = run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@roster/admin', '--output-logs=errors-only']);
if (build.status !== 0) process.exit(build.status ?? 1);

const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'roster-tests-')), 'results.json');
const tests = run('pnpm', ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);
console.log(`roster tests: finished on ${label}`);
try {
  const results = JSON.parse(fs.readFileSync(report, 'utf8'));
  // One plain summary line for CI: "N passed, N failed, N skipped".
  console.log(`tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped`);
} catch {
  console.log('roster tests: no result summary was written');
}
process.exit(tests.status ?? 1);
