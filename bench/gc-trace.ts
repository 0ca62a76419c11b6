// Tollgate embedded at a fixed 1,000 req/s under --trace-gc: the latency percentiles next to the
// garbage collections of the same 10 s, to tell GC pauses from other stalls in the tail.
//   node bench/gc-trace.ts            (NOFLUSH=1: no log flush during the run, TOLLGATE_LOG_FLUSH_MS=1h;
//                                     GATEWAY_NODE_ARGS='--max-semi-space-size=64': extra node flags for Tollgate)
// Gateway on CPU 1, upstream and load generator on CPU 0 (needs taskset).
import path from 'node:path';
import { startTollgate, startUpstream, ROOT } from './lib/targets.ts';
import { startChild } from './lib/proc.ts';
const up = await startUpstream('0');
const t = await startTollgate({ name: 'gc', upstream: up.baseUrl, nodeArgs: ['--trace-gc', ...(process.env.GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [])], cpus: '1', env: process.env.NOFLUSH ? { TOLLGATE_LOG_FLUSH_MS: '3600000' } : {} });
const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(400) }], max_tokens: 256 });
const url = `${t.baseUrl}/v1/chat/completions`;
const run = async (rate: number, ms: number) => (await startChild('lg', 'taskset', ['-c', '0', process.execPath, path.join(ROOT, 'bench/loadgen.ts'), JSON.stringify({ mode: 'open', url, headers: { authorization: t.auth }, body, rate, durationMs: ms, warmupMs: 1000 })]).ready) as any;
await run(1000, 3000);
const mark = t.proc.output().length;
const r = await run(1000, 11000);
const out = t.proc.output().slice(mark);
const lines = out.split('\n').filter((l) => /Scavenge|Mark-Compact|Mark-sweep/i.test(l));
const pauses = lines.map((l) => Number(/,\s*([\d.]+)\s*\/\s*[\d.]+\s*ms/.exec(l)?.[1] ?? /([\d.]+) ms:/.exec(l)?.[1] ?? NaN));
console.log('p50/p99/p999', r.latency.p50.toFixed(3), r.latency.p99.toFixed(3), r.latency.p999.toFixed(3), 'count', r.latency.count);
console.log('gc events', lines.length, 'kinds', JSON.stringify(lines.reduce((a: any, l) => { const k = /Scavenge|Mark-Compact|Mark-sweep/i.exec(l)![0]; a[k] = (a[k] ?? 0) + 1; return a; }, {})));
console.log(lines.slice(0, 4).join('\n'));
console.log(lines.filter((l) => /Mark/.test(l)).slice(0, 5).join('\n'));
await t.stop(); await up.stop(); process.exit(0);
