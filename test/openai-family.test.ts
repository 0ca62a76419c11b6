// Contract tests of the OpenAI family's adapters (OpenAI with the Responses API, the presets,
// Azure OpenAI, Gemini): the upstream request each builds (path, headers, body), how a whole
// answer is mapped and metered, how a stream is metered (complete and cut short), errors. Each
// exchange is also sent to the fake upstream, which speaks each provider's real wire format, and
// checked against handwritten fixtures in those formats.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CREDENTIAL_PROVIDERS, PROVIDERS, adapterFor } from '../src/providers/registry.ts';
import { isUnsupported, type Endpoint, type Exchange, type ExchangeInput, type ResolvedRoute, type Usage } from '../src/providers/types.ts';
import { ResponsesStreamMeter, mapResponsesJson } from '../src/providers/openai/responses.ts';
import { GeminiStreamMeter, mapGenerateContent, normalizeGeminiError } from '../src/providers/gemini/native.ts';
import { API_VERSION } from '../src/providers/azure/adapter.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';

// built at runtime: no secret-looking literal in the repository
const SECRET = ['fake', 'provider', 'secret', String(process.pid)].join('-');

function route(provider: string, baseUrl: string, upstreamModel: string, options: Record<string, string> = {}): ResolvedRoute {
  return { deploymentId: 1, credentialId: 1, provider, baseUrl, apiKey: SECRET, options, upstreamModel, price: undefined, weight: 1, priority: 0 };
}

function input(endpoint: Endpoint, r: ResolvedRoute, body: Record<string, unknown>, stream = body.stream === true, model = String(body.model ?? r.upstreamModel)): ExchangeInput {
  return { endpoint, body, raw: Buffer.from(JSON.stringify(body)), headers: {}, route: r, stream, model, promptEstimate: 7 };
}

function exchange(x: ExchangeInput): Exchange {
  const out = adapterFor(x.route.provider).exchange(x);
  assert.ok(!isUnsupported(out), isUnsupported(out) ? out.unsupported : '');
  return out;
}

/** Sends the exchange to the fake; SSE answers are split into events and fed to the meter. */
async function send(x: ExchangeInput, ex: Exchange, keep = Infinity): Promise<{ status: number; text: string; events: Buffer[] }> {
  const res = await fetch(x.route.baseUrl + ex.path, { method: 'POST', headers: ex.headers, body: ex.body });
  const text = await res.text();
  const events: Buffer[] = [];
  if (res.headers.get('content-type')?.includes('text/event-stream')) {
    for (const e of text.split('\n\n')) if (e.length > 0 && events.length < keep) events.push(Buffer.from(e));
    // Responses and Gemini streams are relayed whole; the OpenAI meter drops the usage chunk the client did not ask for
    const whole = ex.meter instanceof ResponsesStreamMeter || ex.meter instanceof GeminiStreamMeter;
    for (const e of events) {
      const kept = ex.meter.onEvent(e);
      if (whole) assert.equal(kept, true, 'passthrough streams relay every event');
    }
  }
  return { status: res.status, text, events };
}

const lastRequest = (fake: FakeUpstream) => fake.requests[fake.requests.length - 1]!;

describe('OpenAI family adapters', () => {
  let fake: FakeUpstream;
  before(async () => { fake = await startFakeUpstream({ requireAuth: SECRET }); });
  after(() => fake.close());

  describe('registry', () => {
    test('every provider of the family is registered with its default base URL and APIs', () => {
      const want: Record<string, string | undefined> = {
        openai: 'https://api.openai.com/v1', openrouter: 'https://openrouter.ai/api/v1', groq: 'https://api.groq.com/openai/v1',
        together: 'https://api.together.xyz/v1', mistral: 'https://api.mistral.ai/v1', deepseek: 'https://api.deepseek.com/v1',
        fireworks: 'https://api.fireworks.ai/inference/v1', xai: 'https://api.x.ai/v1', vllm: undefined,
        ollama: 'http://localhost:11434/v1', lmstudio: 'http://localhost:1234/v1', azure: undefined,
        gemini: 'https://generativelanguage.googleapis.com/v1beta',
      };
      for (const [id, base] of Object.entries(want)) {
        const spec = PROVIDERS.get(id);
        assert.ok(spec, `${id} is registered`);
        assert.equal(spec.defaultBaseUrl, base, id);
        assert.equal(spec.adapter.provider, id);
        assert.equal(spec.native.includes('responses'), id === 'openai' || id === 'azure', `${id}: the Responses API only where the provider has it`);
      }
      assert.deepEqual(PROVIDERS.get('azure')!.options!.map((o) => [o.name, o.required]), [['api_version', true]]);
      assert.ok(PROVIDERS.get('gemini')!.native.includes('generateContent'));
    });

    test('docs/providers.md lists every credential provider with its default base URL and APIs', () => {
      const doc = readFileSync(new URL('../docs/providers.md', import.meta.url), 'utf8');
      for (const id of CREDENTIAL_PROVIDERS) {
        const spec = PROVIDERS.get(id)!;
        const row = doc.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));
        assert.ok(row, `${id} has a row`);
        const cells = row.split('|').map((c) => c.trim());
        assert.ok(spec.defaultBaseUrl ? cells[2] === `\`${spec.defaultBaseUrl}\`` : cells[2]!.startsWith('none'), `${id}: ${cells[2]}`);
        for (const e of spec.native) assert.ok(cells[4]!.replaceAll('*', '').split(', ').includes(e), `${id} native ${e}`);
        for (const e of spec.translated) assert.ok(cells[5]!.split(', ').includes(e), `${id} translated ${e}`);
        for (const o of spec.options ?? []) assert.ok(cells[3]!.includes(o.name), `${id} option ${o.name}`);
      }
    });

    test('Azure api_version: a date, optionally -preview', () => {
      for (const ok of ['2024-10-21', '2025-04-01-preview']) assert.ok(API_VERSION.test(ok), ok);
      for (const bad of ['2024-10', 'v1', '2024-10-21-beta', '2024-10-21&x=1', '']) assert.ok(!API_VERSION.test(bad), bad);
    });
  });

  describe('OpenAI: the Responses API', () => {
    const body = { model: 'gpt-5', input: [{ role: 'user', content: 'a prompt of some length here' }], instructions: 'be brief' };

    test('request: POST {base}/responses with a Bearer key; the body as received, or with the model mapped', () => {
      const same = input('responses', route('openai', fake.baseUrl + '/v1', 'gpt-5'), body);
      const ex = exchange(same);
      assert.equal(ex.path, '/responses');
      assert.equal(ex.headers.authorization, `Bearer ${SECRET}`);
      assert.equal(ex.body, same.raw, 'the client bytes, untouched');
      const mapped = exchange(input('responses', route('openai', fake.baseUrl + '/v1', 'gpt-5-2025-08-07'), body));
      assert.deepEqual(JSON.parse(String(mapped.body)), { ...body, model: 'gpt-5-2025-08-07' });
    });

    test('a whole answer is relayed as is, with usage incl. cached and reasoning tokens', async () => {
      const x = input('responses', route('openai', fake.baseUrl + '/v1', 'gpt-5-cached-reasoning'), body);
      const ex = exchange(x);
      const { status, text } = await send(x, ex);
      assert.equal(status, 200);
      const mapped = ex.mapJson(Buffer.from(text))!;
      assert.equal(String(mapped.body), text);
      const u = JSON.parse(text).usage;
      assert.deepEqual(mapped.usage, { tokensIn: u.input_tokens, tokensOut: u.output_tokens, cachedTokens: u.input_tokens_details.cached_tokens, reasoningTokens: u.output_tokens_details.reasoning_tokens });
      assert.ok(u.input_tokens_details.cached_tokens > 0 && u.output_tokens_details.reasoning_tokens > 0);
    });

    test('a stream is complete on response.completed, metered with its usage; no event is dropped', async () => {
      const x = input('responses', route('openai', fake.baseUrl + '/v1', 'gpt-5'), { ...body, stream: true });
      const ex = exchange(x);
      assert.equal(ex.stream, true);
      const { events } = await send(x, ex);
      assert.match(events[0]!.toString(), /^event: response\.created\n/);
      assert.match(events.at(-1)!.toString(), /^event: response\.completed\n/);
      assert.ok(!events.some((e) => e.includes('[DONE]')));
      const done = JSON.parse(events.at(-1)!.toString().split('data: ')[1]!).response.usage;
      assert.equal(ex.meter.completed, true);
      assert.deepEqual(ex.meter.result(), { usage: { tokensIn: done.input_tokens, tokensOut: done.output_tokens }, estimated: false });
    });

    test('max_output_tokens: response.incomplete also ends the stream, with its usage', async () => {
      const x = input('responses', route('openai', fake.baseUrl + '/v1', 'gpt-5'), { ...body, stream: true, max_output_tokens: 3 });
      const ex = exchange(x);
      const { events } = await send(x, ex);
      assert.match(events.at(-1)!.toString(), /^event: response\.incomplete\n/);
      assert.equal(ex.meter.completed, true);
      assert.equal(ex.meter.result().usage.tokensOut, 3);
    });

    test('a stream cut short is estimated: the prompt estimate, one token per text delta', async () => {
      const x = input('responses', route('openai', fake.baseUrl + '/v1', 'gpt-5'), { ...body, stream: true });
      const ex = exchange(x);
      await send(x, ex, 7); // created, in_progress, item added, part added, 3 deltas
      assert.equal(ex.meter.completed, false);
      assert.deepEqual(ex.meter.result(), { usage: { tokensIn: 7, tokensOut: 3 }, estimated: true });
    });

    test('fixture: data-only events, "usage" inside generated text and metadata do not fool the meter', () => {
      const m = new ResponsesStreamMeter(5);
      const ev = (o: unknown) => Buffer.from(`data: ${JSON.stringify(o)}`);
      m.onEvent(ev({ type: 'response.created', sequence_number: 0, response: { id: 'resp_1', object: 'response', status: 'in_progress', usage: null } }));
      m.onEvent(ev({ type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: '"usage": {"input_tokens": 999}' }));
      assert.equal(m.completed, false);
      m.onEvent(ev({
        type: 'response.completed', sequence_number: 2,
        response: { id: 'resp_1', object: 'response', status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: '"usage": {"input_tokens": 999}' }] }], usage: { input_tokens: 36, input_tokens_details: { cached_tokens: 0 }, output_tokens: 87, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 123 }, metadata: { usage: { note: 'x' } } },
      }));
      assert.equal(m.completed, true);
      assert.deepEqual(m.result(), { usage: { tokensIn: 36, tokensOut: 87 }, estimated: false });
    });

    test('fixture: response.failed completes the stream; its usage when present, else estimated', () => {
      const m = new ResponsesStreamMeter(5);
      m.onEvent(Buffer.from('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}'));
      m.onEvent(Buffer.from('event: response.failed\ndata: {"type":"response.failed","response":{"id":"resp_2","object":"response","status":"failed","error":{"code":"server_error","message":"x"},"usage":null}}'));
      assert.equal(m.completed, true);
      assert.deepEqual(m.result(), { usage: { tokensIn: 5, tokensOut: 1 }, estimated: true });
    });

    test('a whole answer without usage is still a response; anything else is malformed', () => {
      assert.deepEqual(mapResponsesJson(Buffer.from('{"id":"resp_3","object":"response","status":"completed","output":[],"usage":null}'))?.usage, undefined);
      assert.ok(mapResponsesJson(Buffer.from('{"id":"resp_3","object":"response","usage":null}')));
      assert.equal(mapResponsesJson(Buffer.from('{"choices":[]}')), undefined);
      assert.equal(mapResponsesJson(Buffer.from('<html>')), undefined);
    });

    test('errors: the upstream answers OpenAI-shaped, the adapter reads its message', async () => {
      const x = input('responses', route('openai', fake.baseUrl + '/v1', 'error-429'), body);
      const { status, text } = await send(x, exchange(x));
      assert.equal(status, 429);
      assert.equal(adapterFor('openai').errorMessage(status, text), 'Simulated error for model error-429');
    });

    test('chat/completions stays the base\'s passthrough', async () => {
      const x = input('chat/completions', route('openai', fake.baseUrl + '/v1', 'gpt-4o'), { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
      const ex = exchange(x);
      assert.equal(ex.path, '/chat/completions');
      const { status, text } = await send(x, ex);
      assert.equal(status, 200);
      assert.equal(ex.mapJson(Buffer.from(text))!.usage!.tokensIn, JSON.parse(text).usage.prompt_tokens);
    });
  });

  describe('Anthropic Messages translated to chat (Claude Code)', () => {
    test('OpenAI and Azure get max_completion_tokens (their reasoning models refuse max_tokens); presets max_tokens', () => {
      const body = { model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
      for (const [provider, key] of [['openai', 'max_completion_tokens'], ['azure', 'max_completion_tokens'], ['groq', 'max_tokens'], ['gemini', 'max_tokens']] as const) {
        const x = input('messages', route(provider, 'http://x', 'up', provider === 'azure' ? { api_version: '2024-10-21' } : {}), body);
        const sent = JSON.parse(String(exchange(x).body));
        assert.equal(sent[key], 64, `${provider}: ${JSON.stringify(sent)}`);
        assert.equal(sent[key === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens'], undefined, provider);
      }
    });
  });

  describe('presets', () => {
    test('a preset is the OpenAI passthrough at its own base URL, under its own id', async () => {
      const x = input('chat/completions', route('groq', fake.baseUrl + '/v1', 'llama-3.3-70b'), { model: 'llama', messages: [{ role: 'user', content: 'hello' }], stream: true });
      const ex = exchange(x);
      assert.equal(ex.path, '/chat/completions');
      assert.equal(ex.headers.authorization, `Bearer ${SECRET}`);
      const sent = JSON.parse(String(ex.body));
      assert.equal(sent.model, 'llama-3.3-70b');
      assert.deepEqual(sent.stream_options, { include_usage: true }, 'every stream asks for usage');
      await send(x, ex);
      assert.equal(ex.meter.completed, true);
      assert.equal(ex.meter.result().estimated, false);
    });

    test('the Responses API on a provider without it is refused, saying so', () => {
      for (const id of ['groq', 'openrouter', 'vllm', 'gemini', 'openai-compatible']) {
        const out = adapterFor(id).exchange(input('responses', route(id, 'http://x', 'm'), { model: 'm', input: 'hi' }));
        assert.ok(isUnsupported(out), id);
        assert.match(out.unsupported, /Responses API/);
        assert.ok(out.unsupported.includes(id), `names the provider: ${out.unsupported}`);
      }
    });

    test('Mistral: no stream_options is sent (it refuses unknown fields); its usage chunk is metered and relayed', () => {
      const ex = exchange(input('chat/completions', route('mistral', 'http://x', 'mistral-large-latest'), { model: 'mistral-large-latest', messages: [], stream: true, stream_options: { include_usage: true } }));
      assert.deepEqual(JSON.parse(String(ex.body)), { model: 'mistral-large-latest', messages: [], stream: true });
      const raw = input('chat/completions', route('mistral', 'http://x', 'mistral-small'), { model: 'mistral-small', messages: [], stream: true });
      assert.equal(exchange(raw).body, raw.raw, 'nothing to change: the client bytes');
      const last = Buffer.from('data: {"id":"x","object":"chat.completion.chunk","model":"mistral-large-latest","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"total_tokens":40,"completion_tokens":28}}');
      assert.equal(ex.meter.onEvent(last), true);
      ex.meter.onEvent(Buffer.from('data: [DONE]'));
      assert.deepEqual(ex.meter.result(), { usage: { tokensIn: 12, tokensOut: 28 }, estimated: false });
    });

    test('DeepSeek: prompt_cache_hit_tokens become cached tokens (whole answer and stream)', () => {
      const ex = exchange(input('chat/completions', route('deepseek', 'http://x', 'deepseek-chat'), { model: 'deepseek-chat', messages: [] }));
      const whole = '{"id":"x","object":"chat.completion","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":10,"total_tokens":130,"prompt_cache_hit_tokens":100,"prompt_cache_miss_tokens":20}}';
      assert.deepEqual(ex.mapJson(Buffer.from(whole))!.usage, { tokensIn: 120, tokensOut: 10, cachedTokens: 100, reasoningTokens: 0 });
      const sx = exchange(input('chat/completions', route('deepseek', 'http://x', 'deepseek-chat'), { model: 'deepseek-chat', messages: [], stream: true, stream_options: { include_usage: true } }));
      sx.meter.onEvent(Buffer.from('data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}'));
      sx.meter.onEvent(Buffer.from('data: {"id":"x","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":10,"total_tokens":130,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":56}}'));
      sx.meter.onEvent(Buffer.from('data: [DONE]'));
      assert.equal(sx.meter.completed, true);
      assert.deepEqual(sx.meter.result(), { usage: { tokensIn: 120, tokensOut: 10, cachedTokens: 64, reasoningTokens: 0 }, estimated: false });
    });
  });

  describe('Azure OpenAI', () => {
    const az = (deployment: string, api_version = '2024-10-21') => route('azure', fake.baseUrl, deployment, { api_version });

    test('deployment URLs with api-version, the key in api-key (no Authorization header)', () => {
      const ex = exchange(input('chat/completions', az('prod-gpt4o'), { model: 'gpt-4o', messages: [] }));
      assert.equal(ex.path, '/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21');
      assert.equal(ex.headers['api-key'], SECRET);
      assert.equal(ex.headers.authorization, undefined);
      assert.equal(exchange(input('embeddings', az('emb'), { model: 'e', input: 'x' })).path, '/openai/deployments/emb/embeddings?api-version=2024-10-21');
      assert.equal(exchange(input('completions', az('inst', '2025-04-01-preview'), { model: 'i', prompt: 'x' })).path, '/openai/deployments/inst/completions?api-version=2025-04-01-preview');
    });

    test('chat, streaming chat and embeddings against Azure\'s wire format', async () => {
      const chat = input('chat/completions', az('prod-gpt4o'), { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello azure' }] });
      const ex = exchange(chat);
      const r = await send(chat, ex);
      assert.equal(r.status, 200, r.text);
      assert.equal(lastRequest(fake).path, '/openai/deployments/prod-gpt4o/chat/completions');
      assert.ok(ex.mapJson(Buffer.from(r.text))!.usage!.tokensOut > 0);
      const streamed = input('chat/completions', az('prod-gpt4o'), { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello azure' }], stream: true });
      const sx = exchange(streamed);
      await send(streamed, sx);
      assert.equal(sx.meter.completed, true);
      assert.equal(sx.meter.result().estimated, false);
      const emb = input('embeddings', az('emb'), { model: 'text-embedding-3-small', input: 'some text' });
      const e = exchange(emb);
      const er = await send(emb, e);
      assert.equal(er.status, 200, er.text);
      assert.equal(e.mapJson(Buffer.from(er.text))!.usage!.tokensIn, JSON.parse(er.text).usage.prompt_tokens);
    });

    test('the Responses API at /openai/v1/responses, with the deployment as model', async () => {
      const x = input('responses', az('codex-deploy'), { model: 'gpt-5-codex', input: 'write a test', stream: true });
      const ex = exchange(x);
      assert.equal(ex.path, '/openai/v1/responses');
      assert.equal(JSON.parse(String(ex.body)).model, 'codex-deploy');
      await send(x, ex);
      assert.equal(ex.meter.completed, true);
      assert.equal(ex.meter.result().estimated, false);
    });

    test('errors: Azure\'s OpenAI-shaped bodies (missing deployment, bad key, bad api-version)', async () => {
      const missing = input('chat/completions', az('missing-deployment'), { model: 'x', messages: [] });
      const r = await send(missing, exchange(missing));
      assert.equal(r.status, 404);
      assert.match(adapterFor('azure').errorMessage(404, r.text)!, /deployment for this resource does not exist/);
      const wrongKey = input('chat/completions', { ...az('prod'), apiKey: 'not-the-key' }, { model: 'x', messages: [] });
      const w = await send(wrongKey, exchange(wrongKey));
      assert.equal(w.status, 401);
      assert.match(adapterFor('azure').errorMessage(401, w.text)!, /Access denied/);
      const badVersion = input('chat/completions', az('prod', 'latest'), { model: 'x', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal((await send(badVersion, exchange(badVersion))).status, 400);
    });
  });

  describe('model lists (a catch-all credential\'s GET /v1/models)', () => {
    test('Azure: {base}/openai/v1/models with api-key; Gemini: its native {base}/models with x-goog-api-key', async () => {
      for (const [provider, base, want] of [['azure', fake.baseUrl, 'gpt-4o'], ['gemini', fake.baseUrl + '/v1beta', 'models/gemini-2.5-flash']] as const) {
        const r = route(provider, base, '*', provider === 'azure' ? { api_version: '2024-10-21' } : {});
        const req = adapterFor(provider).modelsRequest!(r);
        const res = await fetch(base + req.path, { headers: req.headers });
        assert.equal(res.status, 200, provider);
        const json = await res.json() as any;
        assert.ok(JSON.stringify(json.data ?? json.models).includes(want), provider);
        assert.equal(req.headers.authorization, undefined, `${provider}: its own key header`);
      }
    });
  });

  describe('Google Gemini', () => {
    const gem = (model: string) => route('gemini', fake.baseUrl + '/v1beta', model);
    const native = { contents: [{ role: 'user', parts: [{ text: 'Explain how a gateway meters tokens' }] }], generationConfig: { maxOutputTokens: 9 } };

    test('chat and embeddings through the OpenAI-compatible endpoint (Bearer); legacy completions refused', async () => {
      const x = input('chat/completions', gem('gemini-2.5-flash'), { model: 'gemini', messages: [{ role: 'user', content: 'hi' }], stream: true });
      const ex = exchange(x);
      assert.equal(ex.path, '/openai/chat/completions');
      assert.equal(ex.headers.authorization, `Bearer ${SECRET}`);
      await send(x, ex);
      assert.equal(ex.meter.completed, true);
      assert.equal(ex.meter.result().estimated, false);
      const e = input('embeddings', gem('gemini-embedding-001'), { model: 'e', input: 'x' });
      const ee = exchange(e);
      assert.equal(ee.path, '/openai/embeddings');
      assert.equal((await send(e, ee)).status, 200);
      const legacy = adapterFor('gemini').exchange(input('completions', gem('g'), { model: 'g', prompt: 'x' }));
      assert.ok(isUnsupported(legacy) && /completions/.test(legacy.unsupported));
    });

    test('generateContent: POST {base}/models/{model}:generateContent, x-goog-api-key, the body as received', async () => {
      const x = input('generateContent', gem('gemini-2.5-pro-cached-reasoning'), native, false, 'gemini-pro');
      const ex = exchange(x);
      assert.equal(ex.path, '/models/gemini-2.5-pro-cached-reasoning:generateContent');
      assert.equal(ex.headers['x-goog-api-key'], SECRET);
      assert.equal(ex.headers.authorization, undefined);
      assert.equal(ex.body, x.raw);
      const r = await send(x, ex);
      assert.equal(r.status, 200, r.text);
      const u = JSON.parse(r.text).usageMetadata;
      assert.ok(u.thoughtsTokenCount > 0 && u.cachedContentTokenCount > 0);
      assert.deepEqual(ex.mapJson(Buffer.from(r.text))!.usage, { tokensIn: u.promptTokenCount, tokensOut: u.candidatesTokenCount + u.thoughtsTokenCount, cachedTokens: u.cachedContentTokenCount, reasoningTokens: u.thoughtsTokenCount });
      assert.equal(exchange(input('generateContent', gem('models/gemini-2.0-flash'), native, false)).path, '/models/gemini-2.0-flash:generateContent');
    });

    test('streamGenerateContent?alt=sse: complete at the chunk with a finishReason, metered with the last usageMetadata', async () => {
      const x = input('generateContent', gem('gemini-2.5-flash'), native, true);
      const ex = exchange(x);
      assert.equal(ex.path, '/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
      const { events } = await send(x, ex);
      assert.ok(events.length > 1);
      const last = JSON.parse(events.at(-1)!.toString().slice('data: '.length));
      assert.equal(last.candidates[0].finishReason, 'MAX_TOKENS');
      assert.equal(ex.meter.completed, true);
      assert.deepEqual(ex.meter.result(), { usage: { tokensIn: last.usageMetadata.promptTokenCount, tokensOut: 9 }, estimated: false });
    });

    test('a stream cut short: the prompt count reported so far, output estimated from the text seen', async () => {
      const x = input('generateContent', gem('gemini-2.5-flash'), { ...native, generationConfig: { maxOutputTokens: 12 } }, true);
      const ex = exchange(x);
      const { events } = await send(x, ex, 1); // one chunk of four words: "tok0 tok1 tok2 tok3"
      const first = JSON.parse(events[0]!.toString().slice('data: '.length));
      assert.equal(ex.meter.completed, false);
      const r = ex.meter.result();
      assert.equal(r.estimated, true);
      assert.equal(r.usage.tokensIn, first.usageMetadata.promptTokenCount);
      assert.equal(r.usage.tokensOut, Math.ceil('tok0 tok1 tok2 tok3'.length / 4));
    });

    test('fixture: a real-shaped stream with thoughts, and a whole answer without usage', () => {
      const m = new GeminiStreamMeter(3);
      m.onEvent(Buffer.from('data: {"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 11,"totalTokenCount": 11,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 11}]},"modelVersion": "gemini-2.5-flash","responseId": "abc"}'));
      m.onEvent(Buffer.from('data: {"candidates": [{"content": {"parts": [{"text": " answer."}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 11,"candidatesTokenCount": 2,"totalTokenCount": 53,"thoughtsTokenCount": 40},"modelVersion": "gemini-2.5-flash","responseId": "abc"}'));
      assert.equal(m.completed, true);
      assert.deepEqual(m.result(), { usage: { tokensIn: 11, tokensOut: 42, cachedTokens: 0, reasoningTokens: 40 } satisfies Usage, estimated: false });
      assert.deepEqual(mapGenerateContent(Buffer.from('{"promptFeedback":{"blockReason":"SAFETY"}}'))?.usage, undefined);
      assert.equal(mapGenerateContent(Buffer.from('{"choices":[]}')), undefined);
    });

    test('errors: {error:{code,message,status}} natively, a list of those on the OpenAI endpoint; a bad key is a 400', async () => {
      const x = input('generateContent', gem('error-429'), native, false);
      const r = await send(x, exchange(x));
      assert.equal(r.status, 429);
      assert.equal(JSON.parse(r.text).error.status, 'RESOURCE_EXHAUSTED');
      assert.equal(adapterFor('gemini').errorMessage(429, r.text), 'Simulated error for model error-429');
      const bad = input('chat/completions', { ...gem('gemini-2.5-flash'), apiKey: 'wrong' }, { model: 'g', messages: [{ role: 'user', content: 'x' }] });
      const b = await send(bad, exchange(bad));
      assert.equal(b.status, 400);
      assert.ok(Array.isArray(JSON.parse(b.text)));
      assert.equal(adapterFor('gemini').errorMessage(400, b.text), 'API key not valid. Please pass a valid API key.');
      // relayed as the usual error object, and as what it is: the gateway's key refused
      const n = normalizeGeminiError(b.status, b.text);
      assert.equal(n.status, 401);
      assert.equal(JSON.parse(n.text).error.status, 'INVALID_ARGUMENT');
      assert.deepEqual(normalizeGeminiError(429, r.text), { status: 429, text: r.text });
      assert.deepEqual(normalizeGeminiError(500, 'upstream connect error'), { status: 500, text: 'upstream connect error' });
    });
  });
});
