// `npm run bench`: Tollgate against the floor (a bare undici proxy) and the direct upstream, on the
// same machine in the same run, reported as ratios (issue #5).
//
//   upstream (bench/upstream.ts) ◄── bare proxy ◄──┐
//            ▲      ▲                               ├── load generator (own process: wrk, or
//            │      └── Tollgate embedded (SQLite) ◄┤     bench/loadgen.ts)
//            └───────── Tollgate cluster (PG+Redis) ◄┘
//
// Per target: warm-up; maximum throughput at concurrency 50 (non-streaming, then SSE), with the
// target process's CPU time read from /proc around the run; a fixed 1,000 req/s run for latency;
// sequential SSE requests timing the first body byte; peak RSS (VmHWM). Writes
// bench/results/latest.json and prints a markdown table and PASS/FAIL per target (never exits
// non-zero on FAIL: the numbers are the product, not a gate).
//
// The client APIs of issue 13 are targets too (bench/lib/scenarios.ts): responses (Responses
// passthrough), messages-translated (Anthropic Messages → OpenAI upstream), messages-native
// (Messages passthrough) and chat-anthropic (OpenAI chat → Anthropic upstream), each an embedded
// Tollgate measured like `embedded` with its own API's requests. The default run has responses
// and messages-translated; the other two only with --only.
//
// Flags: --quick (~1 min), --only=direct,bare,embedded,cluster,responses,messages-translated,
//        messages-native,chat-anthropic, --duration=<s> (per run),
//        --soak=<s> (memory under load, RSS every 10 s, slope), --profile (--cpu-prof of Tollgate),
//        --pin (gateway on CPU 1, everything else on CPU 0), --loader=node (never wrk),
//        --pin-services (with --pin: throwaway PostgreSQL/Redis on CPU 0 too),
//        --no-policy (Tollgate with its key but no limits or budgets anywhere: the pipeline's cost
//        alone; results go to latest-nopolicy.json unless --out=<file>), --out=<file>.
//        --rounds=N (the targets measured N times in turn, each check judged on its median: on a
//        noisy machine one run's ratio can swing by half; every round's table is printed),
//        --tracing (Tollgate exports the spans of every request over OTLP/HTTP to a sink in this
//        process that discards them: the cost of tracing on; results go to latest-tracing.json).
import { writeFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMicros, memory, pinDescendants, startChild } from './lib/proc.ts';
import { runWrk, wrkAvailable } from './lib/wrk.ts';
import { median, slope } from './lib/stats.ts';
import type { LoadResult, LoadSpec } from './lib/load-types.ts';
import { ROOT, startBareProxy, startClusterServices, startTollgate, startUpstream, type ClusterServices, type Target } from './lib/targets.ts';
import { describePolicy, type PolicyStep } from './setup.ts';
import { formatProfile, summarizeProfile } from './profile-summary.ts';
import { formatAllocations, summarizeAllocations } from './alloc-summary.ts';
import { startTraceSink, type TraceSink } from './lib/trace-sink.ts';
import { CHAT_BODY, CLAUDE, SCENARIOS, type ApiScenarioName } from './lib/scenarios.ts';
import { delta, RedisCpuProbe, redisCost, type RedisCost } from './lib/redis-cpu.ts';

// ---- options ----

const argv = process.argv.slice(2);
const flag = (name: string) => argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = flag('quick');
const ALL = ['direct', 'bare', 'embedded', 'cluster', 'responses', 'messages-translated', 'messages-native', 'chat-anthropic'] as const satisfies ReadonlyArray<string>;
type ScenarioName = (typeof ALL)[number];
// By default the four original targets and the two client APIs issue 13 asked for; messages-native
// and chat-anthropic (the translation's floor, the other direction) on request with --only.
const DEFAULT: ScenarioName[] = ['direct', 'bare', 'embedded', 'cluster', 'responses', 'messages-translated'];
const only = (value('only')?.split(',') ?? DEFAULT).filter((s): s is ScenarioName => (ALL as readonly string[]).includes(s));
const runMs = Number(value('duration') ?? (quick ? 3 : 10)) * 1000;
const D = { warmMs: quick ? 1500 : 3000, runMs, rateMs: runMs, ttfbCount: quick ? 40 : 200, rate: Number(value('rate') ?? 1000), connections: 50 };
const pin = flag('pin') && os.availableParallelism() >= 2;
const CPU = { gateway: pin ? '1' : undefined, other: pin ? '0' : undefined };
const noPolicy = flag('no-policy');
const tracing = flag('tracing');
/** --tracing: where every Tollgate started here sends its spans (OTEL_EXPORTER_OTLP_ENDPOINT) */
let traceSink: TraceSink | undefined;
const useWrk = value('loader') !== 'node' && wrkAvailable();
const RESULTS = path.join(ROOT, 'bench/results');

// ---- the requests ----

// OpenAI chat (the passthrough every other number is compared with); the other APIs' requests
// carry the same prompt (bench/lib/scenarios.ts).
const BODY = CHAT_BODY;

// ---- measuring ----

function headersOf(t: Target): Record<string, string> {
  if (t.api?.keyHeader && t.ids) return { [t.api.keyHeader]: t.ids.secret, ...t.api.headers };
  return { ...(t.auth ? { authorization: t.auth } : { authorization: 'Bearer sk-direct' }), ...t.api?.headers };
}

const urlOf = (t: Target) => `${t.baseUrl}${t.api?.path ?? '/v1/chat/completions'}`;

async function loadgen(spec: LoadSpec): Promise<LoadResult> {
  const args = [path.join(ROOT, 'bench/loadgen.ts'), JSON.stringify(spec)];
  const child = CPU.other ? startChild('loadgen', 'taskset', ['-c', CPU.other, process.execPath, ...args]) : startChild('loadgen', process.execPath, args);
  return (await child.ready) as unknown as LoadResult;
}

async function closedLoad(t: Target, body: string, durationMs: number, connections = D.connections): Promise<LoadResult> {
  const url = urlOf(t);
  if (useWrk) return runWrk({ url, body, headers: headersOf(t), connections, durationMs, ...(CPU.other ? { cpus: CPU.other } : {}) });
  return loadgen({ mode: 'closed', url, headers: headersOf(t), body, connections, durationMs });
}

interface Throughput {
  rps: number;
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  latency: LoadResult['latency'];
  cpuUsPerRequest: number;
  /** the process's CPU time over the run / wall time: 1.0 = one core busy */
  cpuCores: number;
  /** cluster: Redis's own CPU over the run (INFO cpu deltas, bench/lib/redis-cpu.ts) per request */
  redis?: RedisCost;
}

/** The cluster scenario's Redis, asked for its CPU time around each measured run (issue 14). */
let redisProbe: RedisCpuProbe | undefined;

async function throughput(t: Target, body: string): Promise<Throughput> {
  const r0 = await redisProbe?.sample();
  const c0 = cpuMicros(t.proc.pid);
  const w0 = performance.now();
  const r = await closedLoad(t, body, D.runMs);
  // Let the log writer's last batch (flushed every 250 ms) land inside the window.
  await sleep(300);
  const cpu = cpuMicros(t.proc.pid) - c0;
  const wall = (performance.now() - w0) * 1000;
  // Divided by the requests answered 2xx: each was admitted (and settled) once.
  const redis = r0 && redisProbe ? { redis: redisCost(delta(r0, await redisProbe.sample()), r.requests) } : {};
  return { rps: r.rps, requests: r.requests, errors: r.errors, statuses: r.statuses, latency: r.latency, cpuUsPerRequest: r.requests ? cpu / r.requests : NaN, cpuCores: cpu / wall, ...redis };
}

interface TargetResult {
  name: string;
  pid: number;
  plain: Throughput;
  stream: Throughput;
  fixedRate: LoadResult;
  /** the gateway's CPU per request during the fixed-rate run: the same load for every target */
  fixedRateCpuUsPerRequest: number;
  /**
   * cluster: Redis's CPU per request at the fixed rate — fewer requests in flight, so smaller
   * batches than at saturation: closer to what a replica that is not saturated costs Redis
   */
  fixedRateRedis?: RedisCost;
  ttfb: LoadResult;
  memory: { rssMB: number; peakMB: number };
  policy?: PolicyStep[];
  warnings: string[];
}

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;

const redisSay = (r: Throughput) => (r.redis ? `, Redis ${r.redis.usPerRequest.toFixed(1)} CPU µs/req${r.redis.mainUsPerRequest !== undefined ? ` (main thread ${r.redis.mainUsPerRequest.toFixed(1)})` : ''}` : '');

async function measure(t: Target): Promise<TargetResult> {
  const warnings: string[] = [];
  const say = (s: string) => process.stdout.write(`  ${t.name}: ${s}\n`);
  const body = t.api?.body ?? BODY;
  // Warm-up: JIT, connection pools, key cache, the route cache.
  await closedLoad(t, body.plain, D.warmMs);
  await closedLoad(t, body.stream, Math.max(1000, D.warmMs / 2));

  const plain = await throughput(t, body.plain);
  say(`non-streaming c=${D.connections}: ${plain.rps.toFixed(0)} req/s, p99 ${plain.latency.p99.toFixed(2)} ms, ${plain.cpuUsPerRequest.toFixed(0)} CPU µs/req${redisSay(plain)}`);
  const stream = await throughput(t, body.stream);
  say(`SSE c=${D.connections}: ${stream.rps.toFixed(0)} req/s, p99 ${stream.latency.p99.toFixed(2)} ms, ${stream.cpuUsPerRequest.toFixed(0)} CPU µs/req${redisSay(stream)}`);
  const url = urlOf(t);
  const fr0 = await redisProbe?.sample();
  const fc0 = cpuMicros(t.proc.pid);
  const fixedRate = await loadgen({ mode: 'open', url, headers: headersOf(t), body: body.plain, rate: D.rate, durationMs: D.rateMs + 1000, warmupMs: 1000 });
  // Every request sent (warm-up second included) over the CPU of the whole run.
  const fixedRateCpuUsPerRequest = (cpuMicros(t.proc.pid) - fc0) / ((D.rate * (D.rateMs + 1000)) / 1000);
  const fixedRateRedis = fr0 && redisProbe ? redisCost(delta(fr0, await redisProbe.sample()), (D.rate * (D.rateMs + 1000)) / 1000) : undefined;
  say(`fixed ${D.rate} req/s: p50 ${fixedRate.latency.p50.toFixed(3)} ms, p99 ${fixedRate.latency.p99.toFixed(3)} ms, p99.9 ${fixedRate.latency.p999.toFixed(3)} ms, ${fixedRateCpuUsPerRequest.toFixed(0)} CPU µs/req${fixedRateRedis ? `, Redis ${fixedRateRedis.usPerRequest.toFixed(1)} CPU µs/req` : ''}`);
  const ttfb = await loadgen({ mode: 'ttfb', url, headers: headersOf(t), body: body.ttfb, count: D.ttfbCount });
  say(`SSE first byte (${D.ttfbCount} sequential): p50 ${ttfb.ttfb!.p50.toFixed(3)} ms, p99 ${ttfb.ttfb!.p99.toFixed(3)} ms`);
  const m = memory(t.proc.pid);

  for (const [what, r] of [['non-streaming', plain], ['SSE', stream], ['fixed-rate', fixedRate], ['ttfb', ttfb]] as const) {
    if (r.errors > 0) warnings.push(`${what}: ${r.errors} failed requests (${JSON.stringify(r.statuses)}${'firstError' in r && r.firstError ? `, ${r.firstError}` : ''})`);
  }
  if (fixedRate.maxLagMs !== undefined && fixedRate.maxLagMs > 20) warnings.push(`fixed-rate: the generator fell up to ${fixedRate.maxLagMs.toFixed(0)} ms behind schedule`);
  const out = t.proc.output();
  if (/"level":(50|60)|Error|error/.test(out)) warnings.push(`process output mentions errors:\n${out.slice(-1500)}`);
  for (const w of warnings) say(`WARNING ${w}`);
  return { name: t.name, pid: t.proc.pid, plain, stream, fixedRate, fixedRateCpuUsPerRequest, ...(fixedRateRedis ? { fixedRateRedis } : {}), ttfb, memory: { rssMB: mb(m.rss), peakMB: mb(m.peak) }, ...(t.policy ? { policy: t.policy } : {}), warnings };
}

// ---- targets ----

interface Check {
  target: string;
  goal: string;
  value: string;
  pass: boolean | null;
  /** the figure judged, the judgement and how the figure reads, so that rounds can be judged on their median */
  x?: number;
  meets?: (x: number) => boolean;
  show?: (x: number) => string;
}

/** A check whose figure is a number: `pass` is `meets(x)`; `value` is `show(x)` and any detail. */
function numeric(target: string, goal: string, x: number, meets: (x: number) => boolean, show: (x: number) => string, detail = ''): Check {
  return { target, goal, value: show(x) + detail, pass: meets(x), x, meets, show };
}

/** --rounds: each check over the rounds, judged on the median of its figure. */
function medianChecks(rounds: Check[][]): Check[] {
  const byTarget = new Map<string, Check[]>();
  for (const cs of rounds) for (const c of cs) byTarget.set(c.target, [...(byTarget.get(c.target) ?? []), c]);
  return [...byTarget.values()].map((cs) => {
    const first = cs[0]!;
    if (cs.length === 1 || first.x === undefined || !first.meets || !first.show) return first;
    const mid = median(cs.map((c) => c.x!));
    return { ...first, x: mid, pass: first.meets(mid), value: `median ${first.show(mid)} of ${cs.length} rounds (${cs.map((c) => c.value).join('; ')})` };
  });
}

function checks(r: Partial<Record<ScenarioName, TargetResult>>): Check[] {
  const out: Check[] = [];
  const { direct, bare, embedded, cluster } = r;
  const ratio = (a: number, b: number) => a / b;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const times = (x: number) => `${x.toFixed(2)}×`;
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  if (bare && embedded) {
    const x = ratio(embedded.plain.rps, bare.plain.rps);
    out.push(numeric('embedded throughput ≥ 80% of bare proxy', '≥ 80%', x, (v) => v >= 0.8, pct));
    const c = ratio(embedded.plain.cpuUsPerRequest, bare.plain.cpuUsPerRequest);
    out.push(numeric('embedded CPU/request ≤ 1.5× bare proxy', '≤ 1.50×', c, (v) => v <= 1.5, times));
  }
  if (bare && cluster) {
    const x = ratio(cluster.plain.rps, bare.plain.rps);
    out.push(numeric('cluster throughput ≥ 60% of bare proxy', '≥ 60%', x, (v) => v >= 0.6, pct));
  }
  if (embedded && cluster) {
    // Issue 14: cluster-mode gateway CPU per request ≤ 1.3× embedded, in the same run. At saturation the
    // cluster gateway waits on the core it shares with PostgreSQL, Redis, the upstream and the load
    // generator, so the fixed-rate run (the same 1,000 req/s for both) is the like-for-like figure.
    const c = ratio(cluster.plain.cpuUsPerRequest, embedded.plain.cpuUsPerRequest);
    const f = ratio(cluster.fixedRateCpuUsPerRequest, embedded.fixedRateCpuUsPerRequest);
    out.push(numeric('cluster CPU/request ≤ 1.3× embedded (saturated c=50)', '≤ 1.30×', c, (v) => v <= 1.3, times));
    out.push(numeric(`cluster CPU/request ≤ 1.3× embedded (both at ${D.rate} req/s)`, '≤ 1.30×', f, (v) => v <= 1.3, times, ` (${cluster.fixedRateCpuUsPerRequest.toFixed(0)} vs ${embedded.fixedRateCpuUsPerRequest.toFixed(0)} µs)`));
  }
  if (cluster?.plain.redis) {
    // Issue 14: ≤ 20 µs of Redis CPU (all its threads) per admitted request, i.e. one Redis core ≥ 50,000 req/s.
    const us = cluster.plain.redis.usPerRequest;
    out.push(numeric('cluster: Redis CPU per request ≤ 20 µs', '≤ 20 µs', us, (v) => v <= 20, (v) => `${v.toFixed(1)} µs`, ` (one Redis core ≈ ${Math.round(cluster.plain.redis.requestsPerCore).toLocaleString('en-US')} req/s)`));
  }
  for (const t of [embedded, cluster]) {
    if (!t || !direct) continue;
    const added = t.fixedRate.latency.p99 - direct.fixedRate.latency.p99;
    out.push(numeric(`${t.name}: p99 added latency ≤ 2 ms at ${D.rate} req/s`, '≤ 2 ms', added, (v) => v <= 2, ms));
    const dt = t.ttfb.ttfb!.p50 - direct.ttfb.ttfb!.p50;
    out.push(numeric(`${t.name}: SSE time-to-first-byte within 1 ms of direct (median)`, '≤ 1 ms', dt, (v) => v <= 1, ms, ` (p99 ${(t.ttfb.ttfb!.p99 - direct.ttfb.ttfb!.p99).toFixed(3)} ms)`));
  }
  return out;
}

/** Each client API's CPU per request next to the OpenAI chat passthrough's (embedded), measured in the same run. */
function apiComparison(r: Partial<Record<ScenarioName, TargetResult>>): string[] {
  const base = r.embedded;
  const out: string[] = [];
  for (const name of Object.keys(SCENARIOS) as ApiScenarioName[]) {
    const t = r[name];
    if (!t) continue;
    const vs = (x: number, y: number | undefined) => (y ? ` (${(x / y).toFixed(2)}× embedded chat)` : '');
    out.push(`INFO  ${name} ${SCENARIOS[name].path}: ${t.plain.cpuUsPerRequest.toFixed(0)} CPU µs/req${vs(t.plain.cpuUsPerRequest, base?.plain.cpuUsPerRequest)}, SSE ${t.stream.cpuUsPerRequest.toFixed(0)}${vs(t.stream.cpuUsPerRequest, base?.stream.cpuUsPerRequest)}; p50/p99 ${t.fixedRate.latency.p50.toFixed(3)}/${t.fixedRate.latency.p99.toFixed(3)} ms at ${D.rate}/s`);
  }
  return out;
}

/** The cluster's Redis CPU per request next to the gateway's, and what one Redis core carries at that cost. */
function redisCeiling(cluster: TargetResult | undefined): string[] {
  const out: string[] = [];
  const runs = [
    [`non-streaming c=${D.connections}`, cluster?.plain.redis, cluster?.plain.cpuUsPerRequest],
    [`SSE c=${D.connections}`, cluster?.stream.redis, cluster?.stream.cpuUsPerRequest],
    [`${D.rate} req/s`, cluster?.fixedRateRedis, cluster?.fixedRateCpuUsPerRequest],
  ] as const;
  for (const [what, x, gateway] of runs) {
    if (!x || gateway === undefined) continue;
    const main = x.mainUsPerRequest !== undefined ? `, main thread ${x.mainUsPerRequest.toFixed(1)} µs` : '';
    out.push(`INFO  cluster ${what}: Redis ${x.usPerRequest.toFixed(1)} CPU µs/req${main} (gateway ${gateway.toFixed(0)}); Redis at ${x.cores.toFixed(2)} cores; one Redis core carries ≈ ${Math.round(x.requestsPerCore).toLocaleString('en-US')} req/s`);
  }
  return out;
}

function table(results: TargetResult[], direct: TargetResult | undefined, bare: TargetResult | undefined): string {
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const rows = [
    '| target | req/s c=50 | vs bare | p50 ms | p99 ms | p99.9 ms | SSE req/s | p50 / p99 / p99.9 ms @ ' + D.rate + '/s | added p99 vs direct | CPU µs/req | SSE CPU µs/req | Redis CPU µs/req (SSE) | SSE TTFB p50 ms (Δ direct) | peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    // The bare proxy relays OpenAI chat only: a client-API scenario is compared with `embedded` instead (apiComparison).
    const vs = bare && r !== bare && r !== direct && !(r.name in SCENARIOS) ? `${((r.plain.rps / bare.plain.rps) * 100).toFixed(0)}%` : '';
    const added = direct && r !== direct ? `${f(r.fixedRate.latency.p99 - direct.fixedRate.latency.p99, 3)} ms` : '';
    const dTtfb = direct && r !== direct ? ` (${r.ttfb.ttfb!.p50 - direct.ttfb.ttfb!.p50 >= 0 ? '+' : ''}${f(r.ttfb.ttfb!.p50 - direct.ttfb.ttfb!.p50, 3)})` : '';
    const lr = r.fixedRate.latency;
    const redis = r.plain.redis && r.stream.redis ? `${f(r.plain.redis.usPerRequest, 1)} (${f(r.stream.redis.usPerRequest, 1)})` : '';
    rows.push(
      `| ${r.name} | ${f(r.plain.rps, 0)} | ${vs} | ${f(r.plain.latency.p50)} | ${f(r.plain.latency.p99)} | ${f(r.plain.latency.p999)} | ${f(r.stream.rps, 0)} | ${f(lr.p50, 3)} / ${f(lr.p99, 3)} / ${f(lr.p999, 3)} | ${added} | ${f(r.plain.cpuUsPerRequest, 0)} | ${f(r.stream.cpuUsPerRequest, 0)} | ${redis} | ${f(r.ttfb.ttfb!.p50, 3)}${dTtfb} | ${f(r.memory.peakMB, 1)} |`,
    );
  }
  return rows.join('\n');
}

function machine() {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  return {
    cpus: os.availableParallelism(),
    model: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    memoryGB: Math.round(os.totalmem() / 1e9),
  };
}

function writeResults(name: string, data: unknown): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = path.resolve(RESULTS, name); // a bare name lands in bench/results/
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

// ---- modes ----

async function withCluster<T>(fn: (services: ClusterServices) => Promise<T>): Promise<T | undefined> {
  const services = await startClusterServices();
  if (typeof services === 'string') {
    process.stdout.write(`\n[cluster] skipped: ${services}\n`);
    return undefined;
  }
  // --pin --pin-services: throwaway PostgreSQL and Redis go on CPU 0 with the upstream and the load
  // generator, leaving CPU 1 to the gateway alone (by default they float over both cores).
  const pinnedServices = CPU.other && flag('pin-services') ? pinDescendants(['postgres', 'redis-server'], CPU.other) : [];
  process.stdout.write(`\n[cluster] PostgreSQL + Redis: ${services.source}${pinnedServices.length ? `, pinned to CPU ${CPU.other} (${pinnedServices.length} processes)` : ''}\n`);
  try {
    redisProbe = await RedisCpuProbe.open(services.redisUrl);
    return await fn(services);
  } finally {
    await redisProbe?.close();
    redisProbe = undefined;
    await services.stop();
  }
}

async function startScenario(name: ScenarioName, upstream: Target, services?: ClusterServices, nodeArgs: string[] = []): Promise<Target> {
  if (name === 'direct') return upstream;
  if (name === 'bare') return startBareProxy(upstream.baseUrl, CPU.gateway);
  const env: Record<string, string> = services ? { TOLLGATE_DATABASE_URL: services.databaseUrl, TOLLGATE_REDIS_URL: services.redisUrl } : {};
  if (tracing) env.OTEL_EXPORTER_OTLP_ENDPOINT = (traceSink ??= await startTraceSink()).url;
  const common = { upstream: upstream.baseUrl, nodeArgs, noPolicy, ...(CPU.gateway ? { cpus: CPU.gateway } : {}) };
  if (name === 'embedded' || name === 'cluster') return startTollgate({ name: noPolicy ? `${name}-nopolicy` : name, env, ...common });
  // A client API of issue 13: an embedded Tollgate whose key may call the scenario's model.
  const api = SCENARIOS[name];
  env.TOLLGATE_CONFIG = claudePricing();
  const t = await startTollgate({ name: noPolicy ? `${name}-nopolicy` : name, env, models: [api.model], ...common });
  t.api = api;
  if (api.anthropicUpstream) await addAnthropicCredential(t, upstream.baseUrl);
  return t;
}

/** The Anthropic-format upstream: a credential of provider 'anthropic' at the bench upstream, serving CLAUDE. */
async function addAnthropicCredential(t: Target, upstream: string): Promise<void> {
  const res = await fetch(`${t.baseUrl}/api/providers`, {
    method: 'POST',
    headers: { 'x-admin-key': t.adminKey!, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench-anthropic', provider: 'anthropic', base_url: `${upstream}/v1`, api_key: 'sk-ant-bench-upstream', models: [CLAUDE] }),
  });
  if (res.status !== 201) throw new Error(`POST /api/providers (anthropic) → ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

/**
 * A config file pricing CLAUDE at Anthropic's list price ($3 / $15 per 1M tokens), so the hard
 * budgets of the realistic policy admit it whatever the built-in price book holds.
 */
let pricingFile: string | undefined;
function claudePricing(): string {
  if (pricingFile) return pricingFile;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-config-'));
  pricingFile = path.join(dir, 'config.json');
  writeFileSync(pricingFile, JSON.stringify({ pricing: { [CLAUDE]: { input: 3_000_000, output: 15_000_000 } } }));
  return pricingFile;
}

async function mainBench(): Promise<void> {
  const started = Date.now();
  const roundsN = Number(value('rounds') ?? 1);
  if (!Number.isInteger(roundsN) || roundsN < 1) throw new Error(`--rounds must be a positive integer (got "${value('rounds')}")`);
  process.stdout.write(`Tollgate benchmark (${quick ? 'quick' : 'full'}): ${only.join(', ')}; ${D.runMs / 1000} s per run, loader ${useWrk ? 'wrk' : 'bench/loadgen.ts'}${pin ? ', pinned' : ''}${roundsN > 1 ? `, ${roundsN} rounds` : ''}${noPolicy ? ', NO POLICY' : ''}${tracing ? ', TRACING ON (OTLP to a discarding sink)' : ''}\n`);
  const upstream = await startUpstream(CPU.other);
  const rounds: Array<Partial<Record<ScenarioName, TargetResult>>> = [];
  const skipped: Record<string, string> = {};
  try {
    for (let round = 1; round <= roundsN; round++) {
      const results: Partial<Record<ScenarioName, TargetResult>> = {};
      rounds.push(results);
      for (const name of only) {
        const run = async (services?: ClusterServices) => {
          process.stdout.write(`\n[${name}]${roundsN > 1 ? ` round ${round} of ${roundsN}` : ''}\n`);
          const t = await startScenario(name, upstream, services);
          try {
            if (t.policy?.length) process.stdout.write(`  policy on the key:\n${describePolicy(t.policy)}\n`);
            else if (noPolicy && t.ids) process.stdout.write(`  no policy: key created, no limits or budgets anywhere\n`);
            results[name] = await measure(t);
          } finally {
            if (t !== upstream) await t.stop();
          }
        };
        if (name === 'cluster') {
          const done = await withCluster(async (s) => {
            await run(s);
            return true;
          });
          if (!done) skipped.cluster = 'PostgreSQL/Redis not available';
        } else await run();
        await sleep(500);
      }
    }
  } finally {
    await upstream.stop();
    if (traceSink) {
      const r = traceSink.received();
      process.stdout.write(`\ntracing: the sink received ${r.exports} OTLP exports, ${(r.bytes / 1e6).toFixed(1)} MB\n`);
      await traceSink.stop();
    }
  }
  const tables: string[] = [];
  rounds.forEach((results, i) => {
    const list = ALL.map((n) => results[n]).filter((r): r is TargetResult => r !== undefined);
    const md = table(list, results.direct, results.bare);
    tables.push(md);
    process.stdout.write(`\n${roundsN > 1 ? `Round ${i + 1} of ${roundsN}:\n\n` : ''}${md}\n\n`);
    for (const line of apiComparison(results)) process.stdout.write(`${line}\n`);
    for (const line of redisCeiling(results.cluster)) process.stdout.write(`${line}\n`);
  });
  // One round: its checks. Several: each check on the median of its figure over the rounds.
  const cs = roundsN === 1 ? checks(rounds[0]!) : medianChecks(rounds.map(checks));
  process.stdout.write('\n');
  for (const c of cs) process.stdout.write(`${c.pass ? 'PASS' : 'FAIL'}  ${c.target}: ${c.value} (goal ${c.goal})\n`);
  for (const [n, why] of Object.entries(skipped)) process.stdout.write(`SKIP  ${n}: ${why}\n`);
  const file = writeResults(value('out') ?? (tracing ? 'latest-tracing.json' : noPolicy ? 'latest-nopolicy.json' : 'latest.json'), {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    policy: noPolicy ? 'none' : 'realistic',
    machine: machine(),
    settings: { ...D, loader: useWrk ? 'wrk' : 'loadgen', pinned: pin, noPolicy, tracing, rounds: roundsN },
    // the last round's results (one round: the run's); every round's with --rounds
    results: rounds.at(-1),
    ...(roundsN > 1 ? { rounds } : {}),
    checks: cs.map(({ meets: _meets, show: _show, ...c }) => c),
    skipped,
    table: tables.join('\n\n'),
    elapsedSeconds: Math.round((Date.now() - started) / 1000),
  });
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), file)} (${Math.round((Date.now() - started) / 1000)} s)\n`);
}

/** Memory under sustained mixed load (3/4 plain, 1/4 SSE), RSS sampled every 10 s. */
async function soak(seconds: number): Promise<void> {
  const name = (only.length === 1 ? only[0] : 'embedded') as ScenarioName;
  const rate = Number(value('soak-rate') ?? 2000);
  process.stdout.write(`Soak: ${name} for ${seconds} s at ${rate} req/s (${Math.round(rate * 0.75)} plain + ${Math.round(rate * 0.25)} SSE), RSS every 10 s\n`);
  const upstream = await startUpstream(CPU.other);
  const go = async (services?: ClusterServices) => {
    const t = await startScenario(name, upstream, services);
    try {
      // --soak with --only=<client API>: that API's requests (e.g. a long Messages-translation soak)
      const body = t.api?.body ?? BODY;
      await closedLoad(t, body.plain, 3000);
      const url = urlOf(t);
      const loads = Promise.all([
        loadgen({ mode: 'open', url, headers: headersOf(t), body: body.plain, rate: Math.round(rate * 0.75), durationMs: seconds * 1000 }),
        loadgen({ mode: 'open', url, headers: headersOf(t), body: body.stream, rate: Math.round(rate * 0.25), durationMs: seconds * 1000 }),
      ]);
      const samples: Array<{ s: number; rssMB: number }> = [];
      const t0 = performance.now();
      let finished = false;
      void loads.finally(() => (finished = true));
      while (!finished) {
        const s = Math.round((performance.now() - t0) / 1000);
        const rssMB = mb(memory(t.proc.pid).rss);
        samples.push({ s, rssMB });
        process.stdout.write(`  t=${s}s rss=${rssMB} MB\n`);
        await Promise.race([sleep(10_000), loads]);
      }
      const [plain, sse] = await loads;
      samples.push({ s: Math.round((performance.now() - t0) / 1000), rssMB: mb(memory(t.proc.pid).rss) });
      // The first minute (or third) is warm-up: caches fill, V8 sizes its heap.
      const from = Math.min(60, seconds / 3);
      const steady = samples.filter((x) => x.s >= from);
      const perMin = slope(steady.map((x) => x.s / 60), steady.map((x) => x.rssMB));
      const pass = Number.isFinite(perMin) && perMin < 1;
      const verdict = `${pass ? 'PASS' : 'FAIL'}  steady memory under a ${seconds} s soak: RSS slope ${perMin.toFixed(2)} MB/min after ${from} s (goal < 1 MB/min), ${steady[0]?.rssMB} → ${steady.at(-1)?.rssMB} MB`;
      process.stdout.write(`${verdict}\n  plain: ${plain.requests} ok, ${plain.errors} failed, p99 ${plain.latency.p99.toFixed(2)} ms; SSE: ${sse.requests} ok, ${sse.errors} failed\n`);
      const file = writeResults(value('out') ?? 'soak.json', { date: new Date().toISOString(), machine: machine(), target: name, seconds, rate, samples, slopeMBPerMin: perMin, pass, plain, sse, peakMB: mb(memory(t.proc.pid).peak) });
      process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    } finally {
      await t.stop();
    }
  };
  try {
    if (name === 'cluster') await withCluster(go);
    else await go();
  } finally {
    await upstream.stop();
  }
}

/**
 * Tollgate (embedded) with every allocation sampled during 10 s of non-streaming load, freed
 * objects included: what the young-generation collector has to sweep, charged to the code that
 * allocated it.
 */
async function allocProfile(): Promise<void> {
  const file = path.join(RESULTS, 'alloc.heapprofile');
  rmSync(file, { force: true });
  const upstream = await startUpstream(CPU.other);
  let requests = 0;
  try {
    const t = await startTollgate({ name: 'embedded-alloc', upstream: upstream.baseUrl, env: { TOLLGATE_ALLOC_PROFILE: file }, nodeArgs: ['--import', path.join(ROOT, 'bench/alloc-sampler.ts')], noPolicy, ...(CPU.gateway ? { cpus: CPU.gateway } : {}) });
    try {
      await closedLoad(t, BODY.plain, D.warmMs);
      process.kill(t.proc.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 200));
      const plain = await closedLoad(t, BODY.plain, D.runMs);
      requests = plain.requests;
      process.stdout.write(`sampled load: ${plain.rps.toFixed(0)} req/s, ${requests} requests\n`);
    } finally {
      await t.stop();
    }
  } finally {
    await upstream.stop();
  }
  const summary = summarizeAllocations(file, requests, 30, ROOT);
  process.stdout.write(`\n${formatAllocations(summary)}\n`);
  writeResults(value('out') ?? 'alloc-top.json', { date: new Date().toISOString(), machine: machine(), target: 'embedded', noPolicy, requests, ...summary });
}

/** Tollgate (embedded, or cluster with --profile=cluster) under --cpu-prof during load. */
async function profile(): Promise<void> {
  const cluster = value('profile') === 'cluster';
  const dir = path.join(RESULTS, cluster ? 'profile-cluster' : 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const upstream = await startUpstream(CPU.other);
  try {
    const run = async (services?: ClusterServices) => {
      const t = await startScenario(cluster ? 'cluster' : 'embedded', upstream, services, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
      try {
        await closedLoad(t, BODY.plain, D.warmMs);
        const plain = await closedLoad(t, BODY.plain, D.runMs);
        const sse = await closedLoad(t, BODY.stream, D.runMs / 2);
        process.stdout.write(`profiled load: ${plain.rps.toFixed(0)} req/s plain, ${sse.rps.toFixed(0)} req/s SSE\n`);
      } finally {
        await t.stop();
      }
    };
    if (cluster) await withCluster(run);
    else await run();
  } finally {
    await upstream.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const summary = summarizeProfile(path.join(dir, file), 25, ROOT);
  process.stdout.write(`\n${formatProfile(summary)}\n\nprofile: ${path.relative(process.cwd(), path.join(dir, file))}\n`);
  writeResults(value('out') ?? (cluster ? 'profile-top-cluster.json' : 'profile-top.json'), { date: new Date().toISOString(), machine: machine(), target: cluster ? 'cluster' : 'embedded', noPolicy, file: path.relative(ROOT, path.join(dir, file)), ...summary });
}

const soakSeconds = value('soak');
if (soakSeconds) await soak(Number(soakSeconds));
else if (value('profile') === 'alloc') await allocProfile();
else if (flag('profile')) await profile();
else await mainBench();
process.exit(0);
