// GET /metrics after real traffic (the official openai SDK against the fake upstream): the
// documented series with their exact values, the optional bearer token, the bound on label values,
// and the Grafana dashboard in deploy/ querying only series a scrape has.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DIALECTS, dialectSkip, startGateway, type Dialect, type Gateway } from './support/gateway.ts';
import { promptTokens } from './support/fake-upstream.ts';
import { serviceSkip, testRedisUrl } from './support/services.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const HI = [{ role: 'user' as const, content: 'hi' }];
const PROMPT = promptTokens(HI); // the fake's prompt tokens for HI
const REPLY = 12; // the fake's completion tokens when max_tokens is not set

// gpt-credits: $0.50 per output token, so a reply costs $6 and a request is bounded at $6.
// mini-cached-reasoning: $0.001 per input token, $0.002 per output token; the fake reports half
// of its prompt as cached and half of its reply as reasoning (test/support/fake-kit.ts).
const PRICING = {
  'gpt-credits': { input: 0, output: 500_000_000_000, maxOutputTokens: REPLY },
  'mini-cached-reasoning': { input: 1_000_000_000, output: 2_000_000_000, maxOutputTokens: 100 },
};

async function gateway(dialect: Dialect, env: Record<string, string> = {}): Promise<Gateway> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tollgate-metrics-')), 'config.json');
  writeFileSync(file, JSON.stringify({ pricing: PRICING }));
  // Budget readings are cached for TOLLGATE_METRICS_BUDGET_CACHE_MS; 0 reads at every scrape.
  return startGateway({ dialect, env: { TOLLGATE_CONFIG: file, TOLLGATE_METRICS_BUDGET_CACHE_MS: '0', ...env } });
}

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses the Prometheus text format (what prom-client writes: no timestamps, no exemplars). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the series with exactly these labels (undefined: no such series). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  const hit = samples.find((s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v));
  return hit?.value;
}

async function scrape(gw: Gateway, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(gw.url + '/metrics', { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    return (err as { status: number }).status;
  }
}

// PostgreSQL runs in cluster mode (with Redis), as it is deployed: the Redis ping is then reported too.
for (const dialect of DIALECTS) {
  const cluster = dialect === 'postgres';
  describe(`GET /metrics after traffic (${cluster ? 'postgres + redis' : dialect})`, { skip: dialectSkip(dialect) || (cluster && serviceSkip('redis')) }, () => {
    let gw: Gateway;
    let teamA: number;
    let teamB: number;
    let keyB: number;
    let samples: Sample[];
    before(async () => {
      gw = await gateway(dialect, cluster ? { TOLLGATE_REDIS_URL: testRedisUrl()!, TOLLGATE_REDIS_PREFIX: `tg-metrics-${process.pid}:` } : {});
      teamA = (await gw.api('POST', '/api/teams', { name: 'A', max_budget_usd: 15 })).body.id;
      teamB = (await gw.api('POST', '/api/teams', { name: 'B' })).body.id;
      const a = gw.openai((await gw.api('POST', `/api/teams/${teamA}/keys`, { name: 'a' })).body.key);
      const kb = (await gw.api('POST', `/api/teams/${teamB}/keys`, { name: 'b', max_budget_usd: 1 })).body;
      keyB = kb.id;
      const b = gw.openai(kb.key);
      // Team A: $6, then $6 streamed, then refused by the team's $15 budget ($12 spent + $6 bound).
      assert.equal(await status(a.chat.completions.create({ model: 'gpt-credits', messages: HI })), 200);
      const stream = await a.chat.completions.create({ model: 'gpt-credits', messages: HI, stream: true });
      for await (const _ of stream);
      assert.equal(await status(a.chat.completions.create({ model: 'gpt-credits', messages: HI })), 429);
      // Team B: one request of its key, under the key's $1 budget.
      assert.equal(await status(b.chat.completions.create({ model: 'mini-cached-reasoning', messages: HI })), 200);
      await gw.flush();
      samples = await scrape(gw);
    });
    after(() => gw?.close());

    test('requests by team, model and status; refusals by code and level', () => {
      const a = { team: String(teamA), model: 'gpt-credits' };
      assert.equal(value(samples, 'tollgate_requests_total', { ...a, status_code: '200', status_class: '2xx' }), 2);
      assert.equal(value(samples, 'tollgate_requests_total', { ...a, status_code: '429', status_class: '4xx' }), 1);
      assert.equal(value(samples, 'tollgate_requests_total', { team: String(teamB), model: 'mini-cached-reasoning', status_code: '200', status_class: '2xx' }), 1);
      assert.equal(samples.filter((s) => s.name === 'tollgate_requests_total').reduce((n, s) => n + s.value, 0), 4);
      assert.equal(value(samples, 'tollgate_admission_refusals_total', { team: String(teamA), code: 'budget_exceeded', level: 'team' }), 1);
      assert.equal(samples.filter((s) => s.name === 'tollgate_admission_refusals_total').length, 1);
    });

    test('tokens (input, output, cached, reasoning) and spend in USD', () => {
      const a = { team: String(teamA), model: 'gpt-credits' };
      const b = { team: String(teamB), model: 'mini-cached-reasoning' };
      assert.equal(value(samples, 'tollgate_tokens_total', { ...a, type: 'input' }), 2 * PROMPT);
      assert.equal(value(samples, 'tollgate_tokens_total', { ...a, type: 'output' }), 2 * REPLY);
      assert.equal(value(samples, 'tollgate_tokens_total', { ...a, type: 'cached' }), 0);
      assert.equal(value(samples, 'tollgate_tokens_total', { ...b, type: 'input' }), PROMPT);
      assert.equal(value(samples, 'tollgate_tokens_total', { ...b, type: 'output' }), REPLY);
      assert.equal(value(samples, 'tollgate_tokens_total', { ...b, type: 'cached' }), Math.floor(PROMPT / 2));
      assert.equal(value(samples, 'tollgate_tokens_total', { ...b, type: 'reasoning' }), Math.floor(REPLY / 2));
      assert.equal(value(samples, 'tollgate_spend_usd_total', a), 12);
      assert.equal(value(samples, 'tollgate_spend_usd_total', b), (PROMPT * 1000 + REPLY * 2000) / 1e6);
      assert.equal(value(samples, 'tollgate_unpriced_requests_total', a), 0);
    });

    test('remaining budgets per team and per key, after the spend', () => {
      assert.equal(value(samples, 'tollgate_team_budget_usd', { team: String(teamA) }), 15);
      assert.equal(value(samples, 'tollgate_remaining_team_budget_usd', { team: String(teamA) }), 3);
      assert.equal(value(samples, 'tollgate_remaining_team_budget_usd', { team: String(teamB) }), undefined, 'no budget, no series');
      const k = { key: String(keyB), team: String(teamB) };
      assert.equal(value(samples, 'tollgate_key_budget_usd', k), 1);
      assert.equal(value(samples, 'tollgate_remaining_key_budget_usd', k), (1_000_000 - (PROMPT * 1000 + REPLY * 2000)) / 1e6);
      assert.equal(value(samples, 'tollgate_budget_series_truncated', { scope: 'key' }), 0);
    });

    test('GenAI histograms: token usage, upstream duration, time to first token (streams); overhead', () => {
      const g = { gen_ai_operation_name: 'chat', gen_ai_provider_name: 'openai', gen_ai_request_model: 'gpt-credits' };
      assert.equal(value(samples, 'gen_ai_client_token_usage_count', { ...g, gen_ai_token_type: 'output' }), 2);
      assert.equal(value(samples, 'gen_ai_client_token_usage_sum', { ...g, gen_ai_token_type: 'output' }), 2 * REPLY);
      assert.equal(value(samples, 'gen_ai_client_token_usage_sum', { ...g, gen_ai_token_type: 'input' }), 2 * PROMPT);
      // 12 tokens: in the (4, 16] bucket, so the le="4" bucket has none and le="16" both.
      assert.equal(value(samples, 'gen_ai_client_token_usage_bucket', { ...g, gen_ai_token_type: 'output', le: '4' }), 0);
      assert.equal(value(samples, 'gen_ai_client_token_usage_bucket', { ...g, gen_ai_token_type: 'output', le: '16' }), 2);
      assert.equal(value(samples, 'gen_ai_client_operation_duration_seconds_count', g), 2);
      assert.equal(value(samples, 'gen_ai_server_time_to_first_token_seconds_count', g), 1, 'the streamed request only');
      assert.equal(value(samples, 'gen_ai_client_operation_duration_seconds_bucket', { ...g, le: '+Inf' }), 2);
      assert.equal(value(samples, 'tollgate_overhead_latency_seconds_count', { model: 'gpt-credits' }), 2);
      assert.ok(value(samples, 'gen_ai_client_operation_duration_seconds_sum', g)! >= 0);
    });

    test('log queue, key cache, dependencies, process', () => {
      assert.equal(value(samples, 'tollgate_log_queue_depth'), 0);
      assert.equal(value(samples, 'tollgate_log_rows_written_total'), 4);
      assert.equal(value(samples, 'tollgate_log_rows_dropped_total'), 0);
      const hits = value(samples, 'tollgate_key_cache_lookups_total', { result: 'hit' })!;
      const misses = value(samples, 'tollgate_key_cache_lookups_total', { result: 'miss' })!;
      assert.equal(misses, 2, 'each key loaded once');
      assert.equal(hits + misses, 4);
      assert.equal(value(samples, 'tollgate_key_cache_entries'), 2);
      assert.equal(value(samples, 'tollgate_requests_in_flight'), 0);
      assert.equal(value(samples, 'tollgate_dependency_up', { dependency: 'database' }), 1);
      assert.equal(value(samples, 'tollgate_dependency_up', { dependency: 'redis' }), cluster ? 1 : undefined);
      assert.ok(value(samples, 'process_cpu_user_seconds_total')! > 0);
      assert.ok(value(samples, 'nodejs_heap_size_used_bytes')! > 0);
    });

    test("docs/observability.md's table lists exactly the series a scrape has, with their types", { skip: dialect !== 'sqlite' && 'one dialect is enough' }, async () => {
      const text = await (await fetch(gw.url + '/metrics')).text();
      const own = (name: string) => /^(tollgate|gen_ai)_/.test(name);
      const served = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].filter((m) => own(m[1]!)).map((m) => [m[1]!, m[2]!]));
      const doc = readFileSync(path.join(ROOT, 'docs/observability.md'), 'utf8');
      const metrics = doc.slice(doc.indexOf('## Metrics'), doc.indexOf('\n## ', doc.indexOf('## Metrics') + 1));
      const documented = new Map([...metrics.matchAll(/^\| `([a-z0-9_]+)` \| (counter|gauge|histogram) \|/gm)].filter((m) => own(m[1]!)).map((m) => [m[1]!, m[2]!]));
      assert.ok(served.size >= 20, `${served.size} series served`);
      assert.deepEqual(Object.fromEntries([...documented].sort()), Object.fromEntries([...served].sort()));
    });

    test('the Grafana dashboard parses and queries only series this scrape has', { skip: dialect !== 'sqlite' && 'one dialect is enough' }, () => {
      const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/tollgate-dashboard.json'), 'utf8'));
      assert.equal(typeof dashboard.title, 'string');
      assert.equal(typeof dashboard.uid, 'string');
      const exprs: string[] = [];
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') {
          for (const [k, x] of Object.entries(v)) {
            if ((k === 'expr' || k === 'query') && typeof x === 'string') exprs.push(x);
            else walk(x);
          }
        }
      };
      walk(dashboard);
      assert.ok(exprs.length >= 15, `${exprs.length} queries`);
      const names = new Set(samples.map((s) => s.name));
      // Metric names: what is left once label matchers {…} and label lists by (…), on (…) … are removed.
      const bare = (e: string) => e.replace(/\{[^}]*\}/g, '').replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
      const queried = new Set(exprs.flatMap((e) => [...bare(e).matchAll(/\b((?:tollgate|gen_ai|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!)));
      assert.ok(queried.size >= 15, [...queried].join(' '));
      for (const name of queried) assert.ok(names.has(name), `the dashboard queries ${name}, which the scrape does not have`);
    });
  });
}

describe('GET /metrics with TOLLGATE_METRICS_TOKEN', () => {
  const TOKEN = 'metrics-token-0123456789-secret';
  let gw: Gateway;
  before(async () => {
    gw = await gateway('sqlite', { TOLLGATE_METRICS_TOKEN: TOKEN });
  });
  after(() => gw?.close());

  test('401 without the token or with another; 200 with it; the token is never echoed', async () => {
    const none = await fetch(gw.url + '/metrics');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const noneBody = await none.text();
    assert.equal(JSON.parse(noneBody).error.code, 'missing_credentials');
    assert.equal(JSON.parse(noneBody).error.param, 'authorization');
    const wrong = await fetch(gw.url + '/metrics', { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    const wrongBody = await wrong.text();
    assert.deepEqual(JSON.parse(wrongBody).error, { message: 'Invalid metrics token.', type: 'authentication_error', code: 'invalid_api_key', param: 'authorization' });
    const admin = await fetch(gw.url + '/metrics', { headers: { 'x-admin-key': TOKEN } });
    assert.equal(admin.status, 401, 'only the bearer header carries it');
    const ok = await fetch(gw.url + '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('www-authenticate'), null);
    const text = await ok.text();
    assert.match(text, /# TYPE tollgate_requests_total counter/);
    for (const body of [noneBody, wrongBody, text]) assert.ok(!body.includes(TOKEN));
  });
});

describe('label values and budget series are bounded', () => {
  let gw: Gateway;
  before(async () => {
    gw = await gateway('sqlite', { TOLLGATE_METRICS_TEAM_LIMIT: '2', TOLLGATE_METRICS_MODEL_LIMIT: '2', TOLLGATE_METRICS_BUDGET_SERIES: '1' });
  });
  after(() => gw?.close());

  test("teams past TOLLGATE_METRICS_TEAM_LIMIT and models past TOLLGATE_METRICS_MODEL_LIMIT are 'other'; invented models take no slot; budget gauges show at most TOLLGATE_METRICS_BUDGET_SERIES", async () => {
    const teams: number[] = [];
    const keys: number[] = [];
    const clients = [];
    // t1 and t2 and their keys have budgets (for the budget series bound, below); t3 none.
    for (const [i, name] of ['t1', 't2', 't3'].entries()) {
      const budget = i < 2 ? { max_budget_usd: 100 } : {};
      const id = (await gw.api('POST', '/api/teams', { name, ...budget })).body.id;
      teams.push(id);
      const key = (await gw.api('POST', `/api/teams/${id}/keys`, { name, ...budget })).body;
      keys.push(key.id);
      clients.push(gw.openai(key.key));
    }
    const [c1, c2, c3] = clients;
    // A body the gateway refuses before routing: its model name reaches no provider.
    assert.equal(await status(c1!.chat.completions.create({ model: 'invented-model', messages: 'not an array' as never })), 400);
    for (const c of clients) assert.equal(await status(c.chat.completions.create({ model: 'gpt-4o', messages: HI })), 200);
    assert.equal(await status(c2!.chat.completions.create({ model: 'gpt-4o-mini', messages: HI })), 200);
    assert.equal(await status(c3!.chat.completions.create({ model: 'gpt-4.1', messages: HI })), 200);
    const samples = await scrape(gw);
    const requests = samples.filter((s) => s.name === 'tollgate_requests_total');
    assert.deepEqual(new Set(requests.map((s) => s.labels.team)), new Set([String(teams[0]), String(teams[1]), 'other']));
    assert.deepEqual(new Set(requests.map((s) => s.labels.model)), new Set(['gpt-4o', 'gpt-4o-mini', 'other']));
    const count = (labels: Record<string, string>) => requests.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
    assert.equal(count({ team: 'other' }), 2, "the third team's two requests");
    assert.equal(count({ model: 'other' }), 2, 'the invented model and gpt-4.1');
    assert.equal(count({ team: 'other', model: 'gpt-4o' }), 1);
    const histogramModels = new Set(samples.filter((s) => s.name === 'gen_ai_client_operation_duration_seconds_count').map((s) => s.labels.gen_ai_request_model));
    assert.deepEqual(histogramModels, new Set(['gpt-4o', 'gpt-4o-mini', 'other']));

    // TOLLGATE_METRICS_BUDGET_SERIES=1: the budgeted team with the lowest id, and the budgeted key
    // used last (t2's: its gpt-4o-mini request came after t1's only one); the gauge says so.
    await gw.flush();
    const budgets = await scrape(gw);
    const series = (name: string) => budgets.filter((s) => s.name === name).map((s) => s.labels);
    assert.deepEqual(series('tollgate_remaining_team_budget_usd'), [{ team: String(teams[0]) }]);
    assert.deepEqual(series('tollgate_remaining_key_budget_usd'), [{ key: String(keys[1]), team: String(teams[1]) }]);
    assert.equal(value(budgets, 'tollgate_budget_series_truncated', { scope: 'team' }), 1);
    assert.equal(value(budgets, 'tollgate_budget_series_truncated', { scope: 'key' }), 1);
  });
});
