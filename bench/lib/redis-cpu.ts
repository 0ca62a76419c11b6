// Redis's own CPU time, read from `INFO cpu` (issue 14, "Know the ceiling of one Redis"). The
// server reports getrusage() of its process (used_cpu_sys + used_cpu_user: every thread — the
// main thread that runs commands and scripts, plus background I/O, lazy-free and persistence
// threads) and, from Redis 7.0 on, of its main thread alone (used_cpu_*_main_thread). Deltas
// around a measured step, divided by the requests admitted in it, give Redis CPU per request —
// a figure that does not depend on how busy the rest of the machine is.
//
// Everything Redis did in the step counts: the admission scripts, settlements, replica
// heartbeats, pub/sub, and this probe's own INFO calls (two per step, a few µs in all).
import { Redis } from 'ioredis';

export interface RedisCpuSample {
  /** process CPU (all threads), µs */
  totalUs: number;
  /** main thread only, µs; undefined before Redis 7.0 */
  mainUs?: number;
}

export interface RedisCpuDelta extends RedisCpuSample {
  /** wall time between the two samples, µs */
  wallUs: number;
}

/** Parses the `# CPU` section of INFO into µs. Throws naming the field when it is missing. */
export function parseInfoCpu(info: string): RedisCpuSample {
  const field = (name: string): number | undefined => {
    const m = new RegExp(`^${name}:([0-9.]+)\\s*$`, 'm').exec(info);
    return m ? Number(m[1]) * 1e6 : undefined;
  };
  const sys = field('used_cpu_sys');
  const user = field('used_cpu_user');
  if (sys === undefined || user === undefined) throw new Error(`INFO cpu has no used_cpu_sys/used_cpu_user: ${info.slice(0, 200)}`);
  const mainSys = field('used_cpu_sys_main_thread');
  const mainUser = field('used_cpu_user_main_thread');
  return { totalUs: sys + user, ...(mainSys !== undefined && mainUser !== undefined ? { mainUs: mainSys + mainUser } : {}) };
}

/** One connection to the Redis being measured, asking it for its CPU time. */
export class RedisCpuProbe {
  private readonly redis: Redis;
  private constructor(redis: Redis) {
    this.redis = redis;
  }

  static async open(url: string): Promise<RedisCpuProbe> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableAutoPipelining: false });
    await redis.connect();
    return new RedisCpuProbe(redis);
  }

  async sample(): Promise<RedisCpuSample & { at: number }> {
    const at = performance.now();
    return { ...parseInfoCpu(await this.redis.info('cpu')), at };
  }

  /** CPU and per-command counters in one INFO call. */
  async sampleWithCommands(): Promise<RedisCpuSample & { at: number; commands: CommandStats }> {
    const at = performance.now();
    const info = await this.redis.info('cpu', 'commandstats');
    return { ...parseInfoCpu(info), at, commands: parseCommandStats(info) };
  }

  /** Runs `fn` between two samples: what Redis spent during it. */
  async around<T>(fn: () => Promise<T>): Promise<{ result: T; cpu: RedisCpuDelta }> {
    const a = await this.sample();
    const result = await fn();
    const b = await this.sample();
    return { result, cpu: delta(a, b) };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export function delta(a: RedisCpuSample & { at: number }, b: RedisCpuSample & { at: number }): RedisCpuDelta {
  const d: RedisCpuDelta = { totalUs: b.totalUs - a.totalUs, wallUs: (b.at - a.at) * 1000 };
  if (a.mainUs !== undefined && b.mainUs !== undefined) d.mainUs = b.mainUs - a.mainUs;
  return d;
}

/**
 * Per request: µs of Redis CPU (process and main thread), and how many requests per second one
 * Redis core would carry at that cost (1e6 / µs, scripts run on the main thread, so it is the
 * main-thread figure that bounds one Redis).
 */
export interface RedisCost {
  usPerRequest: number;
  mainUsPerRequest?: number;
  /** 1e6 / (main thread µs per request, else process µs per request) */
  requestsPerCore: number;
  /** Redis CPU over the step / its wall time: 1.0 = one core busy */
  cores: number;
}

export function redisCost(cpu: RedisCpuDelta, requests: number): RedisCost {
  const us = requests ? cpu.totalUs / requests : NaN;
  const main = cpu.mainUs !== undefined && requests ? cpu.mainUs / requests : undefined;
  return { usPerRequest: us, ...(main !== undefined ? { mainUsPerRequest: main } : {}), requestsPerCore: 1e6 / (main ?? us), cores: cpu.totalUs / cpu.wallUs };
}

/** Calls and µs of execution per command (INFO commandstats), e.g. { evalsha: { calls, usec } }. */
export type CommandStats = Record<string, { calls: number; usec: number }>;

export function parseCommandStats(info: string): CommandStats {
  const out: CommandStats = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) };
  return out;
}

/** b − a, commands that ran in between only. */
export function commandDelta(a: CommandStats, b: CommandStats): CommandStats {
  const out: CommandStats = {};
  for (const [cmd, s] of Object.entries(b)) {
    const calls = s.calls - (a[cmd]?.calls ?? 0);
    if (calls > 0) out[cmd] = { calls, usec: s.usec - (a[cmd]?.usec ?? 0) };
  }
  return out;
}
