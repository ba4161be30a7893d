import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Child processes of the harness (gateway, minimal Koa server) and what it samples from them. Every process
// started here is registered with a Cleanup, which stops it (SIGTERM, then SIGKILL after a grace period)
// whether the run ends normally, fails, or is interrupted with Ctrl-C.

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every Cleanup made, for the steps a hard exit leaves undone (killAllChildren). */
const cleanups = new Set<Cleanup>();

/** Last-in first-out teardown; each step runs once even if `run()` is called again (signal during cleanup). */
export class Cleanup {
  private readonly steps: Array<{ name: string; fn: () => Promise<void> | void; leavesState: boolean }> = [];

  constructor() {
    cleanups.add(this);
  }

  /**
   * `leavesState`: the step removes something that outlives the process if it never runs (a database, a data
   * directory), as opposed to stopping a child, which a hard exit kills anyway.
   */
  add(name: string, fn: () => Promise<void> | void, options: { leavesState?: boolean } = {}): void {
    this.steps.push({ name, fn, leavesState: options.leavesState ?? false });
  }

  /** The steps not run yet that would leave state behind, newest first. */
  pendingState(): string[] {
    return this.steps.filter((step) => step.leavesState).map((step) => step.name).reverse();
  }

  async run(log: (line: string) => void = () => {}): Promise<void> {
    while (this.steps.length) {
      const step = this.steps.pop()!;
      try {
        await step.fn();
      } catch (error) {
        log(`cleanup: ${step.name} failed: ${(error as Error).message}`);
      }
    }
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before the child binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();

/**
 * Last resort when cleanup itself hangs (second Ctrl-C): SIGKILL every child still running. Returns the
 * cleanup steps that did not run (a database to drop, a data directory to remove), for the user to do.
 */
export function killAllChildren(): string[] {
  for (const child of live) child.kill('SIGKILL');
  return [...cleanups].flatMap((cleanup) => cleanup.pendingState());
}

export interface Child {
  process: ChildProcess;
  pid: number;
  /** The last lines the process wrote (stdout and stderr), for error messages. */
  tail(): string;
  stop(): Promise<void>;
}

export function startChild(command: string, args: string[], env: Record<string, string>, cleanup: Cleanup, name: string): Child {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  live.add(child);
  let exited = child.exitCode !== null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    await exit;
    clearTimeout(timer);
  };
  cleanup.add(`stop ${name}`, stop);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  return { process: child, pid: child.pid, tail: () => lines.join('\n'), stop };
}

/** Polls `url` until it answers 200; returns the milliseconds from `since` (performance.now()). */
export async function waitReady(url: string, child: Child, since: number, timeoutMs = 120_000, signal?: AbortSignal): Promise<number> {
  for (;;) {
    if (signal?.aborted) throw new Error('interrupted');
    if (child.process.exitCode !== null) throw new Error(`process exited with code ${child.process.exitCode} before it was ready:\n${child.tail()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    if (performance.now() - since > timeoutMs) throw new Error(`not ready after ${timeoutMs} ms:\n${child.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS); undefined when unavailable. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in milliseconds; undefined when unavailable. */
export function cpuMs(pid: number): number | undefined {
  try {
    // Fields after the command name: state is field 3, utime 14, stime 15 (in clock ticks, 100 per second on Linux).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Samples the gateway's RSS every `intervalMs`, keeping the peak per phase and overall. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private pid = 0;
  private phase = 'start';
  readonly peaks = new Map<string, number>();
  peak = 0;
  last = 0;

  start(pid: number, intervalMs = 200): void {
    this.stop();
    this.pid = pid;
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  setPhase(phase: string): void {
    this.phase = phase;
    this.sample();
  }

  sample(): void {
    if (!this.pid) return;
    const mb = rssMb(this.pid);
    if (mb === undefined) return;
    this.last = mb;
    this.peak = Math.max(this.peak, mb);
    this.peaks.set(this.phase, Math.max(this.peaks.get(this.phase) ?? 0, mb));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * The node flags `pnpm start` runs the gateway with (package.json "start"; docs/operations.md, "Memory"): the
 * harness measures the gateway as it runs in production. bench-smoke.test.ts checks the two agree.
 */
export const GATEWAY_NODE_FLAGS = ['--max-old-space-size=1024'];
