// Where the bytes are allocated, from a sampling heap profile written by bench/alloc-sampler.ts.
//   node bench/alloc-summary.ts <file.heapprofile> [requests]
// Two views: allocation sites (the function that allocated), and the nearest Tollgate function
// (src/) on the stack, so allocations inside Node or a library are charged to the code that asked.
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export interface AllocSummary {
  totalBytes: number;
  bytesPerRequest: number | null;
  sites: Array<{ name: string; location: string; bytes: number; percent: number }>;
  byTollgateFrame: Array<{ name: string; location: string; bytes: number; percent: number }>;
}

function where(url: string, line: number, root: string): string {
  if (!url) return '';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = file.lastIndexOf('node_modules/');
  const short = nm !== -1 ? file.slice(nm + 'node_modules/'.length) : file.startsWith(root) ? path.relative(root, file) : file;
  return `${short}:${line + 1}`;
}

export function summarizeAllocations(file: string, requests: number | null, top = 25, root = process.cwd()): AllocSummary {
  const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head;
  const sites = new Map<string, { name: string; location: string; bytes: number }>();
  const owners = new Map<string, { name: string; location: string; bytes: number }>();
  let total = 0;
  const add = (m: typeof sites, name: string, location: string, bytes: number) => {
    const k = `${name}|${location}`;
    const e = m.get(k);
    if (e) e.bytes += bytes;
    else m.set(k, { name, location, bytes });
  };
  const walk = (n: HeapNode, owner: { name: string; location: string } | null) => {
    const location = where(n.callFrame.url, n.callFrame.lineNumber, root);
    const name = n.callFrame.functionName || '(anonymous)';
    const mine = location.startsWith('src/') ? { name, location } : owner;
    if (n.selfSize > 0) {
      total += n.selfSize;
      add(sites, name, location || '(native)', n.selfSize);
      add(owners, mine?.name ?? '(outside Tollgate code)', mine?.location ?? '', n.selfSize);
    }
    for (const c of n.children) walk(c, mine);
  };
  walk(head, null);
  const rank = (m: typeof sites) =>
    [...m.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top).map((e) => ({ ...e, percent: (100 * e.bytes) / total }));
  return { totalBytes: total, bytesPerRequest: requests ? total / requests : null, sites: rank(sites), byTollgateFrame: rank(owners) };
}

export function formatAllocations(s: AllocSummary): string {
  const kb = (b: number) => (b / 1024).toFixed(1);
  const per = (b: number) => (s.bytesPerRequest !== null ? ` ${(b / (s.totalBytes / s.bytesPerRequest!) / 1024).toFixed(2).padStart(6)} KB/req` : '');
  const lines = [`allocated ${(s.totalBytes / 1048576).toFixed(1)} MB${s.bytesPerRequest !== null ? `, ${kb(s.bytesPerRequest)} KB per request` : ''}`, '', 'allocation sites:'];
  for (const e of s.sites) lines.push(`  ${e.percent.toFixed(1).padStart(5)}%${per(e.bytes)}  ${e.name}  ${e.location}`);
  lines.push('', 'charged to the nearest Tollgate (src/) frame:');
  for (const e of s.byTollgateFrame) lines.push(`  ${e.percent.toFixed(1).padStart(5)}%${per(e.bytes)}  ${e.name}  ${e.location}`);
  return lines.join('\n');
}

if (import.meta.main) {
  const [file, requests] = process.argv.slice(2);
  if (!file) throw new Error('usage: node bench/alloc-summary.ts <file.heapprofile> [requests]');
  process.stdout.write(formatAllocations(summarizeAllocations(file, requests ? Number(requests) : null)) + '\n');
}
