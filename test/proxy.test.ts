// The /v1 surface through the official openai SDK: non-streaming and streaming, metering, errors.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { costMicro, BUILTIN_PRICES } from '../src/usage/pricing.ts';
import { generateKey } from '../src/keys/key-format.ts';

const price = (model: string, tin: number, tout: number) => costMicro(BUILTIN_PRICES[model]!, tin, tout);

for (const dialect of DIALECTS) {
  describe(`/v1 proxy (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    let teamId: number;
    let secret: string;
    let client: OpenAI;
    before(async () => {
      gw = await startGateway({ dialect });
      teamId = (await gw.api('POST', '/api/teams', { name: 'ML' })).body.id;
      secret = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'svc' })).body.key;
      client = gw.openai(secret);
    });
    after(() => gw?.close());
    beforeEach(() => gw.fake.reset());

    test('the log row records cached and reasoning tokens as reported, upstream time and time to first byte', async () => {
      const ask = { model: 'gpt-4o-cached-reasoning', messages: [{ role: 'user' as const, content: 'a prompt long enough to have a few tokens in it' }], max_tokens: 9 };
      const plain = await client.chat.completions.create(ask);
      const streamed = client.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } });
      let streamUsage: any;
      for await (const chunk of await streamed) if (chunk.usage) streamUsage = chunk.usage;
      await gw.flush();
      const rows = await gw.runtime.deps.db.kysely.selectFrom('request_logs').selectAll().where('model', '=', ask.model).orderBy('id').execute();
      assert.equal(rows.length, 2);
      for (const [row, usage] of [[rows[0]!, plain.usage!], [rows[1]!, streamUsage]] as const) {
        assert.ok(usage.prompt_tokens_details.cached_tokens > 0 && usage.completion_tokens_details.reasoning_tokens > 0, 'the fake reports both');
        assert.equal(Number(row.cached_tokens), usage.prompt_tokens_details.cached_tokens);
        assert.equal(Number(row.reasoning_tokens), usage.completion_tokens_details.reasoning_tokens);
        assert.ok(row.upstream_ms !== null && row.ttfb_ms !== null, JSON.stringify(row));
        assert.ok(row.ttfb_ms! <= row.upstream_ms! && row.upstream_ms! <= row.latency_ms + 1, JSON.stringify(row));
      }
      // A request refused before any upstream call has no upstream timings.
      await assert.rejects(client.chat.completions.create({ ...ask, messages: [] }));
      await gw.flush();
      const refused = await gw.runtime.deps.db.kysely.selectFrom('request_logs').selectAll().where('status_code', '=', 400).orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.deepEqual([refused.upstream_ms, refused.ttfb_ms, Number(refused.cached_tokens)], [null, null, 0]);
    });

    test('non-streaming and streaming requests are logged with the team and spend equals upstream usage × price', async () => {
      const before = (await gw.api('GET', `/api/teams/${teamId}/spend`)).body.total;
      const r1 = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'What is a gateway?' }] });
      assert.ok(r1.choices[0]!.message.content!.length > 0);
      const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Stream please' }], stream: true });
      let text = '';
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        assert.equal(chunk.choices.length > 0, true, 'the usage chunk Tollgate asked for is not shown to a client that did not ask');
      }
      assert.match(text, /^tok0 tok1/);
      const withUsage = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Stream with usage' }], stream: true, stream_options: { include_usage: true } });
      let reported: OpenAI.CompletionUsage | undefined | null;
      for await (const chunk of withUsage) if (chunk.usage) reported = chunk.usage;
      assert.ok(reported, 'a client that asked for usage gets it');

      const upstream = gw.fake.requests.filter((r) => r.path === '/v1/chat/completions');
      assert.equal(upstream.length, 3);
      assert.equal(upstream[1]!.body.stream_options.include_usage, true, 'Tollgate asks the upstream for usage on every stream');
      assert.equal(upstream[0]!.headers.authorization, 'Bearer sk-upstream-provider-secret-abcdef', 'the org credential, not the team key, goes upstream');

      const spend = (await gw.api('GET', `/api/teams/${teamId}/spend`)).body.total;
      const u = gw.fake.usageTotals;
      assert.equal(spend.requests - before.requests, 3);
      assert.equal(spend.tokens_in - before.tokens_in, u.prompt_tokens);
      assert.equal(spend.tokens_out - before.tokens_out, u.completion_tokens);
      const expected = price('gpt-4o', r1.usage!.prompt_tokens, r1.usage!.completion_tokens)
        + gw.fake.requests.slice(1).reduce((sum, _r, i) => sum + (i === 1 ? price('gpt-4o-mini', reported!.prompt_tokens, reported!.completion_tokens) : 0), 0);
      const logs = (await gw.api('GET', `/api/teams/${teamId}/logs?limit=3`)).body.data;
      assert.equal(logs.length, 3);
      for (const l of logs) {
        assert.equal(l.team_id, teamId);
        assert.equal(l.status_code, 200);
        assert.equal(l.unpriced, false);
      }
      assert.deepEqual(logs.map((l: any) => l.streamed), [true, true, false]);
      const streamedNoUsage = logs[1];
      assert.equal(streamedNoUsage.usage_estimated, false, 'usage came from the upstream, even though the client did not ask');
      const costSum = logs.reduce((s: number, l: any) => s + Math.round(l.cost_usd * 1e6), 0);
      assert.equal(Math.round((spend.cost_usd - before.cost_usd) * 1e6), costSum);
      assert.ok(costSum >= expected);
      const exact = logs.reduce((s: number, l: any) => s + price(l.model, l.tokens_in, l.tokens_out), 0);
      assert.equal(costSum, exact, 'each log row costs its tokens × the model price');
    });

    test('unknown request fields pass through untouched; model is required', async () => {
      await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], temperature: 0.3, // @ts-expect-error: a field the SDK does not know
        my_vendor_field: { nested: [1, 2] } });
      const body = gw.fake.requests.at(-1)!.body;
      assert.deepEqual(body.my_vendor_field, { nested: [1, 2] });
      assert.equal(body.temperature, 0.3);
      const res = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ messages: [] }) });
      assert.equal(res.status, 400);
      const err = (await res.json()) as any;
      assert.equal(err.error.param, 'model');
      assert.equal(err.error.type, 'invalid_request_error');
      const bad = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: '{"model":' });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as any).error.code, 'invalid_json');
    });

    test('bad keys get 401 in OpenAI error shape, before any lookup when malformed', async () => {
      for (const key of ['nope', generateKey().slice(0, -1) + 'x', generateKey()]) {
        await assert.rejects(gw.openai(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (err: any) => {
          assert.equal(err.status, 401);
          assert.equal(err.error.type, 'authentication_error');
          assert.equal(err.error.code, 'invalid_api_key');
          return true;
        });
      }
      const res = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as any).error.code, 'missing_credentials');
    });

    test('disabled and expired keys get 403; re-enabling works at once', async () => {
      const k = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'toggle' })).body;
      const c = gw.openai(k.key);
      await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'warm the cache' }] });
      assert.equal((await gw.api('PATCH', `/api/keys/${k.id}`, { status: 'disabled' })).status, 200);
      await assert.rejects(c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 403 && e.error.code === 'key_disabled');
      await gw.api('PATCH', `/api/keys/${k.id}`, { status: 'active' });
      await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
      const soon = new Date(Date.now() + 300).toISOString();
      assert.equal((await gw.api('PATCH', `/api/keys/${k.id}`, { expires_at: soon })).status, 200);
      await new Promise((r) => setTimeout(r, 350));
      await assert.rejects(c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 403 && e.error.code === 'key_expired');
    });

    test('upstream failures: 5xx → 502, refused credential → 502 (not the client\'s 401), 400 relayed, unreachable → 502', async () => {
      await assert.rejects(client.chat.completions.create({ model: 'error-500', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 502 && e.error.code === 'upstream_error');
      await assert.rejects(client.chat.completions.create({ model: 'error-400', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 400);
      await assert.rejects(client.chat.completions.create({ model: 'error-429', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 429);
      gw.fake.options.requireAuth = 'something-else';
      try {
        await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: any) => {
          assert.equal(e.status, 502);
          assert.ok(!JSON.stringify(e.error).includes('sk-upstream'), 'the provider secret never appears in an error');
          return true;
        });
      } finally {
        gw.fake.options.requireAuth = 'sk-upstream-provider-secret-abcdef';
      }
      const dead = await gw.api('POST', '/api/providers', { name: 'dead', provider: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-dead-0000', models: ['dead-model'] });
      assert.equal(dead.status, 201);
      await assert.rejects(client.chat.completions.create({ model: 'dead-model', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 502);
      const logs = (await gw.api('GET', `/api/teams/${teamId}/logs?limit=1`)).body.data;
      assert.equal(logs[0].status_code, 502);
      assert.equal(logs[0].cost_usd, 0);
    });

    test('an upstream that does not answer in time → 504 upstream_timeout', async () => {
      // undici checks its timeouts on a coarse (~0.5–1 s) clock: a 300 ms limit fires within ~1.5 s.
      gw.runtime.deps.config.upstreamTimeoutMs = 300;
      gw.fake.options.latencyMs = 4_000;
      const started = Date.now();
      try {
        await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 504 && e.error.code === 'upstream_timeout');
        assert.ok(Date.now() - started < 3_000, 'did not wait for the upstream');
      } finally {
        gw.runtime.deps.config.upstreamTimeoutMs = 600_000;
        gw.fake.options.latencyMs = 0;
      }
    });

    test('the fast lane answers malformed requests in the OpenAI error shape', async () => {
      const post = (body: string, type = 'application/json', path = '/v1/chat/completions') =>
        fetch(gw.url + path, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': type }, body });
      const notJson = await post('model=x', 'application/x-www-form-urlencoded');
      assert.equal(notJson.status, 400);
      assert.match(((await notJson.json()) as any).error.message, /Content-Type/);
      const array = await post('[1,2]');
      assert.equal(array.status, 400);
      assert.equal(((await array.json()) as any).error.code, 'invalid_request');
      const withQuery = await post(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'q' }] }), 'application/json', '/v1/chat/completions?x=1');
      assert.equal(withQuery.status, 200);
      const get = await fetch(gw.url + '/v1/chat/completions');
      assert.equal(get.status, 405, 'another method is refused, naming the one allowed');
      assert.equal(get.headers.get('allow'), 'POST');
      assert.equal(((await get.json()) as any).error.code, 'method_not_allowed');
    });

    test('a model with explicit routes only: unknown model → 404 model_not_found; /v1/models lists what is routed', async () => {
      const org = await gw.api('POST', '/api/orgs', { name: 'Routed Org' });
      assert.equal(org.status, 201);
      const admin = org.body.admin_key;
      const created = await gw.api('POST', '/api/providers', { name: 'fake', provider: 'openai', base_url: gw.fake.baseUrl + '/v1', api_key: 'sk-upstream-provider-secret-abcdef', models: ['gpt-4o-mini'] }, admin);
      assert.equal(created.status, 201);
      assert.equal(created.body.api_key_hint, '...cdef');
      assert.equal(JSON.stringify(created.body).includes('sk-upstream'), false);
      const team = (await gw.api('POST', '/api/teams', { name: 'R' }, admin)).body;
      const k = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'r' }, admin)).body;
      const c = gw.openai(k.key);
      await assert.rejects(c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 404 && e.error.code === 'model_not_found' && e.error.param === 'model');
      const ok = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
      assert.equal(ok.object, 'chat.completion');
      const models = await c.models.list();
      assert.deepEqual(models.data.map((m) => m.id), ['gpt-4o-mini']);
    });

    test('a model with no known price is logged as unpriced, never $0', async () => {
      await client.chat.completions.create({ model: 'mystery-model-7b', messages: [{ role: 'user', content: 'x' }] });
      const log = (await gw.api('GET', `/api/teams/${teamId}/logs?limit=1`)).body.data[0];
      assert.equal(log.model, 'mystery-model-7b');
      assert.equal(log.unpriced, true);
      assert.equal(log.cost_usd, null);
      const spend = (await gw.api('GET', `/api/teams/${teamId}/spend`)).body;
      assert.ok(spend.total.unpriced_requests >= 1);
    });

    const abortAfter = async (n: number) => {
      const ac = new AbortController();
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'long' }], stream: true }, { signal: ac.signal });
      let seen = 0;
      try {
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta?.content) seen++;
          if (seen === n) ac.abort();
        }
      } catch {
        // the SDK may end the iteration or throw on abort; either way the client went away
      }
      return seen;
    };
    const lastLog = async () => (await gw.api('GET', `/api/teams/${teamId}/logs?limit=1`)).body.data[0];

    test('a client that aborts mid-stream: the stream is still read for the usage the provider reports', async () => {
      gw.fake.options.chunkDelayMs = 10;
      gw.fake.options.completionTokens = 60;
      try {
        assert.equal(await abortAfter(5), 5);
        let log;
        for (let i = 0; i < 100 && !(log = await lastLog())?.error_code; i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(log.error_code, 'client_closed');
        assert.equal(log.usage_estimated, false, 'metered from the upstream usage chunk');
        assert.equal(log.tokens_out, 60);
        assert.equal(log.tokens_out, gw.fake.usageTotals.completion_tokens);
      } finally {
        gw.fake.options.chunkDelayMs = 0;
        gw.fake.options.completionTokens = 12;
      }
    });

    test('with no drain window, an aborted stream cancels the upstream and meters what was seen', async () => {
      gw.fake.options.chunkDelayMs = 20;
      gw.fake.options.completionTokens = 200;
      gw.runtime.deps.config.abortDrainMs = 0;
      try {
        await abortAfter(5);
        await new Promise((r) => setTimeout(r, 200));
        const log = await lastLog();
        assert.equal(log.streamed, true);
        assert.equal(log.usage_estimated, true);
        assert.ok(log.tokens_out >= 5 && log.tokens_out < 200, `metered ${log.tokens_out} output tokens of what was streamed`);
        assert.ok(log.cost_usd > 0);
        assert.equal(gw.fake.usageTotals.completion_tokens, 0, 'the upstream never finished, so it reported nothing');
      } finally {
        gw.fake.options.chunkDelayMs = 0;
        gw.fake.options.completionTokens = 12;
        gw.runtime.deps.config.abortDrainMs = 5000;
      }
    });

    test('a client that leaves before the upstream answers: the answer is still read and metered', async () => {
      gw.fake.options.latencyMs = 300;
      const before = gw.fake.usageTotals.completion_tokens;
      const previous = (await lastLog())?.id;
      try {
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 50);
        await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, { signal: ac.signal }));
        let log;
        for (let i = 0; i < 100 && (log = await lastLog())?.id === previous; i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(log.error_code, 'client_closed');
        assert.equal(log.streamed, false);
        assert.equal(log.usage_estimated, false, 'metered from the upstream answer, read after the client left');
        assert.equal(log.status_code, 200, 'the upstream answered in full');
        assert.ok(log.tokens_out > 0);
        assert.equal(log.tokens_out, gw.fake.usageTotals.completion_tokens - before);
      } finally {
        gw.fake.options.latencyMs = 0;
      }
    });

    test('legacy completions and embeddings are proxied and metered', async () => {
      const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
      assert.equal(emb.data.length, 2);
      const comp = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi' });
      assert.ok(comp.choices[0]!.text.length > 0);
      const logs = (await gw.api('GET', `/api/teams/${teamId}/logs?limit=2`)).body.data;
      assert.deepEqual(logs.map((l: any) => l.endpoint), ['completions', 'embeddings']);
      assert.equal(logs[1].tokens_in, emb.usage.prompt_tokens);
    });
  });
}
