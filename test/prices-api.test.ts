// /api/prices: what prices apply (shipped, config, the organization's own), setting and deleting
// the organization's own, and their effect on the very next /v1 request's logged cost — no restart;
// an unpriced model stays flagged (cost null), never $0, until someone prices it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { serviceSkip } from './support/services.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { clusterEnv, startReplica, type Replica } from './support/replicas.ts';

/** Micro-USD cost of tokens at USD-per-1M prices, rounded up as Tollgate rounds. */
const expectedCost = (tokensIn: number, tokensOut: number, inUsd: number, outUsd: number) => Math.ceil((tokensIn * Math.round(inUsd * 1e6) + tokensOut * Math.round(outUsd * 1e6)) / 1e6);

for (const dialect of DIALECTS) describe(`/api/prices (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let key: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-prices-'));
    const file = path.join(dir, 'config.json');
    // An operator's config price: listed as 'config', over the shipped one for gpt-4.1.
    writeFileSync(file, JSON.stringify({ pricing: { 'house-model': { input: 1_000_000, output: 2_000_000 }, 'gpt-4.1': { input: 3_000_000, output: 9_000_000 } } }));
    gw = await startGateway({ dialect, env: { TOLLGATE_CONFIG: file } });
    const team = (await gw.api('POST', '/api/teams', { name: 'Pricing team' })).body;
    key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'pricing key' })).body.key;
  });
  after(async () => {
    await gw?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One chat request, then its log row (flushed). */
  async function ask(model: string) {
    const res = await gw.openai(key).chat.completions.create({ model, messages: [{ role: 'user', content: `price me ${model}` }] });
    assert.equal(res.object, 'chat.completion');
    await gw.flush();
    const row = await gw.runtime.deps.db.kysely.selectFrom('request_logs').select(['model', 'tokens_in', 'tokens_out', 'cached_tokens', 'cost_micro', 'unpriced']).where('model', '=', model).orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.ok(row.tokens_in > 0 && row.tokens_out > 0, 'the fake reported usage');
    return row;
  }

  test('GET lists shipped prices with their page and date, config prices, and filters', async () => {
    const all = await gw.api('GET', '/api/prices');
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.match(all.body.shipped_as_of, /^\d{4}-\d{2}-\d{2}$/);
    const byModel = new Map(all.body.data.map((p: any) => [p.model, p]));
    const mini: any = byModel.get('gpt-4o-mini');
    assert.deepEqual({ in: mini.input_per_1m_usd, out: mini.output_per_1m_usd, cached: mini.cached_input_per_1m_usd, source: mini.source, provider: mini.provider }, { in: 0.15, out: 0.6, cached: 0.075, source: 'shipped', provider: 'openai' });
    assert.match(mini.source_url, /^https:\/\/openai\.com\//);
    assert.match(mini.as_of, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal((byModel.get('house-model') as any).source, 'config');
    assert.deepEqual([(byModel.get('gpt-4.1') as any).source, (byModel.get('gpt-4.1') as any).input_per_1m_usd], ['config', 3]);
    assert.ok(byModel.has('claude-sonnet-4-5') && byModel.has('gemini-2.5-pro') && byModel.has('deepseek-chat'));

    const sonnet = await gw.api('GET', '/api/prices?q=SONNET-4.5');
    assert.deepEqual(sonnet.body.data.map((p: any) => p.model), ['claude-sonnet-4-5'], 'found by its OpenRouter alias, any case');
    const config = await gw.api('GET', '/api/prices?source=config');
    assert.deepEqual(config.body.data.map((p: any) => p.model), ['gpt-4.1', 'house-model']);
    const bad = await gw.api('GET', '/api/prices?source=vendor');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, 'query.source');
  });

  test('PUT refuses bad prices naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ output_per_1m_usd: 1 }, 'input_per_1m_usd'],
      [{ input_per_1m_usd: 1 }, 'output_per_1m_usd'],
      [{ input_per_1m_usd: -0.5, output_per_1m_usd: 1 }, 'input_per_1m_usd'],
      [{ input_per_1m_usd: 1, output_per_1m_usd: 1e7 }, 'output_per_1m_usd'],
      [{ input_per_1m_usd: '2.50', output_per_1m_usd: 1 }, 'input_per_1m_usd'],
      [{ input_per_1m_usd: 1, output_per_1m_usd: 1, cached_input_per_1m_usd: 0.00000001 }, 'cached_input_per_1m_usd'],
      [{ input_per_1m_usd: 1, output_per_1m_usd: 1, max_output_tokens: 1.5 }, 'max_output_tokens'],
      [{ input_per_1m_usd: 1, output_per_1m_usd: 1, currency: 'EUR' }, 'currency'],
    ];
    for (const [body, field] of cases) {
      const res = await gw.api('PUT', '/api/prices/some-model', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.param, field, JSON.stringify(res.body));
      assert.match(res.body.error.message, new RegExp(`^${field}: `));
    }
    const spaced = await gw.api('PUT', '/api/prices/bad%20name', { input_per_1m_usd: 1, output_per_1m_usd: 1 });
    assert.equal(spaced.status, 400);
    assert.equal(spaced.body.error.param, 'model');
    assert.equal((await gw.api('GET', '/api/prices?source=organization')).body.data.length, 0, 'nothing half-written');
  });

  test('PUT and DELETE names holding / and :, audited before and after', async () => {
    const put = await gw.api('PUT', '/api/prices/openai%2Fgpt-4o', { input_per_1m_usd: 2, output_per_1m_usd: 8, cached_input_per_1m_usd: 0.5, max_output_tokens: 4096, note: 'negotiated' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(
      { model: put.body.model, in: put.body.input_per_1m_usd, out: put.body.output_per_1m_usd, cached: put.body.cached_input_per_1m_usd, max: put.body.max_output_tokens, source: put.body.source, note: put.body.note },
      { model: 'openai/gpt-4o', in: 2, out: 8, cached: 0.5, max: 4096, source: 'organization', note: 'negotiated' },
    );
    assert.deepEqual(put.body.replaces, { source: 'shipped', input_per_1m_usd: 2.5, output_per_1m_usd: 10, cached_input_per_1m_usd: 1.25 });
    const stored = await gw.runtime.deps.db.kysely.selectFrom('model_prices').selectAll().where('model', '=', 'openai/gpt-4o').executeTakeFirstOrThrow();
    assert.deepEqual([stored.input_micro, stored.output_micro, stored.cached_input_micro], [2_000_000, 8_000_000, 500_000], 'stored as integer micro-USD');

    const again = await gw.api('PUT', '/api/prices/openai%2Fgpt-4o', { input_per_1m_usd: 2.25, output_per_1m_usd: 8 });
    assert.equal(again.status, 200);
    assert.equal(again.body.cached_input_per_1m_usd, null, 'a PUT replaces the whole price');
    const colon = await gw.api('PUT', '/api/prices/llama3%3A8b', { input_per_1m_usd: 0, output_per_1m_usd: 0.1 });
    assert.equal(colon.status, 200);
    assert.equal(colon.body.model, 'llama3:8b');
    assert.equal(colon.body.replaces, null);
    const own = await gw.api('GET', '/api/prices?source=organization');
    assert.deepEqual(own.body.data.map((p: any) => p.model), ['llama3:8b', 'openai/gpt-4o']);

    const del = await gw.api('DELETE', '/api/prices/openai%2Fgpt-4o');
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual([del.body.deleted, del.body.now.model, del.body.now.source, del.body.now.input_per_1m_usd], [true, 'gpt-4o', 'shipped', 2.5]);
    const gone = await gw.api('DELETE', '/api/prices/openai%2Fgpt-4o');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.param, 'model');
    assert.equal((await gw.api('DELETE', '/api/prices/gpt-4o-mini')).status, 404, 'a shipped price is not the organization\'s to delete');
    const delColon = await gw.api('DELETE', '/api/prices/llama3%3A8b');
    assert.equal(delColon.body.now, null, 'back to unpriced');

    const audit = await gw.api('GET', '/api/audit?target_type=price');
    assert.equal(audit.status, 200);
    const events = audit.body.data.filter((e: any) => e.target_id === 'openai/gpt-4o').map((e: any) => e.action).sort();
    assert.deepEqual(events, ['price.create', 'price.delete', 'price.update']);
    const update = audit.body.data.find((e: any) => e.action === 'price.update');
    assert.equal(update.before.input_per_1m_usd, 2);
    assert.equal(update.after.input_per_1m_usd, 2.25);
  });

  test('an override prices the very next request; deleting it restores the shipped price', async () => {
    const first = await ask('gpt-4o-mini');
    assert.equal(first.unpriced, 0);
    assert.equal(first.cost_micro, expectedCost(first.tokens_in, first.tokens_out, 0.15, 0.6), 'the shipped price');

    assert.equal((await gw.api('PUT', '/api/prices/gpt-4o-mini', { input_per_1m_usd: 100, output_per_1m_usd: 400 })).status, 200);
    const overridden = await ask('gpt-4o-mini');
    assert.equal(overridden.cost_micro, expectedCost(overridden.tokens_in, overridden.tokens_out, 100, 400), 'the organization\'s price, no restart');
    const dated = await ask('gpt-4o-mini-2024-07-18');
    assert.equal(dated.cost_micro, expectedCost(dated.tokens_in, dated.tokens_out, 100, 400), 'a dated name follows the override');

    assert.equal((await gw.api('DELETE', '/api/prices/gpt-4o-mini')).status, 200);
    const restored = await ask('gpt-4o-mini');
    assert.equal(restored.cost_micro, expectedCost(restored.tokens_in, restored.tokens_out, 0.15, 0.6), 'the shipped price again');
  });

  test('an unpriced model is flagged with no cost (never $0) until it is priced', async () => {
    const model = 'in-house-unlisted-model';
    const unpriced = await ask(model);
    assert.equal(unpriced.cost_micro, null);
    assert.equal(unpriced.unpriced, 1);
    assert.equal((await gw.api('PUT', `/api/prices/${model}`, { input_per_1m_usd: 7, output_per_1m_usd: 21 })).status, 200);
    const priced = await ask(model);
    assert.equal(priced.unpriced, 0);
    assert.equal(priced.cost_micro, expectedCost(priced.tokens_in, priced.tokens_out, 7, 21));
    const logs = await gw.api('GET', `/api/logs?model=${model}`);
    assert.deepEqual(logs.body.data.map((l: any) => l.unpriced), [false, true], 'the logs API shows which request was unpriced');
  });

  test('cached prompt tokens are charged at the cached-input price; without one, as input', async () => {
    // The fake reports half of a `*cached*` model's prompt as cached tokens.
    assert.equal((await gw.api('PUT', '/api/prices/team-cached-model', { input_per_1m_usd: 4, output_per_1m_usd: 12, cached_input_per_1m_usd: 1 })).status, 200);
    const row = await ask('team-cached-model');
    assert.ok(row.cached_tokens > 0);
    assert.equal(row.cost_micro, Math.ceil(((row.tokens_in - row.cached_tokens) * 4_000_000 + row.cached_tokens * 1_000_000 + row.tokens_out * 12_000_000) / 1e6));
    assert.ok(row.cost_micro! < expectedCost(row.tokens_in, row.tokens_out, 4, 12), 'cheaper than all input at the input price');

    assert.equal((await gw.api('PUT', '/api/prices/team-cached-model', { input_per_1m_usd: 4, output_per_1m_usd: 12 })).status, 200);
    const plain = await ask('team-cached-model');
    assert.ok(plain.cached_tokens > 0);
    assert.equal(plain.cost_micro, expectedCost(plain.tokens_in, plain.tokens_out, 4, 12));
  });

  test('organizations price separately', async () => {
    const other = (await gw.api('POST', '/api/orgs', { name: 'Other pricing org' })).body.admin_key as string;
    assert.equal((await gw.api('PUT', '/api/prices/house-model', { input_per_1m_usd: 5, output_per_1m_usd: 5 }, other)).status, 200);
    const mine = (await gw.api('GET', '/api/prices?q=house-model')).body.data[0];
    assert.equal(mine.source, 'config');
    assert.equal((await gw.api('DELETE', '/api/prices/house-model')).status, 404);
    assert.equal((await gw.api('GET', '/api/prices?q=house-model', undefined, other)).body.data[0].source, 'organization');
  });
});

describe('a price set on one replica prices the next request on another (PostgreSQL + Redis)', { skip: serviceSkip('postgres') || serviceSkip('redis') }, () => {
  const adminKey = `admin-${randomUUID()}`;
  const upstreamKey = 'sk-upstream-prices-replicas';
  let a: Replica;
  let b: Replica;
  let fake: FakeUpstream;
  let key: string;

  before(async () => {
    fake = await startFakeUpstream({ requireAuth: upstreamKey });
    const env = await clusterEnv(adminKey, upstreamKey, fake.baseUrl, { TOLLGATE_LOG_FLUSH_MS: '50' });
    [a, b] = await Promise.all([startReplica('a', env, adminKey), startReplica('b', env, adminKey)]);
    const team = (await a.api('POST', '/api/teams', { name: 'Replicated pricing' })).body;
    key = (await a.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body.key;
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
  });

  /** A request on B, then its log row as A's /api/logs shows it (the rows are written in batches). */
  async function askB(model: string): Promise<{ tokens_in: number; tokens_out: number; cost_micro: number | null; unpriced: boolean }> {
    const { response } = await b.openai(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId, 'Tollgate names the request');
    const deadline = Date.now() + 5000;
    for (;;) {
      const logs = await a.api('GET', `/api/logs?model=${encodeURIComponent(model)}&limit=20`);
      const row = logs.body.data.find((l: any) => l.request_id === requestId);
      if (row) return { tokens_in: row.tokens_in, tokens_out: row.tokens_out, cost_micro: row.cost_usd === null ? null : Math.round(row.cost_usd * 1e6), unpriced: row.unpriced };
      assert.ok(Date.now() < deadline, `no log row for ${requestId}`);
      await sleep(50);
    }
  }

  test('an override and its deletion on A reach B without a restart; an unpriced model priced on A is priced on B', async () => {
    const warm = await askB('gpt-4o-mini');
    assert.equal(warm.cost_micro, expectedCost(warm.tokens_in, warm.tokens_out, 0.15, 0.6), 'shipped price, B warm');

    assert.equal((await a.api('PUT', '/api/prices/gpt-4o-mini', { input_per_1m_usd: 100, output_per_1m_usd: 400 })).status, 200);
    const next = await askB('gpt-4o-mini');
    assert.equal(next.cost_micro, expectedCost(next.tokens_in, next.tokens_out, 100, 400), 'the next request on B is charged the price set on A');

    assert.equal((await a.api('DELETE', '/api/prices/gpt-4o-mini')).status, 200);
    const back = await askB('gpt-4o-mini');
    assert.equal(back.cost_micro, expectedCost(back.tokens_in, back.tokens_out, 0.15, 0.6), 'back to the shipped price on B');

    const unpriced = await askB('replicated-unlisted-model');
    assert.deepEqual([unpriced.cost_micro, unpriced.unpriced], [null, true]);
    assert.equal((await a.api('PUT', '/api/prices/replicated-unlisted-model', { input_per_1m_usd: 3, output_per_1m_usd: 6 })).status, 200);
    const priced = await askB('replicated-unlisted-model');
    assert.deepEqual([priced.cost_micro, priced.unpriced], [expectedCost(priced.tokens_in, priced.tokens_out, 3, 6), false]);
  });
});
