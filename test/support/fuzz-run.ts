// Runs a fuzz family: fast-check draws the cases (fixed seed, printed for replay), each case is
// resolved against the live gateway, sent, and checked; every failure is recorded and grouped
// (fuzz-findings.ts) and the family fails at the end with all its failure classes listed.
//
//   TOLLGATE_FUZZ_RUNS     cases per family on SQLite (default 10,000)
//   TOLLGATE_FUZZ_PG_RUNS  cases per family on PostgreSQL (default 1,000)
//   TOLLGATE_FUZZ_SEED     replay a run (each family prints its seed)
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import fc from 'fast-check';
import { checkResponse, errorLabel, faultLabel, findSecret, loggedErrors, type Violation } from './fuzz-checks.ts';
import type { DbWatch } from './fuzz-db.ts';
import { Findings } from './fuzz-findings.ts';
import type { FuzzGateway } from './fuzz-gateway.ts';
import type { FuzzCase } from './fuzz-http.ts';
import { viaRaw, type Received, type Sent } from './fuzz-transport.ts';
import { jsonText, refsIn } from './fuzz-values.ts';

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

export const FUZZ_RUNS = positive(process.env.TOLLGATE_FUZZ_RUNS, 10_000, 'TOLLGATE_FUZZ_RUNS');
export const FUZZ_PG_RUNS = positive(process.env.TOLLGATE_FUZZ_PG_RUNS, 1_000, 'TOLLGATE_FUZZ_PG_RUNS');
const SEED = process.env.TOLLGATE_FUZZ_SEED ? Number(process.env.TOLLGATE_FUZZ_SEED) : undefined;

export interface Target {
  gw: FuzzGateway;
  /** the database, for ids and for "nothing half-written" (unset: neither is needed) */
  watch?: DbWatch;
  findings: Findings;
  /** the headers a credential tag stands for */
  credentials(tag: string): Array<[string, string]>;
  /** sends a case that needs no raw socket */
  send(sent: Sent): Promise<Received>;
  /** also check that reads (GET, HEAD, OPTIONS) wrote nothing */
  watchReads: boolean;
  /** lets background work the case caused finish, so what it logs is blamed on this case */
  settle?(): Promise<void>;
  /** further checks (the /v1 suite: upstream untouched, nothing left reserved) */
  after?(c: FuzzCase, sent: Sent, res: Received): Promise<Violation[]>;
  /** the last case sent on a kept-alive connection (set by runCase) */
  previous?: { route: string; sent: Sent; res: Received };
}

function ids(t: Target): DbWatch {
  if (!t.watch) throw new Error('this family has ids to resolve but no database watch');
  return t.watch;
}

/** The case as bytes on the wire: ids resolved against the database, credentials filled in. */
export async function materialize(c: FuzzCase, t: Target): Promise<Sent> {
  let i = 0;
  const segments: string[] = [];
  for (const s of c.route.url.split('/')) {
    if (!s.startsWith(':')) segments.push(s);
    else {
      const p = c.params[i++]!;
      segments.push(typeof p === 'string' ? p : String(await ids(t).resolve(p)));
    }
  }
  let body: Buffer | undefined;
  if (c.body.kind === 'json') {
    const resolved = new Map<unknown, number>();
    for (const ref of refsIn(c.body.value)) resolved.set(ref, await ids(t).resolve(ref));
    body = Buffer.from(jsonText(c.body.value, (ref) => resolved.get(ref)!), 'utf8');
  } else if (c.body.kind === 'raw') body = typeof c.body.bytes === 'string' ? Buffer.from(c.body.bytes, 'utf8') : c.body.bytes;
  const headers = [...t.credentials(c.cred), ...c.headers];
  const type = c.contentType === 'auto' ? (body !== undefined ? 'application/json' : null) : c.contentType;
  if (type !== null) headers.push(['content-type', type]);
  return { method: c.method, path: segments.join('/') + c.query, headers, body, raw: c.raw };
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function runCase(c: FuzzCase, t: Target): Promise<void> {
  const sent = await materialize(c, t);
  const writes = !READS.has(sent.method.toUpperCase());
  const watch = t.watch && (writes || t.watchReads) ? t.watch : undefined;
  await watch?.before();
  t.gw.logs.length = 0;
  let res = sent.raw ? await viaRaw(t.gw.port, sent) : await t.send(sent);
  if (!sent.raw && !res.ok && /ECONNRESET|UND_ERR_SOCKET|other side closed/i.test(res.error) && t.previous) {
    // A kept-alive connection the server closed after its last answer without saying so: that
    // answer is at fault, not this request. Blame it, then send this one again on a new connection.
    const p = t.previous;
    const label = p.res.ok ? `${p.res.status} ${errorLabel(p.res.body.toString('utf8'))}` : 'failure';
    t.findings.add({ kind: 'no-answer', label: `keep-alive connection closed without "Connection: close" after a ${label}`, detail: `the next request on it failed: ${res.error}` }, p.route, p.sent, p.res.ok ? p.res.status : undefined);
    res = await t.send(sent);
  }
  await t.settle?.();
  const violations = checkResponse(res, sent.method, t.gw.secrets);
  const logged = t.gw.logs.join('\n');
  // A 5xx is grouped by the error thrown while answering it (the one with a stack in src/); any
  // other error logged meanwhile (a failed log flush, a background task) is a finding of its own.
  const errors = loggedErrors(t.gw.logs);
  const fault = violations.some((v) => v.kind === '5xx') ? errors.find((e) => e.frame) : undefined;
  for (const v of violations) if (v.kind === '5xx') v.label += ` — ${fault ? faultLabel(fault) : 'nothing logged'}`;
  for (const e of errors) if (e !== fault) violations.push({ kind: 'error-logged', label: faultLabel(e), detail: e.message });
  const leak = logged && findSecret(logged, t.gw.secrets);
  if (leak) violations.push({ kind: 'secret-in-log', label: leak, detail: `the server logged the ${leak}` });
  const refused = !res.ok || res.status >= 400;
  if (refused && watch) {
    const changed = await watch.changedTables();
    if (changed.length) violations.push({ kind: 'partial-write', label: changed.join(', '), detail: `refused, yet committed changes to ${changed.join(', ')}` });
  }
  if (!refused && writes) t.watch?.touched();
  if (t.after) violations.push(...(await t.after(c, sent, res)));
  const status = res.ok ? res.status : undefined;
  if (!sent.raw) t.previous = { route: `${c.route.method} ${c.route.url}`, sent, res };
  t.findings.seen(status ?? 'no answer');
  for (const v of violations) t.findings.add(v, `${c.route.method} ${c.route.url}`, sent, status);
  // Each hang costs the transport's whole timeout: past a few, the run would outlast any CI.
  if (!res.ok && /no answer within/.test(res.error) && ++t.findings.hangs >= MAX_HANGS) throw new TooManyHangs();
}

const MAX_HANGS = 10;
class TooManyHangs extends Error {}

/**
 * Runs `runs` cases of one family (the test `ctx`) and fails with every failure class found.
 * `runsVar` names the environment variable that set `runs`, for the replay line.
 */
export async function runFamily(ctx: TestContext, file: string, runsVar: string, cases: fc.Arbitrary<FuzzCase>, t: Target, runs: number): Promise<void> {
  const seed = SEED ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const pattern = ctx.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const replay = `TOLLGATE_FUZZ_SEED=${seed} ${runsVar}=${runs} npm test -- ${file} --test-name-pattern="^${pattern}$"`;
  const started = performance.now();
  const details = await fc.check(fc.asyncProperty(cases, (c) => runCase(c, t)), { numRuns: runs, seed, endOnFailure: true });
  const stopped = details.failed && details.errorInstance instanceof TooManyHangs;
  // A harness error, not a finding: say where, with the seed, without printing a 33 MiB counterexample.
  if (details.failed && !stopped) throw new Error(`fuzz harness failed in ${ctx.name} (seed ${seed}, path ${details.counterexamplePath}): ${String((details.errorInstance as Error | null)?.stack ?? 'interrupted')}`);
  const statuses = [...t.findings.statuses].sort((a, b) => String(a[0]).localeCompare(String(b[0]))).map(([s, n]) => `${s}×${n}`).join(' ');
  ctx.diagnostic(`${ctx.name}: ${details.numRuns} cases in ${((performance.now() - started) / 1000).toFixed(1)} s, seed ${seed}; statuses ${statuses}`);
  const title = stopped ? `${ctx.name}, stopped after ${MAX_HANGS} requests got no answer` : ctx.name;
  if (t.findings.size) assert.fail(t.findings.report(title, replay));
}
