// The load generator, run as its own process so its CPU is never counted against a target.
//   closed: `connections` loops, each sending its next request when the previous answer ends
//           (maximum throughput at fixed concurrency)
//   open:   requests sent on a fixed schedule, `rate` per second, whatever the answers do
//           (latency at a fixed load; lateness of the schedule is reported too)
//   ttfb:   `count` sequential streamed requests, timing the first body byte and the last
// Latencies are measured per request with performance.now() (sub-ms), kept whole, and sorted at
// the end: percentiles are exact, not histogram buckets.
//
//   node bench/loadgen.ts '<json LoadSpec>'   → prints one JSON LoadResult line
import { Pool } from 'undici';
import type { LoadResult, LoadSpec } from './lib/load-types.ts';
import { summarize } from './lib/stats.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const url = new URL(spec.url);
const pool = new Pool(url.origin, { connections: spec.mode === 'closed' ? spec.connections : spec.mode === 'open' ? 512 : 1, pipelining: 1, keepAliveTimeout: 60_000 });
const body = spec.body;
const headers = { 'content-type': 'application/json', ...spec.headers };

const latencies: number[] = [];
const statuses: Record<string, number> = {};
let errors = 0;
let bytes = 0;
let firstError: string | undefined;

let recordFrom = 0;

async function once(): Promise<void> {
  const t0 = performance.now();
  const record = t0 >= recordFrom;
  try {
    const res = await pool.request({ method: 'POST', path: url.pathname, headers, body });
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    if (res.statusCode !== 200) {
      errors++;
      return;
    }
    if (record) latencies.push(performance.now() - t0);
  } catch (err) {
    errors++;
    firstError ??= (err as Error).message;
  }
}

async function closed(spec: Extract<LoadSpec, { mode: 'closed' }>): Promise<void> {
  const until = performance.now() + spec.durationMs;
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (performance.now() < until) await once();
    }),
  );
}

async function open(spec: Extract<LoadSpec, { mode: 'open' }>): Promise<{ maxLagMs: number }> {
  const start = performance.now();
  recordFrom = start + (spec.warmupMs ?? 0);
  const total = Math.round((spec.rate * spec.durationMs) / 1000);
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  let maxLagMs = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * spec.rate) / 1000));
      if (due > sent) maxLagMs = Math.max(maxLagMs, now - (start + (sent * 1000) / spec.rate));
      while (sent < due) {
        sent++;
        const p = once().finally(() => inflight.delete(p));
        inflight.add(p);
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
  });
  await Promise.all(inflight);
  return { maxLagMs };
}

async function ttfb(spec: Extract<LoadSpec, { mode: 'ttfb' }>): Promise<{ ttfb: number[]; total: number[] }> {
  const first: number[] = [];
  const whole: number[] = [];
  // The first few warm the generator and the connection; they are not recorded.
  const warm = 5;
  for (let i = -warm; i < spec.count; i++) {
    const t0 = performance.now();
    try {
      const res = await pool.request({ method: 'POST', path: url.pathname, headers, body });
      let seen = false;
      for await (const chunk of res.body) {
        if (!seen && (chunk as Buffer).length > 0) {
          seen = true;
          if (i >= 0) first.push(performance.now() - t0);
        }
      }
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      if (res.statusCode !== 200) errors++;
      else if (i >= 0) whole.push(performance.now() - t0);
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
  }
  return { ttfb: first, total: whole };
}

const started = performance.now();
const result: LoadResult = { mode: spec.mode, requests: 0, errors: 0, statuses, bytes: 0, elapsedMs: 0, rps: 0, latency: summarize([]) };
if (spec.mode === 'closed') await closed(spec);
else if (spec.mode === 'open') result.maxLagMs = (await open(spec)).maxLagMs;
else {
  const t = await ttfb(spec);
  result.ttfb = summarize(t.ttfb);
  latencies.push(...t.total);
}
result.elapsedMs = performance.now() - started;
result.requests = latencies.length;
result.errors = errors;
result.bytes = bytes;
result.rps = latencies.length / ((result.elapsedMs - (spec.mode === 'open' ? (spec.warmupMs ?? 0) : 0)) / 1000);
result.latency = summarize(latencies);
if (firstError) result.firstError = firstError;
await pool.close();
process.stdout.write(JSON.stringify(result) + '\n');
