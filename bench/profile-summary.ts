// Summarises V8 CPU profiles written by `pnpm bench --cpu-prof` (bench/results/profiles/*.cpuprofile):
// self time by function and by package or source folder, and total (inclusive) time of the heaviest frames.
//   pnpm exec tsx bench/profile-summary.ts bench/results/profiles/<file>.cpuprofile [--top 30]
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const top = Number(values.top);

function groupOf(url: string): string {
  if (!url) return '(native)';
  const modules = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return url;
  const source = /\/work\/main\/(.+)\/[^/]+$/.exec(url);
  return source ? source[1]! : url;
}

for (const file of positionals) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = [...self.values()].reduce((sum, value) => sum + value, 0);
  const label = (node: ProfileNode): string => `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/work\/main\//, '')}:${node.callFrame.lineNumber + 1}`;

  const selfByFunction = new Map<string, number>();
  const selfByGroup = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, time] of self) {
    const node = byId.get(id)!;
    selfByFunction.set(label(node), (selfByFunction.get(label(node)) ?? 0) + time);
    const group = groupOf(node.callFrame.url);
    selfByGroup.set(group, (selfByGroup.get(group) ?? 0) + time);
    // Inclusive: every distinct frame on the stack gets the sample once.
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const key = label(byId.get(current)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + time);
    }
  }
  const print = (title: string, map: Map<string, number>): void => {
    console.log(`\n${title}`);
    for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${(time / 1000).toFixed(0).padStart(6)} ms  ${key}`);
    }
  };
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  print('self time by package / folder', selfByGroup);
  print('self time by function', selfByFunction);
  print('total time by function (inclusive)', inclusive);
}
