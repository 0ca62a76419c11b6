// Closed-loop load with wrk (C, event loop, ~3× less CPU per request than a Node client), used for
// the maximum-throughput runs when it is installed (`apt-get install wrk`); run.ts falls back to
// bench/loadgen.ts otherwise. A Lua `done` hook prints the result as JSON; wrk's latency histogram
// has microsecond resolution.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadResult } from './load-types.ts';

export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version
    return (err as { status?: number }).status === 1;
  }
}

const lua = (body: string, headers: Record<string, string>) => `
wrk.method = "POST"
wrk.body = [==[${body}]==]
wrk.headers["Content-Type"] = "application/json"
${Object.entries(headers).map(([k, v]) => `wrk.headers[ [==[${k}]==] ] = [==[${v}]==]`).join('\n')}
done = function(s, latency, requests)
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"mean":%f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}\\n',
    s.requests, s.duration, s.bytes, s.errors.connect, s.errors.read, s.errors.write, s.errors.status, s.errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`;

export async function runWrk(opts: { url: string; body: string; headers: Record<string, string>; connections: number; durationMs: number; cpus?: string }): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-wrk-'));
  const script = path.join(dir, 'post.lua');
  writeFileSync(script, lua(opts.body, opts.headers));
  const args = ['-t1', `-c${opts.connections}`, `-d${Math.max(1, Math.round(opts.durationMs / 1000))}s`, '--timeout', '10s', '-s', script, opts.url];
  const [cmd, argv] = opts.cpus ? ['taskset', ['-c', opts.cpus, 'wrk', ...args]] : ['wrk', args];
  try {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(cmd, argv, { maxBuffer: 10_000_000 }, (err, out, errOut) => (err ? reject(new Error(`wrk failed: ${err.message}\n${errOut}`)) : resolve(out))),
    );
    const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
    const r = JSON.parse(line.slice(8)) as Record<string, number>;
    const ms = (us: number | undefined) => (us ?? NaN) / 1000;
    const errors = r.connect! + r.read! + r.write! + r.status! + r.timeout!;
    const ok = r.requests! - r.status!;
    return {
      mode: 'closed',
      requests: ok,
      errors,
      statuses: { non2xx: r.status!, socket: r.connect! + r.read! + r.write!, timeout: r.timeout! },
      bytes: r.bytes!,
      elapsedMs: r.duration_us! / 1000,
      rps: ok / (r.duration_us! / 1e6),
      latency: { count: r.requests!, mean: ms(r.mean), p50: ms(r.p50), p90: ms(r.p90), p99: ms(r.p99), p999: ms(r.p999), max: ms(r.max) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
