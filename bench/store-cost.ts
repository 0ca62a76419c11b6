// Where one admission's Redis time goes (issue 14): drives RedisCounterStore with the realistic
// plan (bench/lib/fleet-plan.ts), K admissions per turn then their K settlements in the next turn,
// and prints Redis's INFO commandstats delta per admission: calls and µs of every command the
// BATCH script runs, so a change to the script is judged by what Redis itself reports.
//
// Options: --per-call=1 (admissions per turn) --tenants=1 (organizations they come from) --rounds=2000
//          --redis-url=redis://… (else a throwaway server) --pin (Redis on CPU 0, this process on CPU 1) --store-src=<dir> (another src/ tree)
import path from 'node:path';
import { Redis } from 'ioredis';
import { ROOT } from './lib/targets.ts';
import { admitPlan, budgetTtl, settleSpec, tenant } from './lib/fleet-plan.ts';
import { commandDelta, parseCommandStats, parseInfoCpu } from './lib/redis-cpu.ts';
import { startRedisServer } from './lib/redis-server.ts';
import { percentile } from './lib/stats.ts';
import type { CounterStore } from '../src/policy/counter-store.ts';

const argv = process.argv.slice(2);
const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const perCall = Number(value('per-call') ?? 1);
/** tenants the turn's admissions are spread over: each brings its own (cold) counters to the call */
const tenants = Number(value('tenants') ?? 1);
const rounds = Number(value('rounds') ?? 2000);
const pin = argv.includes('--pin');
const src = path.resolve(ROOT, value('store-src') ?? 'src');

const server = value('redis-url') ? undefined : await startRedisServer(pin ? '0' : undefined);
const url = value('redis-url') ?? server!.url;
const { RedisCounterStore } = await import(path.join(src, 'policy/redis-store.ts')) as typeof import('../src/policy/redis-store.ts');
const { openRedis, waitReady } = await import(path.join(src, 'redis.ts')) as typeof import('../src/redis.ts');
const conn = openRedis({ url, timeoutMs: 2000 }, { batched: true });
await waitReady(conn, 5000);
const store: CounterStore = new RedisCounterStore(conn, { prefix: `cost:${Date.now()}:` });
const admin = new Redis(url);
const ts = Array.from({ length: tenants }, (_, i) => tenant(i + 1, Date.now()));
for (const t of ts) for (const key of t.budgetKeys) await store.initBudget(key, 0, budgetTtl(Date.now()), Date.now(), t.shard);

const admitMs: number[] = [];
async function round(): Promise<void> {
  const now = Date.now();
  const plans = Array.from({ length: perCall }, (_, i) => admitPlan(ts[i % tenants]!, now));
  const started = performance.now();
  const outs = await Promise.all(plans.map((p) => store.admit(p)));
  admitMs.push(performance.now() - started);
  if (outs.some((o) => !o.ok)) throw new Error(`refused: ${JSON.stringify(outs.find((o) => !o.ok))}`);
  await Promise.all(plans.map((p) => store.settle(settleSpec(p))));
}
for (let i = 0; i < 200; i++) await round();
admitMs.length = 0;
const before = parseCommandStats(await admin.info('commandstats'));
const cpu0 = await admin.info('cpu');
const client0 = process.cpuUsage();
for (let i = 0; i < rounds; i++) await round();
const client = process.cpuUsage(client0);
const cpu1 = await admin.info('cpu');
const after = parseCommandStats(await admin.info('commandstats'));
const n = rounds * perCall;
const cpuUs = (info: string) => parseInfoCpu(info).totalUs;
const d = commandDelta(before, after);
const total = (cpuUs(cpu1) - cpuUs(cpu0)) / n;
console.log(`${perCall} admission(s) per call, ${n} admissions: Redis CPU ${total.toFixed(1)} µs per admission with its settlement`);
console.log(`  this process (the gateway's side: plans to commands, the socket, replies to outcomes): ${((client.user + client.system) / n).toFixed(1)} µs of CPU per admission with its settlement`);
const sorted = admitMs.sort((a, b) => a - b);
console.log(`  admission round trip (the turn's admit() calls until all answered): p50 ${percentile(sorted, 50).toFixed(3)} ms, p90 ${percentile(sorted, 90).toFixed(3)} ms`);
const script = (d.evalsha?.usec ?? 0) / n;
const inner = Object.entries(d).filter(([c]) => !/info|evalsha/i.test(c)).reduce((sum, [, v]) => sum + v.usec, 0) / n;
console.log(`  split per admission: outside the script (reading, parsing, replying, event loop) ${(total - script).toFixed(1)} µs, the script's Lua ${(script - inner).toFixed(1)} µs, the commands it runs ${inner.toFixed(1)} µs; ${((d.evalsha?.calls ?? 0) / n).toFixed(2)} script calls`);
const rows = Object.entries(d).filter(([c]) => !/info/i.test(c)).sort((a, b) => b[1].usec - a[1].usec);
for (const [c, v] of rows) console.log(`  ${c.padEnd(18)} ${(v.calls / n).toFixed(2).padStart(6)} calls/adm ${(v.usec / n).toFixed(1).padStart(6)} µs/adm  ${(v.usec / Math.max(1, v.calls)).toFixed(2)} µs/call`);
// The floor: what one round trip costs Redis with no work in it (a PING from an idle connection).
const c0 = await admin.info('cpu');
for (let i = 0; i < 2000; i++) await admin.ping();
console.log(`  the floor, one PING round trip: ${((cpuUs(await admin.info('cpu')) - cpuUs(c0)) / 2000).toFixed(1)} µs of Redis CPU`);
await store.close();
admin.disconnect();
await server?.stop();
