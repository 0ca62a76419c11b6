// The OpenAI family end to end: the official `openai` SDK (Responses API and chat, streaming and
// not) and plain fetch (Gemini's native API) through a real Tollgate to the fake upstream, which
// speaks OpenAI's, Azure's and Gemini's real wire formats. Each answer is checked as the client
// sees it, the request as the provider saw it, and the usage as GET /api/logs meters it.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, UPSTREAM_KEY, type Gateway } from './support/gateway.ts';
import { replyPieces } from './support/fake-upstream.ts';

const PROMPT = 'Write a haiku about a toll gate that counts tokens';
const WORDS = 12; // the fake's default reply length

async function logsOf(gw: Gateway, model: string): Promise<any[]> {
  await gw.flush();
  const r = await gw.api('GET', `/api/logs?model=${encodeURIComponent(model)}&limit=100`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.data as any[]).slice().reverse();
}

/** The model's last `n` log rows of one client API, oldest first (tests share models). */
async function latest(gw: Gateway, model: string, endpoint: string, n = 1): Promise<any[]> {
  const rows = (await logsOf(gw, model)).filter((r) => r.endpoint === endpoint);
  assert.ok(rows.length >= n, `${n} ${endpoint} rows for ${model}: ${rows.length}`);
  return rows.slice(-n);
}

/** Polls the logs until `n` rows of the model are written (an aborted stream settles after the abort). */
async function waitLogs(gw: Gateway, model: string, n: number): Promise<any[]> {
  for (let i = 0; i < 100; i++) {
    const rows = await logsOf(gw, model);
    if (rows.length >= n) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${n} log rows for ${model}`);
}

describe('OpenAI family through Tollgate: the openai SDK and Gemini native', () => {
  let gw: Gateway;
  let key: string;
  let client: OpenAI;
  const last = () => gw.fake.requests[gw.fake.requests.length - 1]!;

  before(async () => {
    gw = await startGateway();
    const fake = gw.fake.baseUrl;
    const credential = async (body: Record<string, unknown>) => {
      const r = await gw.api('POST', '/api/providers', { api_key: UPSTREAM_KEY, ...body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    };
    await credential({ name: 'OpenAI', provider: 'openai', base_url: `${fake}/v1`, models: ['gpt-5-codex', 'gpt-5-cached-reasoning'] });
    await credential({ name: 'Azure', provider: 'azure', base_url: fake, options: { api_version: '2024-10-21' }, models: ['azure-codex', 'azure-gpt4o'] });
    await credential({ name: 'Groq', provider: 'groq', base_url: `${fake}/v1`, models: ['llama-3.3-70b-versatile'] });
    await credential({ name: 'Gemini', provider: 'gemini', base_url: `${fake}/v1beta`, models: ['gemini-2.5-flash', 'error-400-gemini'] });
    await credential({ name: 'Gemini, a revoked key', provider: 'gemini', base_url: `${fake}/v1beta`, api_key: 'revoked-gemini-key', models: ['gemini-revoked'] });
    await credential({ name: 'Anthropic', provider: 'anthropic', base_url: `${fake}/v1`, models: ['claude-sonnet-4-5'] });
    const team = (await gw.api('POST', '/api/teams', { name: 'Agents' })).body;
    key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'codex' })).body.key;
    client = gw.openai(key);
  });
  after(() => gw?.close());
  beforeEach(() => {
    gw.fake.reset();
    Object.assign(gw.fake.options, { chunkDelayMs: undefined, completionTokens: undefined });
  });

  for (const [provider, model, upstreamPath] of [['OpenAI', 'gpt-5-codex', '/v1/responses'], ['Azure', 'azure-codex', '/openai/v1/responses']] as const) {
    test(`responses.create through ${provider}: the answer, the request as sent, usage metered`, async () => {
      const r = await client.responses.create({ model, input: PROMPT, instructions: 'be terse' });
      assert.equal(r.object, 'response');
      assert.equal(r.status, 'completed');
      assert.equal(r.output_text, replyPieces(WORDS).join(''));
      assert.equal(last().path, upstreamPath);
      assert.equal(last().body.model, model);
      if (provider === 'Azure') assert.equal(last().headers['api-key'], UPSTREAM_KEY);
      else assert.equal(last().headers.authorization, `Bearer ${UPSTREAM_KEY}`);
      const [row] = await latest(gw, model, 'responses');
      assert.equal(row.status_code, 200);
      assert.deepEqual([row.tokens_in, row.tokens_out, row.usage_estimated, row.streamed], [r.usage!.input_tokens, r.usage!.output_tokens, false, false]);
    });

    test(`responses.create streaming through ${provider}: every event, the completed response, usage metered`, async () => {
      const types: string[] = [];
      let text = '';
      let done: OpenAI.Responses.Response | undefined;
      for await (const ev of await client.responses.create({ model, input: [{ role: 'user', content: PROMPT }], stream: true })) {
        types.push(ev.type);
        if (ev.type === 'response.output_text.delta') text += ev.delta;
        if (ev.type === 'response.completed') done = ev.response;
      }
      assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
      assert.equal(types.at(-1), 'response.completed');
      assert.equal(text, replyPieces(WORDS).join(''));
      const [row] = await latest(gw, model, 'responses');
      assert.deepEqual([row.tokens_in, row.tokens_out, row.usage_estimated, row.streamed, row.error_code], [done!.usage!.input_tokens, done!.usage!.output_tokens, false, true, null]);
    });
  }

  test('Responses usage details: cached and reasoning tokens reach the log', async () => {
    const r = await client.responses.create({ model: 'gpt-5-cached-reasoning', input: PROMPT });
    const [row] = await latest(gw, 'gpt-5-cached-reasoning', 'responses');
    assert.ok(r.usage!.input_tokens_details.cached_tokens > 0 && r.usage!.output_tokens_details.reasoning_tokens > 0);
    assert.deepEqual([row.cached_tokens, row.reasoning_tokens], [r.usage!.input_tokens_details.cached_tokens, r.usage!.output_tokens_details.reasoning_tokens]);
  });

  test('a client aborting a Responses stream is still metered', async () => {
    const model = 'gpt-5-codex';
    const before = (await logsOf(gw, model)).length;
    Object.assign(gw.fake.options, { chunkDelayMs: 40, completionTokens: 60 });
    const controller = new AbortController();
    let deltas = 0;
    let completed = false;
    // the SDK ends the iteration quietly when its signal aborts
    for await (const ev of await client.responses.create({ model, input: PROMPT, stream: true }, { signal: controller.signal }).catch(() => [])) {
      if (ev.type === 'response.output_text.delta' && ++deltas === 3) controller.abort();
      if (ev.type === 'response.completed') completed = true;
    }
    assert.equal(completed, false, 'the client left before the end');
    const row = (await waitLogs(gw, model, before + 1)).at(-1);
    assert.equal(row.endpoint, 'responses');
    assert.equal(row.error_code, 'client_closed');
    // Tollgate read on after the client left (for up to its drain time) to meter what the provider
    // bills: the whole answer's usage, from its response.completed event
    assert.deepEqual([row.streamed, row.tokens_out, row.usage_estimated], [true, 60, false], JSON.stringify(row));
    assert.ok(row.tokens_in > 0);
  });

  test('the Responses API on a Groq or an Anthropic route: a 400 saying so, and no upstream call', async () => {
    for (const model of ['llama-3.3-70b-versatile', 'claude-sonnet-4-5']) {
      const err = await client.responses.create({ model, input: PROMPT }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.match(err.message, /\/v1\/responses/);
    }
    assert.equal(gw.fake.requests.length, 0);
  });

  for (const [provider, model, upstreamPath] of [
    ['Groq', 'llama-3.3-70b-versatile', '/v1/chat/completions'],
    ['Azure', 'azure-gpt4o', '/openai/deployments/azure-gpt4o/chat/completions'],
    ['Gemini', 'gemini-2.5-flash', '/v1beta/openai/chat/completions'],
  ] as const) {
    test(`chat.completions.create through ${provider}, JSON and streamed, metered`, async () => {
      const messages = [{ role: 'user' as const, content: PROMPT }];
      const plain = await client.chat.completions.create({ model, messages });
      assert.equal(plain.choices[0]!.message.content, replyPieces(WORDS).join(''));
      assert.equal(last().path, upstreamPath);
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const c of await client.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } })) {
        text += c.choices[0]?.delta.content ?? '';
        if (c.usage) usage = c.usage;
      }
      assert.equal(text, replyPieces(WORDS).join(''));
      const rows = await latest(gw, model, 'chat/completions', 2);
      for (const [row, u] of [[rows[0], plain.usage!], [rows[1], usage!]] as const) {
        assert.deepEqual([row.tokens_in, row.tokens_out, row.usage_estimated], [u.prompt_tokens, u.completion_tokens, false]);
      }
    });
  }

  test('Gemini native: generateContent and streamGenerateContent?alt=sse with the Tollgate key as x-goog-api-key', async () => {
    const body = { contents: [{ role: 'user', parts: [{ text: PROMPT }] }], generationConfig: { maxOutputTokens: 8 } };
    const headers = { 'content-type': 'application/json', 'x-goog-api-key': key };
    const whole = await fetch(`${gw.url}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers, body: JSON.stringify(body) });
    const json = await whole.json() as any;
    assert.equal(whole.status, 200, JSON.stringify(json));
    assert.equal(json.candidates[0].content.parts[0].text, replyPieces(8).join(''));
    assert.equal(last().path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(last().headers['x-goog-api-key'], UPSTREAM_KEY, 'the provider key replaces the Tollgate key');

    const streamed = await fetch(`${gw.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, { method: 'POST', headers, body: JSON.stringify(body) });
    assert.equal(streamed.status, 200);
    assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = (await streamed.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)));
    assert.equal(events.map((e) => e.candidates[0].content.parts[0].text).join(''), replyPieces(8).join(''));
    const final = events.at(-1);
    assert.equal(final.candidates[0].finishReason, 'MAX_TOKENS', 'the completing event reaches the client');

    const rows = await latest(gw, 'gemini-2.5-flash', 'generateContent', 2);
    for (const [row, u] of [[rows[0], json.usageMetadata], [rows[1], final.usageMetadata]]) {
      assert.deepEqual([row.tokens_in, row.tokens_out, row.usage_estimated], [u.promptTokenCount, u.candidatesTokenCount, false]);
    }
  });
  test('an Azure credential needs a well-formed api_version, named in the error', async () => {
    const base = { name: 'Azure 2', provider: 'azure', base_url: gw.fake.baseUrl, api_key: UPSTREAM_KEY, models: ['azure-other'] };
    const missing = await gw.api('POST', '/api/providers', base);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.param, 'options.api_version');
    const malformed = await gw.api('POST', '/api/providers', { ...base, options: { api_version: 'latest' } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.param, 'options.api_version');
    assert.match(malformed.body.error.message, /YYYY-MM-DD/);
  });

  test('Gemini native on a model routed elsewhere: a 400 in Gemini\'s error shape, no upstream call', async () => {
    const r = await fetch(`${gw.url}/v1beta/models/gpt-5-codex:generateContent`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: PROMPT }] }] }),
    });
    const body = await r.json() as any;
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(body.error.code, 400);
    assert.match(body.error.message, /generateContent/);
    assert.equal(gw.fake.requests.length, 0);
  });
  test('Gemini errors reach an OpenAI client OpenAI-shaped; a refused Gemini key is the gateway\'s 502, not the client\'s 400', async () => {
    const messages = [{ role: 'user' as const, content: PROMPT }];
    const bad = await client.chat.completions.create({ model: 'error-400-gemini', messages }).then(() => undefined, (e: unknown) => e);
    assert.ok(bad instanceof OpenAI.BadRequestError, String(bad));
    assert.equal((bad.error as any)?.message, 'Simulated error for model error-400-gemini', 'the error object, not Gemini\'s list around it');
    const refused = await client.chat.completions.create({ model: 'gemini-revoked', messages }, { maxRetries: 0 }).then(() => undefined, (e: unknown) => e);
    assert.ok(refused instanceof OpenAI.APIError && refused.status === 502, String(refused));
    assert.match(refused.message, /rejected the gateway credential/);
    const native = await fetch(`${gw.url}/v1beta/models/gemini-revoked:generateContent`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: PROMPT }] }] }),
    });
    assert.equal(native.status, 502);
    assert.match(((await native.json()) as any).error.message, /rejected the gateway credential/);
  });
  test('a Responses stream the upstream cuts short: the client gets an error, the log an estimate from the deltas seen', async () => {
    // an upstream that sends the start of a Responses stream, three text deltas, and hangs up
    const cut = http.createServer((req, res) => {
      req.resume().on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const ev = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
        const response = { id: 'resp_cut', object: 'response', status: 'in_progress', output: [], usage: null };
        ev('response.created', { sequence_number: 0, response });
        ev('response.in_progress', { sequence_number: 1, response });
        for (const [i, delta] of ['Hel', 'lo', ' there'].entries()) ev('response.output_text.delta', { sequence_number: 2 + i, item_id: 'msg_1', output_index: 0, content_index: 0, delta });
        res.end();
      });
    });
    await new Promise<void>((resolve) => cut.listen(0, '127.0.0.1', resolve));
    try {
      const port = (cut.address() as AddressInfo).port;
      const r = await gw.api('POST', '/api/providers', { name: 'OpenAI (cut)', provider: 'openai', base_url: `http://127.0.0.1:${port}/v1`, api_key: UPSTREAM_KEY, models: ['gpt-cut'] });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      let text = '';
      const err = await (async () => {
        for await (const ev of await client.responses.create({ model: 'gpt-cut', input: PROMPT, stream: true })) if (ev.type === 'response.output_text.delta') text += ev.delta;
      })().then(() => undefined, (e: unknown) => e);
      assert.equal(text, 'Hello there', 'what came was relayed');
      assert.ok(err instanceof Error, 'the SDK reports the stream as failed');
      const [row] = await latest(gw, 'gpt-cut', 'responses');
      assert.equal(row.error_code, 'upstream_error');
      assert.deepEqual([row.streamed, row.usage_estimated, row.tokens_out], [true, true, 3], JSON.stringify(row));
      assert.ok(row.tokens_in > 0);
    } finally {
      cut.closeAllConnections();
      cut.close();
    }
  });
  test('a client leaving a Gemini streamGenerateContent mid-stream is still metered', async () => {
    const model = 'gemini-2.5-flash';
    const before = (await logsOf(gw, model)).length;
    Object.assign(gw.fake.options, { chunkDelayMs: 40, completionTokens: 40 });
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1beta/models/${model}:streamGenerateContent?alt=sse`, {
      method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: PROMPT }] }] }),
    });
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk
    controller.abort();
    await reader.cancel().catch(() => {});
    const row = (await waitLogs(gw, model, before + 1)).at(-1);
    assert.equal(row.endpoint, 'generateContent');
    assert.equal(row.error_code, 'client_closed');
    // read on after the client left: Gemini's own final counts
    assert.deepEqual([row.streamed, row.tokens_out, row.usage_estimated], [true, 40, false], JSON.stringify(row));
  });
});
