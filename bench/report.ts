import type { BenchResult } from './harness.js';
import type { Measurement } from './measure.js';

// The Markdown that `pnpm bench` prints and docs/benchmarks.md quotes.

const n = (value: number): string => Math.round(value).toLocaleString('en-US');
const ratio = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '' : value.toFixed(2));

export function markdownReport(result: BenchResult): string {
  const lines: string[] = [];
  const { machine, options } = result;
  lines.push(`### ${result.database === 'postgres' ? 'PostgreSQL' : 'Embedded database (PGlite)'}: ${n(options.users)} users, ${options.durationSeconds} s per scenario, ${options.connections} connections`);
  lines.push('');
  lines.push(`${result.startedAt} · ${machine.cpu} × ${machine.cores} cores · ${machine.memoryGb} GB · ${machine.os} · Node ${machine.node}${machine.postgres ? ` · PostgreSQL ${machine.postgres}` : ''} · gateway from ${options.gateway} · load average ${machine.loadAverageAtStart} at start, ${machine.loadAverageAtEnd ?? '?'} at end`);
  lines.push('');
  const { rawSql, minimalKoa, authentication, flatness } = result.references;
  const database = result.database === 'postgres';
  lines.push(`| scenario | conn | req/s | p50 ms | p99 ms | errors | server CPU ms/req |${database ? ' PostgreSQL CPU ms/req |' : ''} vs minimal Koa | vs raw SQL |`);
  lines.push(`|---|---:|---:|---:|---:|---:|---:|${database ? '---:|' : ''}---:|---:|`);
  const cpu = (value: number | undefined): string => (value === undefined ? '' : value.toFixed(3));
  /** One row; `vsMinimal` is the minimal server's req/s to compare with (the paired one under a scenario). */
  const row = (title: string, connections: number, m: Measurement, against: { minimal?: number | undefined; vsMinimal?: number | undefined } = {}): void => {
    const vsMinimal = against.vsMinimal ?? (against.minimal ? m.reqPerSec / against.minimal : minimalKoa ? m.reqPerSec / minimalKoa.reqPerSec : undefined);
    const vsRaw = rawSql ? m.reqPerSec / rawSql.reqPerSec : undefined;
    const databaseCell = database ? ` ${cpu(m.databaseCpuMsPerRequest)} |` : '';
    lines.push(`| ${title} | ${connections} | ${n(m.reqPerSec)} | ${m.p50} | ${m.p99} | ${m.errors} | ${cpu(m.serverCpuMsPerRequest)} |${databaseCell} ${ratio(vsMinimal)} | ${ratio(vsRaw)} |`);
  };
  if (rawSql) row('reference: raw SQL lookup through pg', options.connections, rawSql, { vsMinimal: Number.NaN });
  if (minimalKoa) row('reference: minimal Koa + pg filtered GET', options.connections, minimalKoa);
  if (authentication) row('reference: the gateway with authentication skipped, filtered GET', options.connections, authentication.skipped);
  const methodTitles = { static: 'static token', oauth: 'OAuth client-credentials token', jwt: 'IdP JWT' } as const;
  for (const method of ['static', 'oauth', 'jwt'] as const) {
    const m = authentication?.methods[method];
    if (m) row(`reference: the same process, ${methodTitles[method]}`, options.connections, m);
  }
  if (flatness) {
    row(`reference: filtered GET at ${n(flatness.smallUsers)} users (a second database and process, interleaved with the next row)`, options.connections, flatness.small);
    row(`reference: filtered GET at ${n(flatness.users)} users (the scenarios' process, interleaved with the row above)`, options.connections, flatness.large);
    if (flatness.rawSql) {
      row(`reference: raw SQL lookup at ${n(flatness.smallUsers)} users (interleaved with the next row)`, options.connections, flatness.rawSql.small, { vsMinimal: Number.NaN });
      row(`reference: raw SQL lookup at ${n(flatness.users)} users (interleaved with the row above)`, options.connections, flatness.rawSql.large, { vsMinimal: Number.NaN });
    }
    if (flatness.getById) {
      row(`reference: GET /Users/:id at ${n(flatness.smallUsers)} users (the two processes above, interleaved with the next row)`, options.connections, flatness.getById.small, { vsMinimal: Number.NaN });
      row(`reference: GET /Users/:id at ${n(flatness.users)} users (interleaved with the row above)`, options.connections, flatness.getById.large, { vsMinimal: Number.NaN });
    }
  }
  for (const scenario of result.scenarios) {
    row(scenario.title, scenario.connections, scenario.measurement, { vsMinimal: scenario.vsMinimal ?? Number.NaN });
    if (scenario.pairedMinimal) row('reference: minimal Koa + pg, interleaved with the row above', options.connections, scenario.pairedMinimal, { vsMinimal: 1 });
    if (scenario.pairedGetById) row('reference: GET /Users/:id on the same process, interleaved with the row above', options.connections, scenario.pairedGetById);
  }
  const relink = result.signIn?.relink;
  if (relink) row(`GET /Users/:id while ${n(relink.users)} users are relinked (closed loop until the rebuild is done)`, options.connections, relink.during);
  const starvation = result.starvation;
  if (starvation) {
    const none = { vsMinimal: Number.NaN };
    row('starve: GET /Users/:id, another client, alone (a gateway of its own with the default in-flight cap and statement timeout)', starvation.readerConnections, starvation.alone, none);
    row(`starve: the same, while one client floods ${starvation.floodConnections} sorted deep pages (the next row)`, starvation.readerConnections, starvation.during, none);
    row(`starve: the flood, GET /Users?sortBy=userName deep pages, one client (${n(starvation.flood.ok)} answered 200, ${n(starvation.flood.limited)} refused 429)`, starvation.floodConnections, starvation.flood, none);
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
  if (relink) {
    lines.push(
      `Relink after the identity mapping changed from \`${relink.from.claim}\` -> \`${relink.from.attribute}\` to \`${relink.to.claim}\` -> \`${relink.to.attribute}\`: ` +
        `${n(relink.users)} users in ${relink.seconds.toFixed(2)} s by the rebuild's own timestamps (${n(relink.usersPerSecond)}/s; ${relink.observedSeconds.toFixed(2)} s until the harness saw it done).`,
    );
  }
  const badInput = result.signIn?.badInput;
  if (starvation?.rssPeakMb !== undefined) lines.push(`Starvation gateway RSS peak: ${starvation.rssPeakMb} MB (not in the gateway RSS budget: a process of its own).`);
  if (badInput) lines.push(`Sign-in bad input: ${badInput.cases.map((item) => `${item.case} ${item.answered}${item.ok ? '' : ` (**expected ${item.expected}**)`}`).join('; ')}.`);
  lines.push('');
  lines.push('| budget | measured | |');
  lines.push('|---|---|---|');
  for (const check of result.budgets) lines.push(`| ${check.budget} | ${check.measured} | ${check.pass === null ? 'n/a' : check.pass ? 'pass' : '**miss**'} |`);
  const failures: Array<[string, Measurement]> = result.scenarios.map((scenario) => [scenario.id, scenario.measurement]);
  if (starvation) failures.push(['starve (alone)', starvation.alone], ['starve (during the flood)', starvation.during], ['starve (the flood)', starvation.flood]);
  const failed = failures.filter(([, m]) => m.failures.length);
  if (failed.length) {
    lines.push('');
    lines.push('First failures:');
    for (const [id, m] of failed) lines.push(`- ${id}: ${m.failures.join(' | ').replace(/\n/g, ' ')}`);
  }
  return lines.join('\n');
}
