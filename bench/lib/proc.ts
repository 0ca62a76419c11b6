// Child processes for the benchmark: each target (upstream, bare proxy, Tollgate) and the load
// generator run in their own process, so the CPU time and memory read from /proc belong to exactly
// one of them.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Child {
  name: string;
  child: ChildProcess;
  pid: number;
  /** everything the child wrote to stdout and stderr (bounded) */
  output(): string;
  /** resolves with the first stdout line that parses as JSON (the child's "ready" message) */
  ready: Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Pins a command to CPUs with taskset when asked and available. */
export function pinned(cpus: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpus && hasTaskset() ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
}

let taskset: boolean | undefined;
function hasTaskset(): boolean {
  if (taskset === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      taskset = true;
    } catch {
      taskset = false;
    }
  }
  return taskset;
}

export function startChild(name: string, cmd: string, args: string[], env: Record<string, string | undefined> = {}): Child {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stderr!.on('data', keep);
  let lineBuf = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    children.delete(child);
    resolve();
  }));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      keep(d);
      lineBuf += d.toString();
      let nl: number;
      while ((nl = lineBuf.indexOf('\n')) !== -1) {
        const line = lineBuf.slice(0, nl).trim();
        lineBuf = lineBuf.slice(nl + 1);
        if (line.startsWith('{')) {
          try {
            resolve(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // not our message
          }
        }
      }
    });
    void exited.then(() => reject(new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}):\n${out.slice(-3000)}`)));
  });
  ready.catch(() => {});
  return {
    name,
    child,
    pid: child.pid!,
    output: () => out,
    ready,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Waits until `url` answers with a 2xx (or the child dies). */
export async function waitHttp(child: Child, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.child.exitCode !== null || child.child.signalCode !== null) throw new Error(`${child.name} exited during startup:\n${child.output().slice(-3000)}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms:\n${child.output().slice(-3000)}`);
}

// ---- /proc readings ----

let clkTck: number | undefined;
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** User + system CPU time of a process so far, in microseconds (resolution: one clock tick). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clockTicks();
}

/** Resident set size now and its peak (VmHWM), in bytes. */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Resets a process's peak RSS (VmHWM) to its current RSS; false where the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    execFileSync('sh', ['-c', `echo 5 > /proc/${pid}/clear_refs`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Pins the processes of this process's own tree whose command name is one of `names` (e.g. the
 * throwaway postgres and redis-server of the cluster scenario) to `cpus`, all their threads
 * (taskset -a). Processes they fork later (PostgreSQL backends) inherit the affinity. Returns the
 * pids pinned.
 */
export function pinDescendants(names: string[], cpus: string): number[] {
  if (!hasTaskset()) return [];
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = pid, n = 0; p > 1 && n < 64; p = parent.get(p) ?? 0, n++) if (p === process.pid) return true;
    return false;
  };
  const pinnedPids: number[] = [];
  for (const [pid, name] of comm) {
    if (pid === process.pid || !names.includes(name) || !mine(pid)) continue;
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
      pinnedPids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pinnedPids;
}
