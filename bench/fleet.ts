// A fleet of Tollgate replicas on one Redis, simulated at the counter store (issue 14, "Know the
// ceiling of one Redis"): what one Redis core costs per admitted request when R replicas share it
// at a fleet-wide rate, and so how many replicas × req/s it carries.
//
//   this process (CPU 1 with --pin)                              redis-server (CPU 0 with --pin)
//   open-loop generator, `rate` admissions/s, tenants uniform
//     ├─ replica 1: RedisCounterStore + its own connection ──┐
//     ├─ …                                                    ├──► EVALSHA … (INFO cpu before/after)
//     └─ replica R: RedisCounterStore + its own connection ──┘
//
// Each admission is the realistic policy's plan (bench/lib/fleet-plan.ts: 5 windows, 1 slot,
// 3 hard budgets, on the tenant's shard); once admitted it is settled as the engine settles
// (token windows, slot, budgets) — at once, or after --hold-ms. Requests go to the replicas in
// turn, as a round-robin load balancer sends them; each replica batches what it is given as the
// gateway would.
//
// The replicas live in this one process: what is measured is Redis's CPU, which Redis reports
// itself (INFO cpu), so it does not matter where the clients run — only that each replica has
// its own connection and its own batches. The clients' CPU is reported too (all replicas'
// store code together); when it nears one core the generator cannot keep the rate, and the
// table says so (achieved rate, behind-schedule).
//
// --shards=N: N independent redis-servers (or N comma-separated --redis-url), each tenant on
// shard fnv1a('o<id>') % N — a N-master Redis Cluster without the cluster routing — with every
// replica holding one store per server; per-shard CPU per admission and the projected load at
// --target-rate.
//
// Options: --replicas=10 --rate=20000 --tenants=50 --seconds=10 --warmup=2 --shards=1
//          --redis-url=redis://…[,redis://…]  (else throwaway servers, stopped at the end)
//          --pin (Redis on CPU 0, this process on CPU 1) --target-rate=20000
//          --max-in-flight=<100 × replicas> (admissions awaiting Redis, fleet-wide)
//          --hold-ms=0  time between an admission and its settlement (the upstream call): with it
//                       the key's slot holds rate/tenants × hold leases, as under real traffic
//          --store-src=<dir>  a src/ tree to load RedisCounterStore and openRedis from (default
//                             this checkout's; e.g. an older commit's, to compare)
//          --out=<file>  (default bench/results/fleet.json, fleet-shards.json with --shards>1)
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ROOT } from './lib/targets.ts';
import { admitPlan, budgetTtl, settleSpec, tenant, type Tenant } from './lib/fleet-plan.ts';
import { commandDelta, RedisCpuProbe, type CommandStats } from './lib/redis-cpu.ts';
import { redisServerAvailable, startRedisServer, type RedisServer } from './lib/redis-server.ts';
import { summarize, type Summary } from './lib/stats.ts';
import type { CounterStore, StoreOutcome } from '../src/policy/counter-store.ts';

// ---- options ----

const argv = process.argv.slice(2);
const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const flag = (name: string) => argv.includes(`--${name}`);
function int(name: string, dflt: number, min: number): number {
  const raw = value(name);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min} (got "${raw}")`);
  return n;
}
function parseOptions() {
  const replicas = int('replicas', 10, 1);
  const o = {
    replicas,
    rate: int('rate', 20_000, 1),
    tenants: int('tenants', 50, 1),
    seconds: int('seconds', 10, 1),
    warmupSeconds: int('warmup', 2, 0),
    shards: int('shards', 1, 1),
    targetRate: int('target-rate', 20_000, 1),
    /** how long an admitted request "runs" before it is settled (its upstream call); 0: at once */
    holdMs: int('hold-ms', 0, 0),
    /**
     * Admissions waiting for Redis, fleet-wide, beyond which the generator sends no more (and reports
     * how many it held back): 100 per replica by default, like requests in flight on a busy replica.
     * Unbounded, a Redis that cannot keep the rate builds a queue longer than the gateway's 1 s
     * command timeout, and everything after it fails instead of measuring what Redis does carry.
     */
    maxInFlight: int('max-in-flight', 100 * replicas, 1),
    pin: flag('pin') && os.availableParallelism() >= 2,
    storeSrc: path.resolve(value('store-src') ?? path.join(ROOT, 'src')),
    urls: value('redis-url')?.split(',').filter(Boolean),
  };
  if (o.urls && o.urls.length !== o.shards) throw new Error(`--redis-url lists ${o.urls.length} server(s) but --shards=${o.shards}`);
  return o;
}
// Set before main() runs (parsed inside the try below, so that a bad option is one line, not a stack).
let O!: ReturnType<typeof parseOptions>;

interface StoreModule {
  RedisCounterStore: new (redis: unknown, opts: { prefix?: string; ledger?: { heartbeatMs: number; onError(err: unknown): void } }) => CounterStore;
}
interface RedisModule {
  openRedis(opts: { url: string; timeoutMs: number }, extra?: { batched?: boolean }): unknown;
  waitReady(redis: unknown, ms: number): Promise<boolean>;
}

// ---- the fleet ----

/** FNV-1a of the shard name: which of N servers holds a tenant. */
function shardIndex(shard: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < shard.length; i++) h = Math.imul(h ^ shard.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}

interface Counts {
  admitted: number;
  refused: Record<string, number>;
  errors: number;
  firstError?: string;
  settleErrors: number;
  perShard: number[];
}

async function main(): Promise<void> {
  if (O.pin) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const { RedisCounterStore } = (await import(path.join(O.storeSrc, 'policy/redis-store.ts'))) as StoreModule;
  const { openRedis, waitReady } = (await import(path.join(O.storeSrc, 'redis.ts'))) as RedisModule;

  const servers: RedisServer[] = [];
  let urls = O.urls;
  if (!urls) {
    if (!redisServerAvailable()) throw new Error('redis-server is not on PATH: install it or pass --redis-url');
    for (let i = 0; i < O.shards; i++) servers.push(await startRedisServer(O.pin ? '0' : undefined));
    urls = servers.map((s) => s.url);
  }
  const probes = await Promise.all(urls.map((u) => RedisCpuProbe.open(u)));
  // Every replica: one store (own connection, own ledger and heartbeat, as a replica has) per server.
  const prefix = `tgfleet${process.pid}:`;
  let closing = false;
  // Heartbeats racing the connections' close at the end are not worth a line.
  const onError = (err: unknown) => void (closing || process.stderr.write(`ledger: ${(err as Error).message}\n`));
  const fleet: CounterStore[][] = [];
  // The gateway's own connection settings (TOLLGATE_REDIS_TIMEOUT_MS default 1000 ms, heartbeat 2 s).
  for (let r = 0; r < O.replicas; r++) {
    fleet.push(await Promise.all(urls.map(async (url) => {
      const conn = openRedis({ url, timeoutMs: 1000 }, { batched: true });
      if (!(await waitReady(conn, 5000))) throw new Error(`Redis at ${url} not ready after 5 s`);
      return new RedisCounterStore(conn, { prefix, ledger: { heartbeatMs: 2000, onError } });
    })));
  }

  try {
    const t0 = Date.now();
    const tenants: Tenant[] = Array.from({ length: O.tenants }, (_, i) => tenant(i + 1, t0));
    const shardOfTenant = tenants.map((t) => shardIndex(t.shard, urls.length));
    // Budget counters loaded as the engine loads them from the rollups (spent 0).
    await Promise.all(tenants.flatMap((t, i) => t.budgetKeys.map((k) => fleet[0]![shardOfTenant[i]!]!.initBudget(k, 0, budgetTtl(t0), t0, t.shard))));

    process.stdout.write(`fleet: ${O.replicas} replicas × ${urls.length} Redis (${servers.length ? 'throwaway' : 'given'}${O.pin ? ', Redis on CPU 0, replicas on CPU 1' : ''}), ${O.tenants} tenants, ${O.rate} admissions/s for ${O.seconds} s after ${O.warmupSeconds} s warm-up; store from ${path.relative(ROOT, O.storeSrc) || '.'}\n`);

    // Idle: heartbeats and Redis's own housekeeping, per second, to set against the load's cost.
    const i0 = await Promise.all(probes.map((p) => p.sample()));
    await sleep(2000);
    const i1 = await Promise.all(probes.map((p) => p.sample()));
    const idleUsPerS = i0.map((a, s) => ((i1[s]!.totalUs - a.totalUs) / (i1[s]!.at - a.at)) * 1000);

    const run = await generate(fleet, tenants, shardOfTenant, probes);
    const report = summarizeRun(run, idleUsPerS, urls.length);
    print(report);
    const out = value('out') ?? (urls.length > 1 ? 'fleet-shards.json' : 'fleet.json');
    mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
    const file = path.resolve(ROOT, 'bench/results', out);
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.availableParallelism(), model: os.cpus()[0]?.model, node: process.version }, options: { ...O, storeSrc: path.relative(ROOT, O.storeSrc) || '.' }, ...report }, null, 2) + '\n');
    process.stdout.write(`\nwrote ${path.relative(process.cwd(), file)}\n`);
  } finally {
    closing = true;
    await Promise.allSettled(fleet.flat().map((s) => s.close()));
    await Promise.allSettled(probes.map((p) => p.close()));
    // A server given with --redis-url keeps running: take this run's counters off it.
    if (!servers.length) await Promise.allSettled(urls.map((u) => deleteKeys(u, prefix)));
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}

interface Run {
  counts: Counts;
  latencyMs: number[];
  measuredS: number;
  /** per server: INFO cpu + commandstats over the measured window */
  redis: Array<{ totalUs: number; mainUs?: number; wallUs: number; commands: CommandStats }>;
  clientCpuUs: number;
  maxBehind: number;
  notSent: number;
}

/**
 * Open loop: every millisecond or so, issues the admissions due by now (rate × elapsed), each to
 * the next replica, for a uniformly drawn tenant; measures the window after the warm-up.
 */
async function generate(fleet: CounterStore[][], tenants: Tenant[], shardOf: number[], probes: RedisCpuProbe[]): Promise<Run> {
  const warmMs = O.warmupSeconds * 1000;
  const endMs = warmMs + O.seconds * 1000;
  const counts: Counts = { admitted: 0, refused: {}, errors: 0, settleErrors: 0, perShard: new Array(probes.length).fill(0) };
  const latencyMs: number[] = [];
  let measuring = false;
  let inFlight = 0;
  let issued = 0;
  let notSent = 0;
  let maxBehind = 0;
  let next = 0;
  let rng = 0x2545f491;
  const random = () => ((rng = Math.imul(rng ^ (rng >>> 15), 0x2c1b3c6d) + 0x6d2b79f5), (rng >>> 0) / 2 ** 32);

  const issue = (): void => {
    const ti = Math.floor(random() * tenants.length);
    const shard = shardOf[ti]!;
    const store = fleet[next]![shard]!;
    next = (next + 1) % fleet.length;
    const plan = admitPlan(tenants[ti]!, Date.now());
    const counted = measuring;
    const t = performance.now();
    inFlight++;
    Promise.resolve(store.admit(plan)).then(
      (o: StoreOutcome) => {
        inFlight--;
        if (counted && measuring) latencyMs.push(performance.now() - t);
        if (o.ok) {
          if (counted && measuring) {
            counts.admitted++;
            counts.perShard[shard]!++;
          }
          const settle = () => void Promise.resolve(store.settle(settleSpec(plan))).catch(() => counts.settleErrors++);
          if (O.holdMs) setTimeout(settle, O.holdMs);
          else settle();
        } else if (counted && measuring) counts.refused[o.kind] = (counts.refused[o.kind] ?? 0) + 1;
      },
      (err: unknown) => {
        inFlight--;
        if (!counted || !measuring) return;
        counts.errors++;
        counts.firstError ??= (err as Error).message;
      },
    );
  };

  let startRedis: Awaited<ReturnType<RedisCpuProbe['sampleWithCommands']>>[] = [];
  let startCpu = process.cpuUsage();
  let measuredFrom = 0;
  const t0 = performance.now();
  for (;;) {
    const elapsed = performance.now() - t0;
    if (!measuring && elapsed >= warmMs) {
      startRedis = await Promise.all(probes.map((p) => p.sampleWithCommands()));
      startCpu = process.cpuUsage();
      measuredFrom = performance.now();
      measuring = true;
      // Only what is issued from now on is counted; the warm-up's stragglers are not.
      issued = Math.floor((O.rate * (measuredFrom - t0)) / 1000);
    }
    if (elapsed >= endMs) break;
    const due = Math.floor((O.rate * elapsed) / 1000) - issued;
    if (due > maxBehind && measuring) maxBehind = due;
    for (let j = 0; j < due; j++) {
      if (inFlight >= O.maxInFlight) {
        if (measuring) notSent += due - j;
        break;
      }
      issue();
    }
    issued += due;
    await sleep(1);
  }
  const measuredS = (performance.now() - measuredFrom) / 1000;
  const endCpu = process.cpuUsage(startCpu);
  const endRedis = await Promise.all(probes.map((p) => p.sampleWithCommands()));
  measuring = false;
  // Let what is in flight land (not counted) before the stores close.
  for (let i = 0; inFlight > 0 && i < 200; i++) await sleep(10);
  return {
    counts,
    latencyMs,
    measuredS,
    redis: endRedis.map((b, s) => {
      const a = startRedis[s]!;
      return { totalUs: b.totalUs - a.totalUs, ...(a.mainUs !== undefined && b.mainUs !== undefined ? { mainUs: b.mainUs - a.mainUs } : {}), wallUs: (b.at - a.at) * 1000, commands: commandDelta(a.commands, b.commands) };
    }),
    clientCpuUs: endCpu.user + endCpu.system,
    maxBehind,
    notSent,
  };
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [c, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = c;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---- report ----

interface ShardReport {
  server: number;
  admissions: number;
  usPerAdmission: number;
  mainUsPerAdmission?: number;
  /** Redis CPU over the window / wall: 1.0 = one core busy */
  cores: number;
  idleUsPerS: number;
  scriptCalls: number;
  admissionsPerScriptCall: number;
  /** Redis CPU per script call (admissions and settlements together): what a batch costs, whatever it holds */
  usPerScriptCall: number;
  /**
   * µs Redis spent inside scripts (commandstats), per admission. Elapsed time, not CPU: on a core
   * shared with other work it includes time descheduled, and can exceed the CPU figure.
   */
  scriptUsPerAdmission: number;
  /** at --target-rate spread like this run's tenants: this server's cores, and the headroom to one core */
  projectedCores: number;
  headroom: number;
}

function summarizeRun(run: Run, idleUsPerS: number[], servers: number) {
  const total = run.counts.admitted;
  const shards: ShardReport[] = run.redis.map((r, s) => {
    const n = run.counts.perShard[s]!;
    const scripts = (r.commands.evalsha?.calls ?? 0) + (r.commands.eval?.calls ?? 0);
    const scriptUs = (r.commands.evalsha?.usec ?? 0) + (r.commands.eval?.usec ?? 0);
    const us = n ? r.totalUs / n : NaN;
    const main = r.mainUs !== undefined && n ? r.mainUs / n : undefined;
    const projected = ((O.targetRate * n) / (total || 1)) * (main ?? us) / 1e6;
    return {
      server: s,
      admissions: n,
      usPerAdmission: us,
      ...(main !== undefined ? { mainUsPerAdmission: main } : {}),
      cores: r.totalUs / r.wallUs,
      idleUsPerS: idleUsPerS[s]!,
      scriptCalls: scripts,
      admissionsPerScriptCall: scripts ? n / scripts : NaN,
      usPerScriptCall: scripts ? r.totalUs / scripts : NaN,
      scriptUsPerAdmission: n ? scriptUs / n : NaN,
      projectedCores: projected,
      headroom: 1 / projected,
    };
  });
  const all = run.redis.reduce((a, r) => a + r.totalUs, 0);
  const allMain = run.redis.every((r) => r.mainUs !== undefined) ? run.redis.reduce((a, r) => a + r.mainUs!, 0) : undefined;
  const latency: Summary = summarize(run.latencyMs);
  return {
    servers,
    admissions: total,
    achievedPerS: total / run.measuredS,
    requestedPerS: O.rate,
    refused: run.counts.refused,
    errors: run.counts.errors,
    ...(run.counts.firstError ? { firstError: run.counts.firstError } : {}),
    settleErrors: run.counts.settleErrors,
    notSent: run.notSent,
    maxBehind: run.maxBehind,
    latencyMs: latency,
    redisUsPerAdmission: total ? all / total : NaN,
    ...(allMain !== undefined && total ? { redisMainUsPerAdmission: allMain / total } : {}),
    clientCpuUsPerAdmission: total ? run.clientCpuUs / total : NaN,
    clientCores: run.clientCpuUs / (run.measuredS * 1e6),
    shards,
  };
}

function print(r: ReturnType<typeof summarizeRun>): void {
  const f = (x: number | undefined, d = 1) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '–');
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const lines = [
    '',
    `| replicas | tenants | requested /s | achieved /s | admit p50 ms | admit p99 ms | Redis CPU µs/adm (main thread) | one Redis core ≈ adm/s | client CPU µs/adm | client cores |`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    `| ${O.replicas} | ${O.tenants} | ${n(r.requestedPerS)} | ${n(r.achievedPerS)} | ${f(r.latencyMs.p50, 2)} | ${f(r.latencyMs.p99, 2)} | ${f(r.redisUsPerAdmission)} (${f(r.redisMainUsPerAdmission)}) | ${n(1e6 / (r.redisMainUsPerAdmission ?? r.redisUsPerAdmission))} | ${f(r.clientCpuUsPerAdmission)} | ${f(r.clientCores, 2)} |`,
    '',
    `| Redis | admissions | CPU µs/adm (main) | script wall µs/adm | adm per script call | CPU µs per script call | cores now | idle µs/s | cores at ${n(O.targetRate)}/s | headroom |`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    ...r.shards.map((s) => `| ${s.server} | ${n(s.admissions)} | ${f(s.usPerAdmission)} (${f(s.mainUsPerAdmission)}) | ${f(s.scriptUsPerAdmission)} | ${f(s.admissionsPerScriptCall, 2)} | ${f(s.usPerScriptCall)} | ${f(s.cores, 2)} | ${n(s.idleUsPerS)} | ${f(s.projectedCores, 2)} | ${f(s.headroom, 2)}× |`),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const warn: string[] = [];
  if (r.achievedPerS < 0.95 * r.requestedPerS) warn.push(`achieved ${n(r.achievedPerS)}/s of ${n(r.requestedPerS)}/s requested: ${r.clientCores > 0.9 ? 'the generator (replicas in one process) ran out of CPU' : 'Redis or the machine could not keep up'}; CPU per admission is still measured at the achieved rate`);
  if (r.notSent) warn.push(`${n(r.notSent)} admissions not sent: ${O.maxInFlight} were already waiting for Redis`);
  if (r.errors) warn.push(`${r.errors} admissions failed (${r.firstError})`);
  if (r.settleErrors) warn.push(`${r.settleErrors} settlements failed`);
  if (Object.keys(r.refused).length) warn.push(`refused: ${JSON.stringify(r.refused)}`);
  for (const w of warn) process.stdout.write(`WARNING ${w}\n`);
}

try {
  O = parseOptions();
  await main();
  process.exit(0);
} catch (err) {
  process.stderr.write(`bench/fleet.ts: ${(err as Error).message}\n`);
  process.exit(1);
}
