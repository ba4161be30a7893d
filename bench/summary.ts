import type { BenchResult, BudgetCheck, BudgetFigure } from './harness.js';

// Several runs of `pnpm bench` read together. On a shared machine the speed moves by a fifth within half a
// minute (docs/benchmarks.md, finding 37), as much as the margin of the budgets that are ratios of two
// measurements; one run is one sample of that. Each budget's figure is given per run and as the median of the
// runs, which is what the verdict reads; a budget on correctness (no errors) must hold in every run.

/** Whether a figure meets its limit (checkBudgets in bench/harness.ts judges each run with it). */
export function meets(figure: BudgetFigure): boolean {
  switch (figure.comparison) {
    case '>=':
      return figure.value >= figure.limit;
    case '<':
      return figure.value < figure.limit;
    case '<=':
      return figure.value <= figure.limit;
  }
}

const format = (value: number): string => (Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 100) / 100));

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface BudgetOverRuns {
  budget: string;
  /** One entry per run, in the order given; undefined where that run did not measure it. */
  runs: Array<BudgetCheck | undefined>;
  median: number | undefined;
  /** Runs that judged it, and how many of them met it. */
  judged: number;
  met: number;
  /** The verdict: the median meets the limit (every run for a correctness budget); null where no run judged it. */
  pass: boolean | null;
}

export function budgetsOverRuns(results: BenchResult[]): BudgetOverRuns[] {
  const names: string[] = [];
  for (const result of results) for (const check of result.budgets) if (!names.includes(check.budget)) names.push(check.budget);
  return names.map((budget) => {
    const runs = results.map((result) => result.budgets.find((check) => check.budget === budget));
    const figures = runs.flatMap((check) => (check?.figure ? [check.figure] : []));
    const judgedRuns = runs.filter((check): check is BudgetCheck => check?.pass === true || check?.pass === false);
    const met = judgedRuns.filter((check) => check.pass).length;
    const [first] = figures;
    const middle = figures.length ? median(figures.map((figure) => figure.value)) : undefined;
    let pass: boolean | null = null;
    if (judgedRuns.length && first && middle !== undefined) pass = first.everyRun ? met === judgedRuns.length : meets({ ...first, value: middle });
    return { budget, runs, median: middle, judged: judgedRuns.length, met, pass };
  });
}

/** The Markdown table of several runs: each budget's figure per run (a star where that run missed it), the median and the verdict. */
export function summaryReport(results: BenchResult[]): string {
  if (results.length === 0) throw new Error('summaryReport: no results');
  const lines: string[] = [];
  const databases = [...new Set(results.map((result) => result.database))];
  const users = [...new Set(results.map((result) => result.options.users))];
  lines.push(`### ${results.length} runs (${databases.join(', ')}; ${users.map((count) => count.toLocaleString('en-US')).join(', ')} users)`);
  lines.push('');
  if (databases.length > 1 || users.length > 1) lines.push('These runs differ in database or size: their medians mix different measurements.', '');
  const heads = results.map((result, index) => `run ${index + 1} (${result.startedAt.slice(0, 16).replace('T', ' ')})`);
  lines.push(`| budget | ${heads.join(' | ')} | median | met in | verdict |`);
  lines.push(`|---|${heads.map(() => '---:').join('|')}|---:|---:|---|`);
  for (const row of budgetsOverRuns(results)) {
    const cells = row.runs.map((check) => {
      if (!check?.figure) return '';
      return check.pass === false ? `**${format(check.figure.value)}**` : format(check.figure.value);
    });
    const verdict = row.pass === null ? 'n/a' : row.pass ? 'pass' : '**miss**';
    lines.push(`| ${row.budget} | ${cells.join(' | ')} | ${row.median === undefined ? '' : format(row.median)} | ${row.judged ? `${row.met} of ${row.judged}` : ''} | ${verdict} |`);
  }
  lines.push('');
  lines.push('A bold figure missed its budget in that run. The verdict reads the median of the runs (every run for "no errors").');
  return lines.join('\n');
}
