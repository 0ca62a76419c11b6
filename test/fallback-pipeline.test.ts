// Fallbacks in the hot path (proxy/pipeline.ts + forward.ts): an attempt that fails before any byte
// reached the client — connection refused, no answer within the route's timeout, upstream 503 —
// is not relayed; the next deployment answers and the client sees one answer. A stream that has
// started is never retried. Admission happens once (bounded at the dearest deployment's price),
// the reservation is released once, and the request is settled at the price of the deployment
// that answered. The one log row lists every failed attempt.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { launchTollgate } from './support/tollgate-process.ts';

/** An OpenAI-compatible upstream whose stream sends two chunks, then drops the connection. */
function breaksMidStream(): Server & { calls: number } {
  const server = createServer((req, res) => {
    server.calls++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.url!.includes(':streamGenerateContent')) {
        // Gemini's SSE: every data line a GenerateContentResponse (https://ai.google.dev/api/generate-content)
        res.write(`data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'Hel' }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 }, modelVersion: 'm' })}\r\n\r\n`);
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      if (req.url!.endsWith('/responses')) {
        // The Responses API's named events (https://platform.openai.com/docs/api-reference/responses-streaming)
        const response = { id: 'resp_1', object: 'response', created_at: 1, status: 'in_progress', model: 'm', output: [], usage: null };
        res.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response })}\n\n`);
        res.write(`event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hello' })}\n\n`);
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      const chunk = (text: string) => `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }] })}\n\n`;
      res.write(chunk('Hel'));
      res.write(chunk('lo'));
      setTimeout(() => res.socket?.destroy(), 50);
    });
  }) as Server & { calls: number };
  server.calls = 0;
  return server;
}

for (const dialect of DIALECTS) describe(`fallbacks in the pipeline (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let healthy: FakeUpstream;
  let failing: FakeUpstream;
  let hanging: FakeUpstream;
  let broken: ReturnType<typeof breaksMidStream>;
  let closedPort: number;
  let key: string;
  let keyId: number;
  const ids: Record<string, number> = {};

  const credential = async (name: string, provider: string, baseUrl: string) => {
    const res = await gw.api('POST', '/api/providers', { name, provider, base_url: baseUrl, api_key: `sk-fallback-pipeline-${name}-0000`, models: [`${name}-own`] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids[name] = res.body.id;
  };
  const route = async (model: string, deployments: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) => {
    const res = await gw.api('POST', '/api/routes', { model, deployments, ...extra });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  };
  const cheap = { input_per_1m_usd: 1, output_per_1m_usd: 2 };
  const dear = { input_per_1m_usd: 100, output_per_1m_usd: 200 };
  const primary = (name: string, extra: Record<string, unknown> = {}) => ({ credential_id: ids[name], priority: 1, ...dear, ...extra });
  const secondary = () => ({ credential_id: ids.healthy, priority: 0, upstream_model: 'gpt-4o-mini', ...cheap });
  const chat = (model: string, stream = false) => fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, stream, max_tokens: 5, messages: [{ role: 'user', content: 'hello there' }] }),
  });
  const rowOf = async (model: string): Promise<any> => {
    for (let i = 0; i < 100; i++) {
      await gw.flush();
      const row = (await gw.api('GET', `/api/logs?model=${model}&limit=1`)).body.data[0];
      if (row) return row;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`no log row for ${model}`);
  };
  const budget = async () => (await gw.api('GET', `/api/keys/${keyId}/limits`)).body.layers.find((l: any) => l.level === 'key').budget;

  before(async () => {
    gw = await startGateway({ dialect });
    healthy = await startFakeUpstream();
    failing = await startFakeUpstream({ failStatus: 503 });
    hanging = await startFakeUpstream({ latencyMs: 4000 });
    broken = breaksMidStream();
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await credential('healthy', 'openai', `${healthy.baseUrl}/v1`);
    await credential('failing', 'openai', `${failing.baseUrl}/v1`);
    await credential('hanging', 'openai', `${hanging.baseUrl}/v1`);
    await credential('refused', 'openai', `http://127.0.0.1:${closedPort}/v1`);
    await credential('broken', 'openai-compatible', `http://127.0.0.1:${(broken.address() as AddressInfo).port}/v1`);
    await credential('broken-openai', 'openai', `http://127.0.0.1:${(broken.address() as AddressInfo).port}/v1`);
    await credential('broken-gemini', 'gemini', `http://127.0.0.1:${(broken.address() as AddressInfo).port}/v1beta`);
    await route('fp-503', [primary('failing'), secondary()]);
    await route('fp-refused', [primary('refused'), secondary()]);
    await route('fp-timeout', [primary('hanging'), secondary()], { timeout_ms: 1000 });
    await route('fp-broken', [primary('broken'), secondary()]);
    await route('fp-broken-responses', [primary('broken-openai'), secondary()]);
    await route('fp-broken-gemini', [primary('broken-gemini')]);
    await route('fp-all-fail', [primary('failing'), { credential_id: ids.failing, priority: 0, upstream_model: 'gpt-4o', ...cheap }]);
    const team = (await gw.api('POST', '/api/teams', { name: 'Fallback pipeline' })).body.id;
    const created = (await gw.api('POST', `/api/teams/${team}/keys`, { name: 'k' })).body;
    key = created.key;
    keyId = created.id;
    assert.equal((await gw.api('PUT', `/api/keys/${keyId}/limits`, { max_budget_usd: 50, budget_period: 'total', budget_mode: 'hard' })).status, 200);
  });
  after(async () => {
    await gw?.close();
    for (const f of [healthy, failing, hanging]) await f?.close();
    broken?.close();
  });

  test('a primary answering 503 (streamed request): the secondary answers once, both attempts in the log row, settled at the secondary\'s price, reservation released', async () => {
    const before = await budget();
    const res = await chat('fp-503', true);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'), 'one whole stream');
    assert.ok(!text.includes('error'), 'nothing of the failed attempt reached the client');
    assert.equal(failing.requests.length, 1);
    const row = await rowOf('fp-503');
    assert.deepEqual([row.status_code, row.provider, row.attempts, row.streamed], [200, 'openai', 2, true]);
    assert.equal(row.attempt_log.length, 1);
    assert.deepEqual([row.attempt_log[0].credential_id, row.attempt_log[0].status, row.attempt_log[0].error_code], [ids.failing, 503, 'upstream_503']);
    // $1 / $2 per 1M tokens: the secondary's price, not the primary's ($100 / $200).
    const expected = (row.tokens_in * 1 + row.tokens_out * 2) / 1e6;
    assert.ok(Math.abs(row.cost_usd - expected) < 1e-9, `cost ${row.cost_usd}, expected ${expected}`);
    const after = await budget();
    assert.equal(after.reserved_usd, 0, 'the reservation is released (once)');
    assert.ok(Math.abs(after.spent_usd - before.spent_usd - row.cost_usd) < 1e-9, 'spend grew by this one answer');
  });

  test('a primary that refuses connections: the secondary answers; logged as a 502 attempt', async () => {
    const res = await chat('fp-refused');
    assert.equal(res.status, 200, await res.clone().text());
    const row = await rowOf('fp-refused');
    assert.deepEqual([row.status_code, row.attempts], [200, 2]);
    assert.deepEqual([row.attempt_log[0].credential_id, row.attempt_log[0].status, row.attempt_log[0].error_code], [ids.refused, 502, 'upstream_error']);
  });

  test('a primary that does not answer within the route\'s timeout: the secondary answers; logged as a 504 attempt', async () => {
    const started = Date.now();
    const res = await chat('fp-timeout');
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started < 3900, 'not waiting for the slow primary');
    const row = await rowOf('fp-timeout');
    assert.deepEqual([row.attempts, row.attempt_log[0].credential_id, row.attempt_log[0].status, row.attempt_log[0].error_code], [2, ids.hanging, 504, 'upstream_timeout']);
  });

  test('a 200 stream that fails midway is not retried: the client gets what was sent and an error event', async () => {
    const callsBefore = healthy.requests.length;
    const res = await chat('fp-broken', true);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(text.includes('"Hel"') && text.includes('"lo"'), 'what was sent arrived');
    assert.match(text, /data: \{"error":\{[^\n]*"code":"upstream_error"/, 'an OpenAI error event ends it');
    assert.equal(healthy.requests.length, callsBefore, 'the secondary was never called');
    const row = await rowOf('fp-broken');
    assert.deepEqual([row.status_code, row.error_code, row.attempts, row.attempt_log], [502, 'upstream_error', 1, []]);
    assert.equal((await budget()).reserved_usd, 0);
  });

  test('the same mid-stream failure to an Anthropic client is an Anthropic error event its SDK raises', async () => {
    const claude = new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
    const stream = claude.messages.stream({ model: 'fp-broken', max_tokens: 5, messages: [{ role: 'user', content: 'hello there' }] });
    let text = '';
    stream.on('text', (t) => { text += t; });
    const err = await stream.finalMessage().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Anthropic.APIError, String(err));
    assert.equal(text, 'Hello', 'what was sent arrived first');
    assert.match(String((err as Error).message), /failed in the middle of the stream/);
  });

  test('the same mid-stream failure to a Responses client (Codex CLI) is an `event: error` the openai SDK raises', async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of await client.responses.create({ model: 'fp-broken-responses', input: 'hello there', max_output_tokens: 5, stream: true })) seen.push(event.type);
    })().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.deepEqual(seen, ['response.created', 'response.output_text.delta'], 'what was sent arrived first');
    const row = await rowOf('fp-broken-responses');
    assert.deepEqual([row.endpoint, row.status_code, row.error_code, row.attempts], ['responses', 502, 'upstream_error', 1]);
  });

  test('the same mid-stream failure to a Gemini client is a Gemini error chunk', async () => {
    const res = await fetch(`${gw.url}/v1beta/models/fp-broken-gemini:streamGenerateContent?alt=sse`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hello there' }] }], generationConfig: { maxOutputTokens: 5 } }),
    });
    assert.equal(res.status, 200);
    const events = (await res.text()).split(/\r?\n\r?\n/).filter(Boolean).map((e) => JSON.parse(e.replace(/^data: /, '')));
    assert.equal(events[0].candidates[0].content.parts[0].text, 'Hel', 'what was sent arrived first');
    const last = events[events.length - 1];
    assert.deepEqual([last.error.code, last.error.status, last.error.details[0].reason], [502, 'INTERNAL', 'upstream_error']);
    const row = await rowOf('fp-broken-gemini');
    assert.deepEqual([row.endpoint, row.status_code, row.error_code, row.streamed, row.tokens_in], ['generateContent', 502, 'upstream_error', true, 3]);
  });

  test('every deployment failing: the last failure is answered as it is today, all attempts logged', async () => {
    const res = await chat('fp-all-fail');
    assert.equal(res.status, 502);
    const body: any = await res.json();
    assert.equal(body.error.code, 'upstream_error');
    const row = await rowOf('fp-all-fail');
    assert.deepEqual([row.status_code, row.error_code, row.attempts, row.attempt_log.length], [502, 'upstream_503', 2, 1]);
    assert.equal((await budget()).reserved_usd, 0);
  });
});

test('each failed attempt is a warning in the process log: which deployment, status and code, never a secret', async () => {
  const admin = 'fallback-log-test-master-admin-key-0123';
  const failingKey = 'sk-failing-upstream-secret-7781';
  const healthyKey = 'sk-healthy-upstream-secret-7782';
  const failing = await startFakeUpstream({ failStatus: 503, requireAuth: failingKey });
  const healthy = await startFakeUpstream({ requireAuth: healthyKey });
  const proc = await launchTollgate({ TOLLGATE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'tollgate-fallback-log-')), TOLLGATE_ADMIN_KEY: admin, TOLLGATE_LOG_LEVEL: 'warn' });
  try {
    const api = async (p: string, body: unknown) => {
      const res = await fetch(proc.url + p, { method: 'POST', headers: { 'x-admin-key': admin, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json: any = await res.json();
      assert.ok(res.status < 300, JSON.stringify(json));
      return json;
    };
    const first = await api('/api/providers', { name: 'failing', provider: 'openai', base_url: failing.baseUrl + '/v1', api_key: failingKey, models: ['failing-own'] });
    const second = await api('/api/providers', { name: 'healthy', provider: 'openai', base_url: healthy.baseUrl + '/v1', api_key: healthyKey, models: ['healthy-own'] });
    await api('/api/routes', { model: 'logged-fallback', deployments: [{ credential_id: first.id, priority: 1 }, { credential_id: second.id, upstream_model: 'gpt-4o-mini' }] });
    const team = await api('/api/teams', { name: 'Logged' });
    const key = (await api(`/api/teams/${team.id}/keys`, { name: 'k' })).key as string;
    const res = await fetch(`${proc.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'logged-fallback', max_tokens: 3, messages: [{ role: 'user', content: 'prompt-marker-5521' }] }),
    });
    assert.equal(res.status, 200);
    const requestId = res.headers.get('x-request-id');
    let line: any;
    for (let i = 0; i < 50 && !line; i++) {
      line = proc.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith('upstream attempt failed'));
      if (!line) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(line, `a warning for the failed attempt:\n${proc.out()}`);
    assert.deepEqual([line.requestId, line.provider, line.credential_id, line.status, line.error_code, line.model], [requestId, 'openai', first.id, 503, 'upstream_503', 'logged-fallback']);
    for (const secret of [admin, failingKey, healthyKey, key, 'prompt-marker-5521']) assert.ok(!proc.out().includes(secret), 'no secret or prompt in the log');
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
    await failing.close();
    await healthy.close();
  }
});
