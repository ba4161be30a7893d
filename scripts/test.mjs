// `pnpm test`: the whole suite on one database. With TEST_DATABASE_URL set every test file gets its own
// database on that PostgreSQL server; without it every test file gets its own in-memory embedded database.
import { spawnSync } from 'node:child_process';

const url = process.env.TEST_DATABASE_URL;
const label = url ? `PostgreSQL (${url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')})` : 'embedded PGlite (in memory)';
console.log(`roster tests: database = ${label}`);

const run = (cmd, args) => {
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
// Browser tests drive the built admin SPA through the gateway.
run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@roster/admin', '--output-logs=errors-only']);
run('pnpm', ['exec', 'vitest', 'run', ...process.argv.slice(2)]);
console.log(`roster tests: finished on ${label}`);
