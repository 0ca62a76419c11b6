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

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  /** top functions by self time */
  functions: HotFunction[];
  /** self time grouped by where the code lives: a src/ file, an npm package, node internals, native */
  modules: Array<{ module: string; selfMs: number; selfPercent: number }>;
  /** Tollgate's own functions (src/) by inclusive time: the function and everything it called */
  inclusive: Array<{ name: string; location: string; totalMs: number; totalPercent: number }>;
}

function moduleOf(location: string): string {
  if (!location) return '(native / V8)';
  if (location.startsWith('node:')) return 'node internals';
  if (location.startsWith('src/')) return location.slice(0, location.lastIndexOf(':'));
  const m = /^((?:@[^/]+\/)?[^/]+)\//.exec(location);
  return m ? `npm: ${m[1]}` : location.slice(0, location.lastIndexOf(':'));
}

/** Self time per function (summed over its profile nodes), largest first. */
export function summarizeProfile(file: string, top = 20, root = process.cwd()): ProfileSummary {
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
  const pct = (us: number) => (busyUs ? Math.round((us / busyUs) * 1000) / 10 : 0);
  const modules = new Map<string, number>();
  for (const f of totals.values()) if (f.name !== '(idle)') modules.set(moduleOf(f.location), (modules.get(moduleOf(f.location)) ?? 0) + f.us);
  // Inclusive time: walk the call tree once, crediting each sample's self time to every distinct
  // function on its stack (recursion counted once).
  const inclusiveUs = new Map<string, number>();
  const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${shorten(n.callFrame.url, root)}:${n.callFrame.lineNumber + 1}` : ''}`;
  const rootNode = profile.nodes[0];
  const stack: Array<{ node: ProfileNode; onStack: Set<string> }> = rootNode ? [{ node: rootNode, onStack: new Set() }] : [];
  while (stack.length) {
    const { node, onStack } = stack.pop()!;
    const here = new Set(onStack).add(label(node));
    const us = selfUs.get(node.id) ?? 0;
    if (us) for (const l of here) inclusiveUs.set(l, (inclusiveUs.get(l) ?? 0) + us);
    for (const c of node.children ?? []) {
      const child = byId.get(c);
      if (child) stack.push({ node: child, onStack: here });
    }
  }
  const inclusive = [...inclusiveUs.entries()]
    .filter(([l]) => / src\//.test(l))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([l, us]) => {
      const sp = l.indexOf(' ');
      return { name: l.slice(0, sp), location: l.slice(sp + 1), totalMs: Math.round(us / 100) / 10, totalPercent: pct(us) };
    });
  const functions = [...totals.values()]
    .filter((f) => f.name !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map(({ us, ...f }) => ({ ...f, selfMs: Math.round(us / 100) / 10, selfPercent: busyUs ? Math.round((us / busyUs) * 1000) / 10 : 0 }));
  return {
    totalMs: Math.round(totalUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    functions,
    modules: [...modules.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([module, us]) => ({ module, selfMs: Math.round(us / 100) / 10, selfPercent: pct(us) })),
    inclusive,
  };
}

export function formatProfile(s: ProfileSummary): string {
  const lines = [`busy ${s.totalMs - s.idleMs} ms of ${s.totalMs} ms sampled (idle ${s.idleMs} ms); top by self time (% of busy):`, '', '| # | self ms | % busy | function | location |', '|---|---:|---:|---|---|'];
  s.functions.forEach((f, i) => lines.push(`| ${i + 1} | ${f.selfMs.toFixed(1)} | ${f.selfPercent.toFixed(1)} | \`${f.name}\` | ${f.location} |`));
  lines.push('', 'Self time by module:', '', '| module | self ms | % busy |', '|---|---:|---:|');
  for (const m of s.modules) lines.push(`| ${m.module} | ${m.selfMs.toFixed(1)} | ${m.selfPercent.toFixed(1)} |`);
  lines.push('', "Tollgate's functions by inclusive time (self + callees):", '', '| function | location | total ms | % busy |', '|---|---|---:|---:|');
  for (const f of s.inclusive) lines.push(`| \`${f.name}\` | ${f.location} | ${f.totalMs.toFixed(1)} | ${f.totalPercent.toFixed(1)} |`);
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
