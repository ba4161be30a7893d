import type { BenchResult } from './harness.js';

// The Markdown that `pnpm bench` prints and docs/benchmarks.md quotes.

const n = (value: number): string => Math.round(value).toLocaleString('en-US');
const ratio = (value: number | undefined): string => (value === undefined ? '' : value.toFixed(2));

export function markdownReport(result: BenchResult): string {
  const lines: string[] = [];
  const { machine, options } = result;
  lines.push(`### ${result.database === 'postgres' ? 'PostgreSQL' : 'Embedded database (PGlite)'}: ${n(options.users)} users, ${options.durationSeconds} s per scenario, ${options.connections} connections`);
  lines.push('');
  lines.push(`${result.startedAt} · ${machine.cpu} × ${machine.cores} cores · ${machine.memoryGb} GB · ${machine.os} · Node ${machine.node}${machine.postgres ? ` · PostgreSQL ${machine.postgres}` : ''} · gateway from ${options.gateway} · load average ${machine.loadAverageAtStart} at start, ${machine.loadAverageAtEnd ?? '?'} at end`);
  lines.push('');
  lines.push('| scenario | conn | req/s | p50 ms | p99 ms | errors | server CPU ms/req | vs minimal Koa | vs raw SQL |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const cpu = (value: number | undefined): string => (value === undefined ? '' : value.toFixed(2));
  const { rawSql, minimalKoa, authentication } = result.references;
  if (rawSql) lines.push(`| reference: raw SQL lookup through pg | ${options.connections} | ${n(rawSql.reqPerSec)} | ${rawSql.p50} | ${rawSql.p99} | ${rawSql.errors} | | | 1.00 |`);
  if (minimalKoa) {
    lines.push(`| reference: minimal Koa + pg filtered GET | ${options.connections} | ${n(minimalKoa.reqPerSec)} | ${minimalKoa.p50} | ${minimalKoa.p99} | ${minimalKoa.errors} | ${cpu(minimalKoa.serverCpuMsPerRequest)} | 1.00 | ${ratio(rawSql ? minimalKoa.reqPerSec / rawSql.reqPerSec : undefined)} |`);
  }
  if (authentication) {
    const m = authentication.skipped;
    const vsMinimal = minimalKoa ? m.reqPerSec / minimalKoa.reqPerSec : undefined;
    const vsRaw = rawSql ? m.reqPerSec / rawSql.reqPerSec : undefined;
    lines.push(`| reference: the gateway with authentication skipped, filtered GET | ${options.connections} | ${n(m.reqPerSec)} | ${m.p50} | ${m.p99} | ${m.errors} | ${cpu(m.serverCpuMsPerRequest)} | ${ratio(vsMinimal)} | ${ratio(vsRaw)} |`);
  }
  const methodTitles = { static: 'static token', oauth: 'OAuth client-credentials token', jwt: 'IdP JWT' } as const;
  for (const method of ['static', 'oauth', 'jwt'] as const) {
    const m = authentication?.methods[method];
    if (!m) continue;
    const vsMinimal = minimalKoa ? m.reqPerSec / minimalKoa.reqPerSec : undefined;
    const vsRaw = rawSql ? m.reqPerSec / rawSql.reqPerSec : undefined;
    lines.push(`| reference: the same process, ${methodTitles[method]} | ${options.connections} | ${n(m.reqPerSec)} | ${m.p50} | ${m.p99} | ${m.errors} | ${cpu(m.serverCpuMsPerRequest)} | ${ratio(vsMinimal)} | ${ratio(vsRaw)} |`);
  }
  for (const scenario of result.scenarios) {
    const m = scenario.measurement;
    lines.push(`| ${scenario.title} | ${scenario.connections} | ${n(m.reqPerSec)} | ${m.p50} | ${m.p99} | ${m.errors} | ${cpu(m.serverCpuMsPerRequest)} | ${ratio(scenario.vsMinimal)} | ${ratio(scenario.vsRawSql)} |`);
    const paired = scenario.pairedMinimal;
    if (paired) {
      const vsRaw = rawSql ? paired.reqPerSec / rawSql.reqPerSec : undefined;
      lines.push(`| reference: minimal Koa + pg, right before and after the row above | ${options.connections} | ${n(paired.reqPerSec)} | ${paired.p50} | ${paired.p99} | ${paired.errors} | ${cpu(paired.serverCpuMsPerRequest)} | 1.00 | ${ratio(vsRaw)} |`);
    }
  }
  lines.push('');
  lines.push('| seeding | count | seconds | per second |');
  lines.push('|---|---:|---:|---:|');
  for (const rate of result.seeding) lines.push(`| ${rate.what} | ${n(rate.count)} | ${rate.seconds.toFixed(1)} | ${n(rate.perSecond)} |`);
  lines.push('');
  const phases = Object.entries(result.rss.byPhaseMb)
    .map(([phase, mb]) => `${phase} ${Math.round(mb)}`)
    .join(', ');
  lines.push(`Gateway RSS peak: **${result.rss.peakMb} MB** (per phase, MB: ${phases}).`);
  lines.push(
    `Start to ready: ${result.startToReadyMs.fresh} ms on a fresh database (migrations included)` +
      (result.startToReadyMs.restart !== undefined ? `, ${result.startToReadyMs.restart} ms restarting on the seeded database.` : '.'),
  );
  if (result.bigGroupFullGetMs !== undefined) lines.push(`One GET of the big group with all its members: ${n(result.bigGroupFullGetMs)} ms.`);
  lines.push('');
  lines.push('| budget | measured | |');
  lines.push('|---|---|---|');
  for (const check of result.budgets) lines.push(`| ${check.budget} | ${check.measured} | ${check.pass === null ? 'n/a' : check.pass ? 'pass' : '**miss**'} |`);
  const failures = result.scenarios.filter((scenario) => scenario.measurement.failures.length);
  if (failures.length) {
    lines.push('');
    lines.push('First failures:');
    for (const scenario of failures) lines.push(`- ${scenario.id}: ${scenario.measurement.failures.join(' | ').replace(/\n/g, ' ')}`);
  }
  return lines.join('\n');
}
