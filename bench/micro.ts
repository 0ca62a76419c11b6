// `npm run bench:micro`: mitata micro-benchmarks of the hot-path pieces, imported from src/
// (issue #5): key format and hashing, the key cache, warm authentication, policy admission across
// four levels (key, member, team, org), metering a streamed response, log enqueue (with and without
// the crash journal, issue #8), and the cost of one log flush on SQLite (it runs on the event loop,
// so it is latency for every request in flight while it runs). Writes bench/results/micro.json.
//
//   node bench/micro.ts [--filter=<regex>]
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bench, group, run, do_not_optimize } from 'mitata';
import { generateKey, hashSecret, isWellFormedKey } from '../src/keys/key-format.ts';
import { KeyCache } from '../src/keys/key-cache.ts';
import { OPEN_ACCESS, type KeyContext } from '../src/keys/key-context.ts';
import { OrgAccessCache } from '../src/access/org-access.ts';
import { checkAccess, checkCaller, checkModel } from '../src/policy/access.ts';
import { OPEN_RULE } from '../src/policy/access-rules.ts';
import { ModelAccess } from '../src/policy/model-access.ts';
import { IpAllowlist } from '../src/policy/ip-allowlist.ts';
import { scopeMask } from '../src/policy/scopes.ts';
import { authenticate } from '../src/proxy/authenticate.ts';
import { SseEvents } from '../src/proxy/sse-events.ts';
import { OpenAIStreamMeter } from '../src/providers/openai-compatible/adapter.ts';
import { LogWriter, type LogRow } from '../src/usage/log-writer.ts';
import { Journal } from '../src/usage/journal.ts';
import { logSinkFor } from '../src/usage/log-sinks.ts';
import { openDb } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { ROOT } from './lib/targets.ts';
import { benchTracing, CountingExporter, tracedRequest } from './lib/trace-request.ts';
import { Counter } from 'prom-client';
import { Metrics } from '../src/observability/metrics.ts';

const filterArg = process.argv.find((a) => a.startsWith('--filter='))?.slice(9);

// ---- fixtures ----

const ctxFor = (i: number): KeyContext => ({
  keyId: i,
  lineageId: i,
  orgId: 1,
  teamId: 1 + (i % 100),
  userId: 1000 + i,
  serviceAccountId: null,
  name: `key-${i}`,
  status: 'active',
  expiresAtMs: null,
  ...OPEN_ACCESS,
});

const WARM = 100_000;
const secrets = Array.from({ length: 1000 }, () => generateKey());
const cache = new KeyCache(WARM + 1000, 10_000);
for (let i = 0; i < WARM; i++) cache.set(hashSecret(`filler-${i}`), ctxFor(i + 10_000));
secrets.forEach((s, i) => cache.set(hashSecret(s), ctxFor(i + 1)));
const malformed = 'sk-tg-' + 'x'.repeat(38);

// An OpenAI chat stream as the upstream sends it when Tollgate asked for usage: role chunk,
// 18 content chunks, finish chunk, usage chunk, [DONE] (21 events).
const head = { id: 'chatcmpl-abc123', object: 'chat.completion.chunk', created: 1_750_000_000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_0123' };
const events = [
  `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], usage: null })}`,
  ...Array.from({ length: 18 }, (_, i) => `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta: { content: ` token${i} and more` }, logprobs: null, finish_reason: null }], usage: null })}`),
  `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: null })}`,
  `data: ${JSON.stringify({ ...head, choices: [], usage: { prompt_tokens: 96, completion_tokens: 54, total_tokens: 150 } })}`,
  'data: [DONE]',
];

const logRow = (i: number): LogRow => ({
  request_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  created_at: new Date().toISOString(),
  org_id: 1,
  team_id: 1,
  user_id: 2,
  key_id: 1 + (i % 10),
  endpoint: 'chat/completions',
  model: 'gpt-4o-mini',
  provider: 'openai',
  status_code: 200,
  error_code: null,
  streamed: 0,
  tokens_in: 96,
  tokens_out: 100,
  cost_micro: 75,
  unpriced: 0,
  usage_estimated: 0,
  latency_ms: 3,
  client_ip: '127.0.0.1',
});

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tollgate-micro-'));
const db = openDb(`sqlite:${path.join(tmp, 'micro.db')}`);
const authDeps = { db, orgAccess: new OrgAccessCache(db.kysely) };
await migrate(db);
await db.kysely.insertInto('organizations').values({ name: 'o', slug: 'o', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' }).execute();
const now = Date.now();

// ---- policy admission (src/policy/engine.ts, when it exists) ----

interface AdmissionLike {
  admit(req: unknown): Promise<{ ok: boolean; ticket?: { settle(a: { tokens: number; costMicro: number }): void } }>;
}

async function policyEngine(): Promise<AdmissionLike | string> {
  const engineFile = path.join(ROOT, 'src/policy/engine.ts');
  if (!existsSync(engineFile)) return 'not yet available (src/policy/engine.ts does not exist)';
  try {
    // Loaded by path: the policy modules are being written while this harness is.
    const load = (f: string) => import(path.join(ROOT, 'src/policy', f));
    const [{ LimitsEngine }, { MemoryCounterStore }, { PolicyCache }, { Alerts }] = await Promise.all([load('engine.ts'), load('memory-store.ts'), load('policy-cache.ts'), load('alerts.ts')]);
    // Four levels with limits and budgets, written straight into the policies table (schema 0001).
    const at = new Date().toISOString();
    const row = (scope_type: string, scope_id: string, extra: Record<string, unknown>) => ({
      scope_type, scope_id, org_id: 1, rpm: null, rph: null, rpd: null, tpm: null, tpd: null, max_parallel: null,
      budget_micro: null, budget_period: null, budget_mode: null, alert_thresholds: null, updated_at: at, ...extra,
    });
    const budget = (usd: number) => ({ budget_micro: usd * 1_000_000, budget_period: 'monthly', budget_mode: 'hard', alert_thresholds: '[0.8,1]' });
    await db.kysely
      .insertInto('policies')
      .values([
        row('key', '1', { rpm: 1e9, tpm: 1e12, max_parallel: 10_000, ...budget(1e6) }),
        row('member', '1:2', { rpm: 1e9, tpm: 1e12, ...budget(2e6) }),
        row('team', '1', { rpm: 1e9, tpm: 1e12, rpd: 1e12, ...budget(5e6) }),
        row('org', '1', { rpm: 1e9, ...budget(1e7) }),
      ] as never)
      .onConflict((oc) => oc.doNothing())
      .execute();
    const engine = new LimitsEngine(new MemoryCounterStore(), new PolicyCache(db.kysely, 10_000), new Alerts(db.kysely, []), {
      slotTtlMs: 60_000,
      loadSpent: async () => 0,
      onError: () => {},
    }) as AdmissionLike;
    const probe = await engine.admit(admissionRequest());
    if (!probe.ok) return `engine refused the probe request: ${JSON.stringify(probe).slice(0, 300)}`;
    probe.ticket?.settle({ tokens: 150, costMicro: 75 });
    return engine;
  } catch (err) {
    return `not usable yet: ${(err as Error).message.split('\n')[0]}`;
  }
}

function admissionRequest() {
  // key 1 (lineage 1) of member user 2 in team 1 of org 1: the scopes key:1, member:1:2, team:1, org:1
  return { ctx: { ...ctxFor(1), teamId: 1, userId: 2 }, model: 'gpt-4o-mini', tokenBound: 1500, costBoundMicro: 400, now: Date.now() };
}

const engine = await policyEngine();

// ---- benchmarks ----

let k = 0;
group('key format', () => {
  bench('generateKey()', () => do_not_optimize(generateKey()));
  bench('isWellFormedKey(valid)', () => do_not_optimize(isWellFormedKey(secrets[k++ % 1000]!)));
  bench('isWellFormedKey(malformed)', () => do_not_optimize(isWellFormedKey(malformed)));
  bench('hashSecret() sha256 hex', () => do_not_optimize(hashSecret(secrets[k++ % 1000]!)));
});

group(`key cache (${WARM.toLocaleString('en')} entries)`, () => {
  const hashes = secrets.map(hashSecret);
  bench('KeyCache.get hit (LRU refresh)', () => do_not_optimize(cache.get(hashes[k++ % 1000]!)));
  bench('KeyCache.get miss', () => do_not_optimize(cache.get('0'.repeat(64))));
  // A full cache taking new keys (more live keys than TOLLGATE_KEY_CACHE_SIZE, or a flood of
  // unknown keys into the negative cache): every set evicts the oldest entry.
  const churn = new KeyCache(WARM, 10_000);
  const fresh = Array.from({ length: 2 * WARM }, (_, i) => hashSecret(`churn-${i}`));
  for (let i = 0; i < WARM; i++) churn.set(fresh[i]!, ctxFor(i));
  let c = WARM;
  bench('KeyCache.set with eviction (full, churning)', () => churn.set(fresh[c++ % fresh.length]!, ctxFor(c)));
});

group('authenticate (warm: format check + sha256 + cache hit, no DB)', () => {
  bench('authenticate(warm key)', async () => do_not_optimize(await authenticate(authDeps, cache, secrets[k++ % 1000]!, now)));
  bench('authenticate(malformed key)', async () => do_not_optimize(await authenticate(authDeps, cache, malformed, now)));
});

// The realistic policy's access rules (bench/setup.ts): the key restricted to two models, the team
// to a pattern, the org blocking one, and a loopback IP allowlist; checked once per request.
const restricted: KeyContext = {
  ...ctxFor(1),
  scopes: scopeMask('chat embeddings'),
  models: ModelAccess.forKey(
    { org: { ...OPEN_RULE, blockedModels: ['o1-pro'] }, teams: new Map([[1, { ...OPEN_RULE, models: ['gpt-4o*'] }]]), groups: new Map() },
    1,
    { ...OPEN_RULE, models: ['gpt-4o-mini', 'gpt-4o'], ipAllowlist: ['127.0.0.0/8', '::1/128'] },
  ),
  ip: new IpAllowlist([{ level: 'key', cidrs: ['127.0.0.0/8', '::1/128'] }]),
};
group('access checks per request (status, scope, IP allowlist, model set), warm key', () => {
  bench('checkAccess + checkCaller + checkModel (restricted key)', () => {
    do_not_optimize(checkAccess(restricted, now));
    do_not_optimize(checkCaller(restricted, 1, 'chat', '127.0.0.1'));
    do_not_optimize(checkModel(restricted, 'gpt-4o-mini'));
  });
  const open = ctxFor(2);
  bench('the same, open key', () => {
    do_not_optimize(checkAccess(open, now));
    do_not_optimize(checkCaller(open, 1, 'chat', '127.0.0.1'));
    do_not_optimize(checkModel(open, 'gpt-4o-mini'));
  });
});

if (typeof engine !== 'string') {
  group('policy admission, four levels (key, member, team, org), memory counter store', () => {
    bench('admit + settle', async () => {
      const r = await engine.admit(admissionRequest());
      r.ticket?.settle({ tokens: 150, costMicro: 75 });
    });
  });
}

group(`usage metering of a streamed response (${events.length} SSE events)`, () => {
  const eventBytes = events.map((e) => Buffer.from(e));
  bench('OpenAIStreamMeter: all events + result()', () => {
    const m = new OpenAIStreamMeter(true, 100);
    for (const e of eventBytes) m.onEvent(e);
    return do_not_optimize(m.result());
  });
  // As forward.ts relays it: the stream's bytes in the upstream's chunks, split into events on the
  // bytes. Providers flush an event at a time; a proxy on the way may cut them anywhere.
  const wire = Buffer.from(events.map((e) => e + '\n\n').join(''));
  const perEvent = events.map((e) => Buffer.from(e + '\n\n'));
  const cut256 = Array.from({ length: Math.ceil(wire.length / 256) }, (_, i) => wire.subarray(i * 256, (i + 1) * 256));
  for (const [what, chunks] of [['an event per chunk', perEvent], [`${cut256.length} chunks of 256 bytes`, cut256]] as const) {
    bench(`SseEvents.take, ${what}, + meter result()`, () => {
      const m = new OpenAIStreamMeter(true, 100);
      const sse = new SseEvents(m);
      let pieces = 0;
      for (const c of chunks) pieces += sse.take(c).length;
      sse.end();
      return do_not_optimize(pieces + (m.result().usage?.tokensOut ?? 0));
    });
  }
});

let journal: Journal | undefined;
group('request log', () => {
  const writer = new LogWriter(logSinkFor(db), { flushMs: 1e9, batchSize: 500, queueMax: 1e9 });
  const rows = Array.from({ length: 1024 }, (_, i) => logRow(i));
  bench('LogWriter.enqueue ×1024 (queue not full)', function* () {
    yield {
      [0]() {
        return writer;
      },
      bench(w: LogWriter) {
        for (let i = 0; i < 1024; i++) w.enqueue(rows[i]!);
        (w as unknown as { queue: LogRow[] }).queue.length = 0;
      },
    };
  });
  // The bounded queue at its cap (database unreachable): every enqueue drops the oldest row.
  const full = new LogWriter(logSinkFor(db), { flushMs: 1e9, batchSize: 500, queueMax: 200_000 });
  for (let i = 0; i < 200_000; i++) full.enqueue(rows[i % 1024]!);
  bench('LogWriter.enqueue ×1024 at queueMax 200,000 (DB down)', () => {
    for (let i = 0; i < 1024; i++) full.enqueue(rows[i]!);
  });
  // The journal (issue #8): every enqueue also appends its row to a file in the data dir with one
  // write() — the per-request cost of surviving kill -9. Segments rotate every 4 MiB; past 64 MiB
  // the oldest go (here nothing is committed, so that bound does the cleaning).
  journal = new Journal({ dir: path.join(tmp, 'journal'), fsyncMs: 1000, maxBytes: 64 * 1024 * 1024 });
  journal.start(1);
  const journaled = new LogWriter(logSinkFor(db), { flushMs: 1e9, batchSize: 500, queueMax: 1e9, journal, firstSeq: 1 });
  bench('LogWriter.enqueue ×1024 with the journal (one write() per row)', function* () {
    yield {
      [0]() {
        return journaled;
      },
      bench(w: LogWriter) {
        for (let i = 0; i < 1024; i++) w.enqueue(rows[i]!);
        const q = w as unknown as { queue: LogRow[]; base: number };
        q.base += q.queue.length; // keeps the rows' sequence numbers growing, as in a real run
        q.queue.length = 0;
      },
    };
  });
  let seq = 1e9;
  // A journal whose file writes are left out, to time the flush's own work.
  const markOnly = Object.assign(Object.create(Journal.prototype) as Journal, { id: 'bench', append() {}, committed() {} });
  bench('Journal.append (one row: encode + write())', () => journal!.append(seq++, rows[seq % 1024]!));
  const flusher = new LogWriter(logSinkFor(db), { flushMs: 1e9, batchSize: 500, queueMax: 1e9 });
  bench('LogWriter flush of 250 rows to SQLite (blocks the event loop)', async () => {
    for (let i = 0; i < 250; i++) flusher.enqueue(rows[i]!);
    await flusher.flush();
  });
  // As embedded mode writes a batch since issue #8: the same rows, plus their usage per scope and
  // minute (rate windows are rebuilt from it after a restart) and the journal mark.
  const embedded = new LogWriter(logSinkFor(db, { usageMinutes: true }), { flushMs: 1e9, batchSize: 500, queueMax: 1e9, journal: markOnly, firstSeq: 1 });
  bench('LogWriter flush of 250 rows to SQLite + usage_minutes + journal mark (embedded mode)', async () => {
    for (let i = 0; i < 250; i++) embedded.enqueue(rows[i]!);
    await embedded.flush();
  });
});

// Prometheus metrics (issue 11): what every /v1 request adds, from the row it logs, once its series
// exist; prom-client's own labelled child is timed beside it (it re-hashes its labels per call).
group('metrics per /v1 request', () => {
  const metrics = new Metrics({ token: undefined, teamLimit: 200, modelLimit: 100, budgetSeries: 0, budgetCacheMs: 10_000 }, () => {
    throw new Error('the benchmark does not scrape');
  });
  const rows: LogRow[] = Array.from({ length: 1024 }, (_, i) => ({ ...logRow(i), team_id: 1 + (i % 50), model: i % 2 ? 'gpt-4o-mini' : 'gpt-4o', streamed: i % 2, cached_tokens: 16, reasoning_tokens: 0, upstream_ms: 120, ttfb_ms: 30 }));
  const refused: LogRow = { ...logRow(0), provider: null, status_code: 429, error_code: 'budget_exceeded', tokens_in: 0, tokens_out: 0, cost_micro: null };
  for (const r of rows) metrics.request(r);
  metrics.request(refused, 'team');
  let m = 0;
  bench('Metrics.request(row): 200, 50 teams × 2 models', () => metrics.request(rows[m++ & 1023]!));
  bench('Metrics.request(row, level): an admission refusal', () => metrics.request(refused, 'team'));
  const child = new Counter({ name: 'bench_child_total', help: 'comparison', labelNames: ['team', 'model', 'status_code'], registers: [] }).labels('1', 'gpt-4o', '200');
  bench("prom-client labelled child inc() (one counter, for comparison)", () => child.inc());
});

// Traces (issue 11): one answered request's tracing calls. Off, the hot path's only cost is its null
// checks. On: 5 spans (request, authenticate, admit, upstream, settle) per request through the batch
// span processor into memory, 64 requests per iteration with an await between, so the processor's
// exports complete as they do in the server (divide by 64; "off ×64" is the loop's own cost).
group('tracing per /v1 request', () => {
  const tracing = benchTracing(new CountingExporter());
  const plain = { authorization: 'Bearer sk-tg-bench' };
  const withParent = { ...plain, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
  // Warm (compiled) before timing, as a server is after its first requests.
  for (let i = 0; i < 2000; i++) tracedRequest(tracing, i & 1 ? plain : withParent);
  const times64 = (t: typeof tracing | null, h: Record<string, string>) => async () => {
    for (let i = 0; i < 64; i++) do_not_optimize(tracedRequest(t, h));
  };
  bench('tracing off (deps.tracing null)', () => do_not_optimize(tracedRequest(null, plain)));
  bench('tracing off ×64', times64(null, plain));
  bench('tracing on ×64: new traces', times64(tracing, plain));
  bench('tracing on ×64: under a client traceparent', times64(tracing, withParent));
});

const filter = filterArg ? new RegExp(filterArg) : /.*/;
if (typeof engine === 'string') process.stdout.write(`policy admission across four levels: ${engine}\n\n`);
const { benchmarks } = await run({ filter, colors: Boolean(process.stdout.isTTY) });
const results = benchmarks.flatMap((b) =>
  b.runs.map((r) => {
    const s = r.stats;
    return { name: r.name, avgNs: s?.avg, p50Ns: s?.p50, p99Ns: s?.p99, minNs: s?.min, maxNs: s?.max, samples: s?.samples.length };
  }),
);
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  path.join(ROOT, 'bench/results/micro.json'),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.availableParallelism(), policyAdmission: typeof engine === 'string' ? engine : 'measured', results }, null, 2) + '\n',
);
journal?.close();
await db.close();
rmSync(tmp, { recursive: true, force: true });
process.stdout.write('\nwrote bench/results/micro.json\n');
