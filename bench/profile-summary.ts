// Top functions by self time in a V8 .cpuprofile (as written by `node --cpu-prof`).
//   node bench/profile-summary.ts <file.cpuprofile> [top=20]
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotFunction {
  name: string;
  location: string;
  selfMs: number;
  selfPercent: number;
}

function shorten(url: string, root: string): string {
  if (!url) return '';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = file.lastIndexOf('node_modules/');
  if (nm !== -1) return file.slice(nm + 'node_modules/'.length);
  return file.startsWith(root) ? path.relative(root, file) : file;
}

/** Self time per function (summed over its profile nodes), largest first. */
export function summarizeProfile(file: string, top = 20, root = process.cwd()): { totalMs: number; idleMs: number; functions: HotFunction[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Self time from samples × time deltas when present (exact), else hit counts × mean interval.
  const selfUs = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0));
    }
  } else {
    const hits = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
    const per = hits ? (profile.endTime - profile.startTime) / hits : 0;
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * per);
  }
  const totals = new Map<string, HotFunction & { us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    totalUs += us;
    const fn = n.callFrame.functionName || '(anonymous)';
    if (fn === '(idle)') idleUs += us;
    const location = n.callFrame.url ? `${shorten(n.callFrame.url, root)}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${fn} ${location}`;
    const entry = totals.get(key) ?? { name: fn, location, selfMs: 0, selfPercent: 0, us: 0 };
    entry.us += us;
    totals.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const functions = [...totals.values()]
    .filter((f) => f.name !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map(({ us, ...f }) => ({ ...f, selfMs: Math.round(us / 100) / 10, selfPercent: busyUs ? Math.round((us / busyUs) * 1000) / 10 : 0 }));
  return { totalMs: Math.round(totalUs / 1000), idleMs: Math.round(idleUs / 1000), functions };
}

export function formatProfile(s: ReturnType<typeof summarizeProfile>): string {
  const lines = [`busy ${s.totalMs - s.idleMs} ms of ${s.totalMs} ms sampled (idle ${s.idleMs} ms); top by self time (% of busy):`, '', '| # | self ms | % busy | function | location |', '|---|---:|---:|---|---|'];
  s.functions.forEach((f, i) => lines.push(`| ${i + 1} | ${f.selfMs.toFixed(1)} | ${f.selfPercent.toFixed(1)} | \`${f.name}\` | ${f.location} |`));
  return lines.join('\n');
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top=20]\n');
    process.exit(2);
  }
  process.stdout.write(formatProfile(summarizeProfile(file, Number(process.argv[3] ?? 20))) + '\n');
}
