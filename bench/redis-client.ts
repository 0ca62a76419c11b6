// Which Redis client costs the gateway less on its own workload (issue 14, "a leaner client
// path: compare ioredis with @redis/client"). The workload is the shape of an admission batch:
// EVALSHA of one script with 10 keys and 50 arguments (timestamps, counts, a lease id), a reply
// of 11 integers, pipelined with N calls in flight. Measured in this process: client CPU per call
// (process.cpuUsage around a fixed number of calls: encoding the command, the socket writes and
// reads, parsing the reply, resolving the promise) and calls per second; and Redis's CPU per call
// (INFO cpu), since how a client writes (one write per command, or several per write) changes
// what Redis spends in system calls too.
//
//   ioredis             the gateway's client, as its counter-store connection is opened
//                       (src/redis.ts openRedis(…, { batched: true }): no auto-pipelining)
//   ioredis-autopipe    ioredis with enableAutoPipelining (commands of one tick in one write)
//   @redis/client       node-redis v5+'s client, its defaults (commands of one tick in one write);
//                       arguments must be strings, so the String() of each number is part of its cost
//
// Variants run in turn, --rounds times, and the median round is reported, so that a burst of
// load from elsewhere on the machine does not fall on one variant only.
//
// Options: --calls=20000 (per variant, concurrency and round) --concurrency=1,16,64 --rounds=3
//          --pin (Redis on CPU 0, this process on CPU 1) --redis-url=redis://… --out=<file>
//          (default bench/results/redis-client.json)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createClient } from '@redis/client';
import { ROOT } from './lib/targets.ts';
import { RedisCpuProbe } from './lib/redis-cpu.ts';
import { startRedisServer, type RedisServer } from './lib/redis-server.ts';
import { percentile } from './lib/stats.ts';

const argv = process.argv.slice(2);
const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
function ints(name: string, dflt: string): number[] {
  const raw = value(name) ?? dflt;
  const list = raw.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${name} must be a positive integer, or a list of them separated by commas (got "${raw}")`);
  return list;
}
function parseOptions() {
  return {
    calls: ints('calls', '20000')[0]!,
    concurrency: ints('concurrency', '1,16,64'),
    rounds: ints('rounds', '3')[0]!,
    pin: argv.includes('--pin') && os.availableParallelism() >= 2,
    url: value('redis-url'),
  };
}
// Set before main() runs (parsed inside the try below, so that a bad option is one line, not a stack).
let O!: ReturnType<typeof parseOptions>;

// Touches every key (HINCRBY, as the admission scripts update hashes), reads every argument.
const LUA = `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HINCRBY', KEYS[i], 'n', tonumber(ARGV[i]) or 1) end
local s = 0
for j = 1, #ARGV do s = s + (tonumber(ARGV[j]) or 0) end
out[#KEYS + 1] = s
return out`;
const KEYS = Array.from({ length: 10 }, (_, i) => `tgclient:{o1}:k${i}`);

let lease = 0;
/** 50 arguments like an admission's: a timestamp, window sizes and limits, costs, a lease id. */
function args(): Array<string | number> {
  const now = Date.now();
  const a: Array<string | number> = [now, 'a1b2c3d4:', 1];
  for (let i = 0; i < 5; i++) a.push(1, 60, 1000, 10_000_000);
  for (let i = 0; i < 3; i++) a.push(1, 10_000_000_000, 1);
  for (let i = 0; i < 8; i++) a.push(163);
  a.push(`lease:${(++lease).toString(36)}`);
  while (a.length < 50) a.push(now % 1000);
  return a;
}

interface Variant {
  name: string;
  call(): Promise<unknown>;
  close(): Promise<void>;
}

async function ioredisVariant(url: string, autoPipelining: boolean): Promise<Variant> {
  const redis = new Redis(url, { enableAutoPipelining: autoPipelining, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  const sha = (await redis.script('LOAD', LUA)) as string;
  return {
    name: autoPipelining ? 'ioredis-autopipe' : 'ioredis',
    call: () => redis.evalsha(sha, KEYS.length, ...KEYS, ...args()),
    close: async () => void (await redis.quit()),
  };
}

async function nodeRedisVariant(url: string): Promise<Variant> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  const sha = await client.scriptLoad(LUA);
  return {
    name: '@redis/client',
    call: () => client.evalSha(sha, { keys: KEYS, arguments: args().map(String) }),
    close: async () => void client.destroy(),
  };
}

interface Measured {
  variant: string;
  concurrency: number;
  calls: number;
  callsPerS: number;
  clientUsPerCall: number;
  redisUsPerCall: number;
  p50Ms: number;
  p99Ms: number;
}

async function measure(v: Variant, concurrency: number, calls: number, probe: RedisCpuProbe): Promise<Measured> {
  const lat = new Float64Array(calls);
  let next = 0;
  const worker = async () => {
    while (next < calls) {
      const i = next++;
      const t = performance.now();
      const r = await v.call();
      lat[i] = performance.now() - t;
      if (!Array.isArray(r) || r.length !== KEYS.length + 1) throw new Error(`${v.name}: unexpected reply ${JSON.stringify(r)}`);
    }
  };
  const r0 = await probe.sample();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = performance.now() - w0;
  const c = process.cpuUsage(c0);
  const r1 = await probe.sample();
  const sorted = lat.sort();
  return {
    variant: v.name,
    concurrency,
    calls,
    callsPerS: (calls / wall) * 1000,
    clientUsPerCall: (c.user + c.system) / calls,
    redisUsPerCall: (r1.totalUs - r0.totalUs) / calls,
    p50Ms: percentile(sorted as unknown as number[], 50),
    p99Ms: percentile(sorted as unknown as number[], 99),
  };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (O.pin) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  let server: RedisServer | undefined;
  const url = O.url ?? (server = await startRedisServer(O.pin ? '0' : undefined)).url;
  const probe = await RedisCpuProbe.open(url);
  const variants = [await ioredisVariant(url, false), await ioredisVariant(url, true), await nodeRedisVariant(url)];
  process.stdout.write(`Redis client comparison: EVALSHA, ${KEYS.length} keys, ${args().length} args, ${O.calls} calls per run, concurrency ${O.concurrency.join(', ')}, ${O.rounds} rounds${O.pin ? ', Redis on CPU 0, clients on CPU 1' : ''}\n`);
  const all: Measured[] = [];
  try {
    for (const v of variants) await measure(v, 16, Math.min(5000, O.calls), probe); // warm-up: JIT, connections, script cache
    for (let round = 0; round < O.rounds; round++) {
      for (const c of O.concurrency) {
        // Alternate the order between rounds so no variant always runs first.
        const order = round % 2 ? [...variants].reverse() : variants;
        for (const v of order) all.push(await measure(v, c, O.calls, probe));
      }
    }
  } finally {
    for (const v of variants) await v.close().catch(() => {});
    await probe.close();
    await server?.stop();
  }
  const rows: Array<Measured & { rounds: number }> = [];
  for (const c of O.concurrency) {
    for (const v of variants) {
      const runs = all.filter((m) => m.variant === v.name && m.concurrency === c);
      rows.push({
        variant: v.name, concurrency: c, calls: O.calls, rounds: runs.length,
        callsPerS: median(runs.map((m) => m.callsPerS)),
        clientUsPerCall: median(runs.map((m) => m.clientUsPerCall)),
        redisUsPerCall: median(runs.map((m) => m.redisUsPerCall)),
        p50Ms: median(runs.map((m) => m.p50Ms)),
        p99Ms: median(runs.map((m) => m.p99Ms)),
      });
    }
  }
  const f = (x: number, d = 1) => x.toFixed(d);
  const md = [
    '| client | in flight | calls/s | client CPU µs/call | Redis CPU µs/call | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.variant} | ${r.concurrency} | ${Math.round(r.callsPerS).toLocaleString('en-US')} | ${f(r.clientUsPerCall)} | ${f(r.redisUsPerCall)} | ${f(r.p50Ms, 3)} | ${f(r.p99Ms, 3)} |`),
  ].join('\n');
  process.stdout.write(`\n${md}\n(median of ${O.rounds} rounds)\n`);
  const file = path.resolve(ROOT, 'bench/results', value('out') ?? 'redis-client.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.availableParallelism(), model: os.cpus()[0]?.model, node: process.version }, options: O, rows, runs: all, table: md }, null, 2) + '\n');
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}

try {
  O = parseOptions();
  await main();
  process.exit(0);
} catch (err) {
  process.stderr.write(`bench/redis-client.ts: ${(err as Error).message}\n`);
  process.exit(1);
}
