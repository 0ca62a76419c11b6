// Tollgate embedded at a fixed 1,000 req/s under --trace-gc: the latency percentiles next to the
// garbage collections of the same 10 s, to tell GC pauses from other stalls in the tail.
//   node bench/gc-trace.ts            (TARGET=bare: the bare proxy instead; NOFLUSH=1: no log flush during the run, TOLLGATE_LOG_FLUSH_MS=1h;
//                                     GATEWAY_NODE_ARGS='--max-semi-space-size=64': extra node flags for Tollgate;
//                                     GATEWAY_ENV='TOLLGATE_LOG_FLUSH_MS=100': extra environment for Tollgate)
// Gateway on CPU 1, upstream and load generator on CPU 0 (needs taskset).
import path from 'node:path';
import { startTollgate, startUpstream, ROOT } from './lib/targets.ts';
import { startChild } from './lib/proc.ts';
const up = await startUpstream('0');
const nodeArgs = ['--trace-gc', ...(process.env.GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
async function bare() {
  // TARGET=bare: the bare proxy under the same trace, for comparison
  const proc = startChild('bare-proxy', 'taskset', ['-c', '1', process.execPath, ...nodeArgs, path.join(ROOT, 'bench/bare-proxy.ts'), up.baseUrl]);
  const { port } = (await proc.ready) as { port: number };
  return { baseUrl: `http://127.0.0.1:${port}`, proc, auth: 'Bearer sk-bare', stop: () => proc.stop() };
}
const t = process.env.TARGET === 'bare' ? await bare() : await startTollgate({ name: 'gc', upstream: up.baseUrl, nodeArgs, cpus: '1', env: { ...(process.env.NOFLUSH ? { TOLLGATE_LOG_FLUSH_MS: '3600000' } : {}), ...Object.fromEntries((process.env.GATEWAY_ENV ?? '').split(' ').filter(Boolean).map((kv) => kv.split('='))) } });
const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(400) }], max_tokens: 256 });
const url = `${t.baseUrl}/v1/chat/completions`;
const run = async (rate: number, ms: number) => (await startChild('lg', 'taskset', ['-c', '0', process.execPath, path.join(ROOT, 'bench/loadgen.ts'), JSON.stringify({ mode: 'open', url, headers: { authorization: t.auth }, body, rate, durationMs: ms, warmupMs: 1000 })]).ready) as any;
await run(1000, 3000);
const mark = t.proc.output().length;
const r = await run(1000, 11000);
const out = t.proc.output().slice(mark);
const lines = out.split('\n').filter((l) => /Scavenge|Mark-Compact|Mark-sweep/i.test(l));
console.log('p50/p99/p999', r.latency.p50.toFixed(3), r.latency.p99.toFixed(3), r.latency.p999.toFixed(3), 'count', r.latency.count);
console.log('gc events', lines.length, 'kinds', JSON.stringify(lines.reduce((a: any, l) => { const k = /Scavenge|Mark-Compact|Mark-sweep/i.exec(l)![0]; a[k] = (a[k] ?? 0) + 1; return a; }, {})));
for (const l of lines) console.log(l.replace(/^\[\d+:0x[0-9a-f]+\]\s*/, '').replace(/ \(average mu.*$/, ''));
await t.stop(); await up.stop(); process.exit(0);
