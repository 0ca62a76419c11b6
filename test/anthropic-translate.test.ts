// Contract tests of the Anthropic adapter and the two translations (OpenAI chat ↔ Anthropic
// Messages) on fixtures in each provider's real wire format: JSON answers and SSE event sequences
// as the providers' API references show them (tools, images, stop reasons, cached tokens, streams
// cut short).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Exchange, ExchangeInput, ResolvedRoute, StreamMeter } from '../src/providers/types.ts';
import { isUnsupported } from '../src/providers/types.ts';
import { PROVIDERS, adapterFor } from '../src/providers/registry.ts';
import { AnthropicStreamMeter } from '../src/providers/anthropic/stream-meter.ts';
import { anthropicAnswerUsage } from '../src/providers/anthropic/answer-usage.ts';
import { countTokensLocally, messagesViaChat } from '../src/providers/translate/messages-via-chat.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { IMAGE_TOKENS } from './support/fake-anthropic.ts';

const route = (over: Partial<ResolvedRoute> = {}): ResolvedRoute => ({
  deploymentId: 1, credentialId: 1, provider: 'anthropic', baseUrl: 'http://x/v1', apiKey: ['fake', 'key', String(Date.now())].join('-'),
  options: {}, upstreamModel: 'claude-sonnet-4-5', price: undefined, weight: 1, priority: 0, ...over,
});

function input(endpoint: ExchangeInput['endpoint'], body: Record<string, unknown>, over: Partial<ExchangeInput> = {}): ExchangeInput {
  return { endpoint, body, raw: Buffer.from(JSON.stringify(body)), headers: {}, route: route(), stream: body.stream === true, model: String(body.model), promptEstimate: 40, ...over };
}

const anthropic = adapterFor('anthropic');
function exchange(i: ExchangeInput): Exchange {
  const ex = anthropic.exchange(i);
  assert.ok(!isUnsupported(ex), 'supported');
  return ex;
}
const json = (x: string | Buffer): any => JSON.parse(x.toString());
const lastRequest = (fake: FakeUpstream) => fake.requests[fake.requests.length - 1]!;

/** Feeds an SSE text (events separated by blank lines) to a meter; the events it writes, parsed. */
function pipe(meter: StreamMeter, sse: string): { out: string; events: { event?: string; data: any }[]; completedAt: number } {
  let out = '';
  let completedAt = -1;
  const raw = sse.trim().split('\n\n');
  raw.forEach((e, i) => {
    const r = meter.onEvent(Buffer.from(e));
    if (r === true) out += `${e}\n\n`;
    else if (typeof r === 'string') out += r;
    if (meter.completed && completedAt === -1) completedAt = i;
  });
  const events = out.trim() === '' ? [] : out.trim().split('\n\n').map((e) => {
    const name = /^event: (.*)$/m.exec(e)?.[1];
    const data = /^data: (.*)$/m.exec(e)![1]!;
    return { event: name, data: data === '[DONE]' ? '[DONE]' : JSON.parse(data) };
  });
  return { out, events, completedAt };
}

// ---- fixtures: Anthropic (https://docs.anthropic.com/en/api/messages-streaming) ----

const ANTHROPIC_TOOL_STREAM = `event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":2},"content":[],"stop_reason":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay, let's check"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the weather."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"San Francisco, CA\\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}`;

const ANTHROPIC_MESSAGE = {
  id: 'msg_01Aq9w938a90dw8q', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5',
  content: [
    { type: 'text', text: 'I\'ll check the "usage": {"input_tokens": 999} for you.' },
    { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'celsius' } },
  ],
  stop_reason: 'tool_use', stop_sequence: null,
  usage: { input_tokens: 2095, cache_creation_input_tokens: 0, cache_read_input_tokens: 1800, output_tokens: 503, service_tier: 'standard', cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } },
};

// ---- fixtures: OpenAI (https://platform.openai.com/docs/api-reference/chat-streaming) ----

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-123', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini', system_fingerprint: 'fp_44709d6fcb', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}`;
const OPENAI_TOOL_STREAM = [
  chunk({ role: 'assistant', content: null, refusal: null }),
  chunk({ content: 'Let me look.' }),
  chunk({ tool_calls: [{ index: 0, id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }),
  chunk({}, 'tool_calls'),
  `data: ${JSON.stringify({ id: 'chatcmpl-123', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 64, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } } })}`,
  'data: [DONE]',
].join('\n\n');

// ============ OpenAI chat → Anthropic (the Anthropic adapter's translation) ============

test('chat request → Messages: system, images, tool calls and results, tools, tool_choice, stops, max_tokens', () => {
  const body = {
    model: 'claude-sonnet', temperature: 1.5, top_p: 0.9, stop: 'END', user: 'u-1', parallel_tool_calls: false,
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } } }],
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
      { role: 'user', content: [{ type: 'text', text: 'What is in this picture, and the weather?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }, { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
      { role: 'user', content: 'Thanks' },
    ],
  };
  const ex = exchange(input('chat/completions', body));
  assert.equal(ex.path, '/messages');
  const out = json(ex.body);
  assert.equal(out.model, 'claude-sonnet-4-5', 'the upstream model');
  assert.equal(out.system, 'You are terse.\n\nUse metric units.');
  assert.equal(out.max_tokens, 4096, 'required by Anthropic: defaulted');
  assert.equal(out.temperature, 1, "clamped to Anthropic's range");
  assert.equal(out.top_p, 0.9);
  assert.deepEqual(out.stop_sequences, ['END']);
  assert.deepEqual(out.metadata, { user_id: 'u-1' });
  assert.deepEqual(out.tools, [{ name: 'get_weather', description: 'Weather now', input_schema: body.tools[0]!.function.parameters }]);
  assert.deepEqual(out.tool_choice, { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true });
  assert.equal(out.stream, undefined);
  assert.deepEqual(out.messages, [
    { role: 'user', content: [
      { type: 'text', text: 'What is in this picture, and the weather?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ] },
    { role: 'assistant', content: [
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'Rome' } },
    ] },
    // both tool results and the next user text in ONE user turn (roles alternate)
    { role: 'user', content: [
      { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
      { type: 'tool_result', tool_use_id: 'call_2', content: '24C' },
      { type: 'text', text: 'Thanks' },
    ] },
  ]);
});

test('chat request → Messages: max_tokens from max_completion_tokens, else the price book cap; tool_choice words', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  const withPrice = (max: number) => route({ price: { input: 1, output: 1, maxOutputTokens: max } });
  assert.equal(json(exchange(input('chat/completions', { ...base, max_completion_tokens: 50, max_tokens: 99 })).body).max_tokens, 50);
  assert.equal(json(exchange(input('chat/completions', { ...base, max_tokens: 99 })).body).max_tokens, 99);
  assert.equal(json(exchange(input('chat/completions', base, { route: withPrice(64000) })).body).max_tokens, 64000);
  const tools = [{ type: 'function', function: { name: 'f' } }];
  const choice = (tool_choice: unknown) => json(exchange(input('chat/completions', { ...base, tools, tool_choice })).body).tool_choice;
  assert.deepEqual(choice('auto'), { type: 'auto' });
  assert.deepEqual(choice('required'), { type: 'any' });
  assert.deepEqual(choice('none'), { type: 'none' });
  assert.deepEqual(json(exchange(input('chat/completions', { ...base, tools })).body).tools, [{ name: 'f', input_schema: { type: 'object', properties: {} } }]);
  const streamed = json(exchange(input('chat/completions', { ...base, stream: true, stop: ['a', 'b'] })).body);
  assert.equal(streamed.stream, true);
  assert.deepEqual(streamed.stop_sequences, ['a', 'b']);
  assert.equal(streamed.stream_options, undefined, 'not an Anthropic field');
});

test('Messages answer → chat.completion: text, tool calls, finish reasons, usage with cache reads and writes', () => {
  const ex = exchange(input('chat/completions', { model: 'claude-sonnet', messages: [{ role: 'user', content: 'hi' }] }));
  const mapped = ex.mapJson(Buffer.from(JSON.stringify(ANTHROPIC_MESSAGE)))!;
  const out = json(mapped.body);
  assert.equal(out.object, 'chat.completion');
  assert.equal(out.model, 'claude-sonnet', 'the model the client named');
  assert.match(out.id, /^chatcmpl-/);
  assert.deepEqual(out.choices[0].message, {
    role: 'assistant', content: ANTHROPIC_MESSAGE.content[0]!.text, refusal: null,
    tool_calls: [{ id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' } }],
  });
  assert.equal(out.choices[0].finish_reason, 'tool_calls');
  // Anthropic's input_tokens exclude cache reads/writes; OpenAI's prompt_tokens include them
  assert.deepEqual(out.usage, { prompt_tokens: 3895, completion_tokens: 503, total_tokens: 4398, prompt_tokens_details: { cached_tokens: 1800 } });
  assert.deepEqual(mapped.usage, { tokensIn: 3895, tokensOut: 503, cachedTokens: 1800 });
  const finish = (stop_reason: string) => json(ex.mapJson(Buffer.from(JSON.stringify({ ...ANTHROPIC_MESSAGE, stop_reason })))!.body).choices[0].finish_reason;
  assert.deepEqual(['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'refusal', 'pause_turn'].map(finish), ['stop', 'stop', 'length', 'tool_calls', 'content_filter', 'stop']);
  assert.equal(ex.mapJson(Buffer.from('{"type":"error"}')), undefined, 'not a message: malformed');
});

test('Messages stream → chat chunks, event by event: role, content, tool call deltas, finish, usage only when asked, [DONE] completes', () => {
  for (const includeUsage of [false, true]) {
    const body = { model: 'claude-sonnet', stream: true, messages: [{ role: 'user', content: 'hi' }], ...(includeUsage ? { stream_options: { include_usage: true } } : {}) };
    const ex = exchange(input('chat/completions', body));
    const { events, completedAt } = pipe(ex.meter, ANTHROPIC_TOOL_STREAM);
    assert.ok(events.every((e) => e.event === undefined), 'data-only events, as OpenAI sends');
    assert.equal(completedAt, 12, 'completed at message_stop, not before');
    assert.equal(events.at(-1)!.data, '[DONE]');
    const chunks = events.slice(0, -1).map((e) => e.data);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'claude-sonnet' && c.id === chunks[0].id));
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    const choices = chunks.flatMap((c) => c.choices);
    assert.equal(choices.map((c) => c.delta.content ?? '').join(''), "Okay, let's check the weather.");
    const calls = choices.flatMap((c) => c.delta.tool_calls ?? []);
    assert.deepEqual(calls[0], { index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } });
    assert.equal(calls.map((c) => c.function.arguments).join(''), '{"location": "San Francisco, CA"}');
    assert.deepEqual(choices.map((c) => c.finish_reason).filter(Boolean), ['tool_calls']);
    const usageChunks = chunks.filter((c) => c.usage);
    if (includeUsage) {
      assert.equal(usageChunks.length, 1);
      assert.deepEqual(usageChunks[0].choices, []);
      assert.deepEqual(usageChunks[0].usage, { prompt_tokens: 2572, completion_tokens: 89, total_tokens: 2661, prompt_tokens_details: { cached_tokens: 2000 } });
    } else assert.equal(usageChunks.length, 0, 'no usage chunk unless stream_options.include_usage');
    assert.deepEqual(ex.meter.result(), { usage: { tokensIn: 2572, tokensOut: 89, cachedTokens: 2000 }, estimated: false });
  }
});

test('Messages stream cut short (translated and native): usage estimated from what was seen, not completed', () => {
  const cut = ANTHROPIC_TOOL_STREAM.split('\n\n').slice(0, 5).join('\n\n'); // through two text deltas
  const ex = exchange(input('chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
  pipe(ex.meter, cut);
  assert.equal(ex.meter.completed, false);
  // the prompt as message_start reported it; output: the provisional 2 vs two deltas seen
  assert.deepEqual(ex.meter.result(), { usage: { tokensIn: 2572, tokensOut: 2, cachedTokens: 2000 }, estimated: true });
  const native = new AnthropicStreamMeter(40);
  pipe(native, ANTHROPIC_TOOL_STREAM.split('\n\n').slice(0, 9).join('\n\n'));
  assert.deepEqual(native.result(), { usage: { tokensIn: 2572, tokensOut: 4, cachedTokens: 2000 }, estimated: true }, 'four deltas seen');
  const none = new AnthropicStreamMeter(40);
  assert.deepEqual(none.result(), { usage: { tokensIn: 40, tokensOut: 0 }, estimated: true }, 'nothing seen: the prompt estimate');
});

test('a mid-stream Anthropic error event becomes an OpenAI error event', () => {
  const ex = exchange(input('chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
  const { events } = pipe(ex.meter, 'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}');
  assert.equal(events[0]!.data.error.message, 'Overloaded');
});

// ============ native Anthropic ============

test('native /v1/messages: the client bytes as received, x-api-key, anthropic-version and anthropic-beta passed through', () => {
  const body = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
  const i = input('messages', body, { headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'prompt-caching-2024-07-31,token-efficient-tools-2025-02-19', 'x-api-key': 'the-clients-tollgate-key' } });
  const ex = exchange(i);
  assert.equal(ex.path, '/messages');
  assert.equal(ex.body, i.raw, 'same model name: the bytes as received');
  assert.equal(ex.headers['x-api-key'], i.route.apiKey, "the credential, never the client's key");
  assert.equal(ex.headers['anthropic-version'], '2023-06-01');
  assert.equal(ex.headers['anthropic-beta'], 'prompt-caching-2024-07-31,token-efficient-tools-2025-02-19');
  assert.equal(ex.headers.authorization, undefined);
  const mapped = exchange(input('messages', { ...body, model: 'sonnet' }, { headers: { 'anthropic-version': '2024-01-01' } }));
  assert.equal(json(mapped.body).model, 'claude-sonnet-4-5', 'mapped to the upstream name when it differs');
  assert.equal(mapped.headers['anthropic-version'], '2024-01-01');
  assert.equal(exchange(input('messages', body)).headers['anthropic-version'], '2023-06-01', 'the default version');
  const answer = exchange(i).mapJson(Buffer.from(JSON.stringify(ANTHROPIC_MESSAGE)))!;
  assert.equal(answer.body.toString(), JSON.stringify(ANTHROPIC_MESSAGE), 'the answer as received');
  assert.deepEqual(answer.usage, { tokensIn: 3895, tokensOut: 503, cachedTokens: 1800 });
});

test('native stream meter: relays every event untouched, usage from message_start + message_delta, completed at message_stop', () => {
  const meter = exchange(input('messages', { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [] })).meter;
  const { out, completedAt } = pipe(meter, ANTHROPIC_TOOL_STREAM);
  assert.equal(out, `${ANTHROPIC_TOOL_STREAM}\n\n`);
  assert.equal(completedAt, 12);
  assert.deepEqual(meter.result(), { usage: { tokensIn: 2572, tokensOut: 89, cachedTokens: 2000 }, estimated: false });
  // message_delta's cumulative input counts overwrite message_start's (as the SDKs do)
  const m2 = new AnthropicStreamMeter(0);
  pipe(m2, 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":0,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":30,"cache_read_input_tokens":10,"output_tokens":7}}\n\nevent: message_stop\ndata: {"type":"message_stop"}');
  assert.deepEqual(m2.result(), { usage: { tokensIn: 40, tokensOut: 7, cachedTokens: 10 }, estimated: false });
  const untyped = new AnthropicStreamMeter(0);
  pipe(untyped, ANTHROPIC_TOOL_STREAM.split('\n\n').map((e) => e.split('\n')[1]).join('\n\n'));
  assert.equal(untyped.completed, true, 'events without an event: line are read from their data');
  assert.deepEqual(untyped.result().usage.tokensOut, 89);
});

test('native answer usage is read from its usage object and equals a full parse', () => {
  const pretty = Buffer.from(JSON.stringify(ANTHROPIC_MESSAGE, null, 2));
  assert.deepEqual(anthropicAnswerUsage(pretty), { tokensIn: 3895, tokensOut: 503, cachedTokens: 1800 });
  assert.equal(anthropicAnswerUsage(Buffer.from('{"id":"x"}')), undefined);
  const usageFirst = { usage: { input_tokens: 5, output_tokens: 6 }, content: [{ type: 'text', text: 'a "usage" word' }] };
  assert.deepEqual(anthropicAnswerUsage(Buffer.from(JSON.stringify(usageFirst))), { tokensIn: 5, tokensOut: 6 });
});

test('native count_tokens: passed through and free; other APIs unsupported; error bodies read', () => {
  const body = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] };
  const ex = exchange(input('messages/count_tokens', body, { headers: { 'anthropic-beta': 'token-counting-2024-11-01' } }));
  assert.equal(ex.path, '/messages/count_tokens');
  assert.equal(ex.headers['anthropic-beta'], 'token-counting-2024-11-01');
  assert.deepEqual(ex.mapJson(Buffer.from('{"input_tokens":14}')), { body: Buffer.from('{"input_tokens":14}'), usage: { tokensIn: 0, tokensOut: 0 } });
  for (const endpoint of ['embeddings', 'completions', 'responses', 'generateContent'] as const) {
    const r = anthropic.exchange(input(endpoint, { model: 'm' }));
    assert.ok(isUnsupported(r) && r.unsupported.includes(`/v1/${endpoint}`), endpoint);
  }
  assert.equal(anthropic.errorMessage(429, '{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}'), 'Number of request tokens has exceeded your per-minute rate limit');
  assert.equal(anthropic.errorMessage(502, '<html>bad gateway</html>'), undefined);
  const spec = PROVIDERS.get('anthropic')!;
  assert.deepEqual([spec.defaultBaseUrl, spec.native, spec.translated], ['https://api.anthropic.com/v1', ['messages', 'messages/count_tokens'], ['chat/completions']]);
});

// ============ Anthropic Messages → OpenAI chat (messagesViaChat, for OpenAI-compatible providers) ============

const oaRoute = () => route({ provider: 'openai', upstreamModel: 'gpt-4o-mini' });
const viaChat = (body: Record<string, unknown>) => messagesViaChat(input('messages', body, { route: oaRoute() }), '/chat/completions', { authorization: 'Bearer x' });

test('Messages request → chat: system blocks, images, tool_use and tool_result order, tools, tool_choice, stop sequences, stream usage', () => {
  const body = {
    model: 'claude-sonnet', max_tokens: 256, stream: true, temperature: 0.2, top_k: 5, stop_sequences: ['\n\nHuman:'], metadata: { user_id: 'u-9' },
    system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'Metric units.' }],
    tools: [{ name: 'get_weather', description: 'Weather now', input_schema: { type: 'object', properties: { location: { type: 'string' } } } }, { type: 'web_search_20250305', name: 'web_search', max_uses: 2 }],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    messages: [
      { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } }, { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }, { type: 'text', text: 'Weather where this is?' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } }] },
      { role: 'user', content: [{ type: 'text', text: 'Also hurry.' }, { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18C' }] }] },
    ],
  };
  const ex = viaChat(body);
  assert.equal(ex.path, '/chat/completions');
  const out = json(ex.body);
  assert.equal(out.model, 'gpt-4o-mini');
  assert.deepEqual(out.messages, [
    { role: 'system', content: 'You are terse.\n\nMetric units.' },
    { role: 'user', content: [
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
      { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
      { type: 'text', text: 'Weather where this is?' },
    ] },
    { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'toolu_1', content: '18C' }, // right after the call, before the user's text
    { role: 'user', content: 'Also hurry.' },
  ]);
  assert.deepEqual(out.tools, [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: body.tools[0]!.input_schema } }], "Anthropic's server tools are dropped");
  assert.equal(out.tool_choice, 'required');
  assert.equal(out.parallel_tool_calls, false);
  assert.deepEqual(out.stop, ['\n\nHuman:']);
  assert.equal(out.max_tokens, 256);
  assert.equal(out.user, 'u-9');
  assert.equal(out.top_k, undefined);
  assert.deepEqual([out.stream, out.stream_options], [true, { include_usage: true }]);
  // OpenAI's own API and Azure: reasoning models refuse max_tokens
  const openaiDialect = json(messagesViaChat(input('messages', body, { route: oaRoute() }), '/chat/completions', {}, { maxCompletionTokens: true }).body);
  assert.deepEqual([openaiDialect.max_completion_tokens, openaiDialect.max_tokens], [256, undefined]);
});

test('chat answer → Anthropic message: text, tool_use, stop reasons, cached tokens', () => {
  const ex = viaChat({ model: 'claude-sonnet', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  const answer = {
    id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG', object: 'chat.completion', created: 1741570283, model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Sure.', refusal: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }], annotations: [] }, logprobs: null, finish_reason: 'tool_calls' }],
    usage: { prompt_tokens: 1117, completion_tokens: 46, total_tokens: 1163, prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 } },
    service_tier: 'default', system_fingerprint: 'fp_fc9f1d7035',
  };
  const mapped = ex.mapJson(Buffer.from(JSON.stringify(answer)))!;
  const out = json(mapped.body);
  assert.deepEqual(out, {
    id: 'msg_B9MHDbslfkBeAs8l4bebGdFOJ6PeG', type: 'message', role: 'assistant', model: 'claude-sonnet',
    content: [{ type: 'text', text: 'Sure.' }, { type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { location: 'Paris' } }],
    stop_reason: 'tool_use', stop_sequence: null,
    usage: { input_tokens: 93, cache_creation_input_tokens: 0, cache_read_input_tokens: 1024, output_tokens: 46 },
  });
  assert.deepEqual(mapped.usage, { tokensIn: 1117, tokensOut: 46, cachedTokens: 1024 });
  const stop = (finish_reason: string) => json(ex.mapJson(Buffer.from(JSON.stringify({ ...answer, choices: [{ ...answer.choices[0], finish_reason }] })))!.body).stop_reason;
  assert.deepEqual(['stop', 'length', 'tool_calls', 'content_filter'].map(stop), ['end_turn', 'max_tokens', 'tool_use', 'refusal']);
  assert.equal(ex.mapJson(Buffer.from('{"object":"list"}')), undefined);
});

test('chat stream → Anthropic events, one upstream event at a time: blocks, input_json_delta, message_delta usage, message_stop completes', () => {
  const ex = viaChat({ model: 'claude-sonnet', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const { events, completedAt } = pipe(ex.meter, OPENAI_TOOL_STREAM);
  assert.equal(completedAt, 8, 'completed at [DONE]');
  assert.ok(events.every((e) => e.event === e.data.type), 'every event named for its type');
  assert.deepEqual(events.map((e) => e.event), [
    'message_start',
    'content_block_start', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
    'content_block_start', 'content_block_delta', 'content_block_stop',
    'message_delta', 'message_stop',
  ]);
  assert.equal(events[0]!.data.message.model, 'claude-sonnet');
  assert.deepEqual(events[1]!.data, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  assert.deepEqual(events[2]!.data.delta, { type: 'text_delta', text: 'Let me look.' });
  assert.deepEqual(events[4]!.data, { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', input: {} } });
  assert.equal(events[5]!.data.delta.partial_json + events[6]!.data.delta.partial_json, '{"location":"Paris"}');
  assert.equal(events[8]!.data.index, 2);
  assert.deepEqual(events[11]!.data, { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 56, cache_creation_input_tokens: 0, cache_read_input_tokens: 64, output_tokens: 30 } });
  assert.deepEqual(ex.meter.result(), { usage: { tokensIn: 120, tokensOut: 30, cachedTokens: 64 }, estimated: false });
});

test('chat stream without a usage chunk, or cut short: estimated usage; message_delta still sent before message_stop', () => {
  const text = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'a' }), chunk({ content: ' b' }), chunk({}, 'length'), 'data: [DONE]'].join('\n\n');
  const ex = viaChat({ model: 'm', max_tokens: 2, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const { events } = pipe(ex.meter, text);
  assert.deepEqual(events.slice(-2).map((e) => e.event), ['message_delta', 'message_stop']);
  assert.equal(events.at(-2)!.data.delta.stop_reason, 'max_tokens');
  assert.deepEqual(ex.meter.result(), { usage: { tokensIn: 40, tokensOut: 2 }, estimated: true });
  const cut = viaChat({ model: 'm', max_tokens: 2, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  pipe(cut.meter, text.split('\n\n').slice(0, 2).join('\n\n'));
  assert.equal(cut.meter.completed, false);
  assert.deepEqual(cut.meter.result(), { usage: { tokensIn: 40, tokensOut: 1 }, estimated: true });
  const err = viaChat({ model: 'm', max_tokens: 2, stream: true, messages: [] });
  const { events: errEvents } = pipe(err.meter, 'data: {"error":{"message":"The server had an error","type":"server_error"}}');
  assert.deepEqual(errEvents[0], { event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'The server had an error' } } });
});

test('count_tokens without the provider: a local estimate (chars/4 + 3 per message + 1,600 per image), free', () => {
  const body = { model: 'm', system: 'x'.repeat(40), messages: [{ role: 'user', content: 'y'.repeat(80) }, { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }, { type: 'text', text: 'z'.repeat(4) }] }] };
  const ex = countTokensLocally(input('messages/count_tokens', body, { route: oaRoute() }));
  assert.deepEqual(ex.local, { status: 200, body: JSON.stringify({ input_tokens: 10 + 20 + 1 + 3 + 3 + 1600 }), usage: { tokensIn: 0, tokensOut: 0 } });
  const withTools = countTokensLocally(input('messages/count_tokens', { ...body, tools: [{ name: 'f', input_schema: { type: 'object' } }] }, { route: oaRoute() }));
  assert.ok(json(withTools.local!.body).input_tokens > json(ex.local!.body).input_tokens, 'tool definitions count');
});

// ============ the exchanges sent to the fake upstream (which checks requests as the real APIs do) ============

describe('against the fake upstream', () => {
  let fake: FakeUpstream;
  const SECRET = ['fake', 'anthropic', 'secret', String(process.pid)].join('-');
  const at = (provider: string, upstreamModel: string) => route({ provider, baseUrl: `${fake.baseUrl}/v1`, apiKey: SECRET, upstreamModel });
  before(async () => { fake = await startFakeUpstream({ requireAuth: SECRET }); });
  after(() => fake.close());

  /** Sends an exchange; a stream's events go through its meter one by one, as forward() does. */
  async function send(i: ExchangeInput, ex: Exchange): Promise<{ status: number; body: any; out: string }> {
    const res = await fetch(i.route.baseUrl + ex.path, { method: 'POST', headers: ex.headers, body: ex.body });
    const text = await res.text();
    if (!res.headers.get('content-type')?.includes('text/event-stream')) {
      const mapped = res.status === 200 ? ex.mapJson(Buffer.from(text)) : undefined;
      return { status: res.status, body: mapped ? json(mapped.body) : JSON.parse(text), out: text };
    }
    const { out } = pipe(ex.meter, text);
    return { status: res.status, body: undefined, out };
  }

  const weather = { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { location: { type: 'string' }, days: { type: 'integer' } }, required: ['location'] } } };

  test('chat → Anthropic: a tool call, its result sent back, and an image, all accepted; usage as the fake counted it', async () => {
    fake.reset();
    const first = input('chat/completions', { model: 'claude', tools: [weather], messages: [{ role: 'system', content: 'terse' }, { role: 'user', content: 'Weather in Paris?' }] }, { route: at('anthropic', 'claude-sonnet-4-5') });
    const r1 = await send(first, exchange(first));
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    const msg = r1.body.choices[0].message;
    assert.equal(r1.body.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), { location: 'tok0', days: 1 });
    assert.deepEqual([r1.body.usage.prompt_tokens, r1.body.usage.completion_tokens], [fake.usageTotals.prompt_tokens, fake.usageTotals.completion_tokens]);
    const headers = lastRequest(fake).headers;
    assert.equal(headers['x-api-key'], SECRET);
    assert.equal(headers['anthropic-version'], '2023-06-01');

    const png = 'data:image/png;base64,' + Buffer.from('not really a png').toString('base64');
    const second = input('chat/completions', {
      model: 'claude', tools: [weather],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris? And this?' }, { type: 'image_url', image_url: { url: png } }] },
        msg,
        { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '18C, sunny' },
      ],
    }, { route: at('anthropic', 'claude-sonnet-4-5') });
    const r2 = await send(second, exchange(second));
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
    assert.equal(r2.body.choices[0].finish_reason, 'stop', 'the tool result was matched to its call');
    assert.match(r2.body.choices[0].message.content, /^tok0 tok1/);
    assert.ok(r2.body.usage.prompt_tokens > IMAGE_TOKENS, 'the image reached the upstream');
  });

  test('chat → Anthropic stream with a tool call: the client sees the whole call; metered as the fake counted', async () => {
    fake.reset();
    const i = input('chat/completions', { model: 'claude', stream: true, stream_options: { include_usage: true }, tools: [weather], tool_choice: 'required', messages: [{ role: 'user', content: 'Weather?' }] }, { route: at('anthropic', 'claude-sonnet-4-5') });
    const ex = exchange(i);
    const { out } = await send(i, ex);
    const chunks = out.trim().split('\n\n').map((e) => e.slice(6)).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
    const choices = chunks.flatMap((c) => c.choices);
    assert.equal(choices.map((c) => c.delta.content ?? '').join(''), 'tok0 tok1');
    const calls = choices.flatMap((c) => c.delta.tool_calls ?? []);
    assert.equal(calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(calls.map((c) => c.function.arguments).join('')), { location: 'tok0', days: 1 });
    assert.ok(out.endsWith('data: [DONE]\n\n'));
    const want = { tokensIn: fake.usageTotals.prompt_tokens, tokensOut: fake.usageTotals.completion_tokens };
    assert.deepEqual(ex.meter.result(), { usage: want, estimated: false });
    assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: want.tokensIn, completion_tokens: want.tokensOut, total_tokens: want.tokensIn + want.tokensOut, prompt_tokens_details: { cached_tokens: 0 } });
  });

  test('native messages stream and count_tokens: relayed, metered as the fake counted; a bad image is the fake\'s 400', async () => {
    fake.reset();
    const body = { model: 'claude-sonnet-4-5', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hello there' }] };
    const i = input('messages', body, { route: at('anthropic', 'claude-sonnet-4-5'), headers: { 'anthropic-version': '2023-06-01' } });
    const ex = exchange(i);
    const { out } = await send(i, ex);
    assert.match(out, /^event: message_start\n/);
    assert.equal(ex.meter.completed, true);
    assert.deepEqual(ex.meter.result(), { usage: { tokensIn: fake.usageTotals.prompt_tokens, tokensOut: 5 }, estimated: false });
    const count = input('messages/count_tokens', { model: 'claude-sonnet-4-5', messages: body.messages }, { route: at('anthropic', 'claude-sonnet-4-5') });
    const counted = await send(count, exchange(count));
    assert.deepEqual(counted.body, { input_tokens: fake.usageTotals.prompt_tokens });
    const bad = input('chat/completions', { model: 'c', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AAAA' } }] }] }, { route: at('anthropic', 'claude-sonnet-4-5') });
    const refused = await send(bad, exchange(bad));
    assert.equal(refused.status, 400);
    assert.match(anthropic.errorMessage(400, refused.out)!, /media_type/);
  });

  test('Messages → OpenAI chat stream: Anthropic events, metered as the fake counted', async () => {
    fake.reset();
    const i = input('messages', { model: 'claude', max_tokens: 7, stream: true, system: 'be brief', messages: [{ role: 'user', content: 'hello there' }] }, { route: at('openai', 'gpt-4o-mini') });
    const ex = messagesViaChat(i, '/chat/completions', { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` });
    const { out } = await send(i, ex);
    const events = out.trim().split('\n\n').map((e) => JSON.parse(e.split('\n')[1]!.slice(6)));
    assert.equal(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join(''), 'tok0 tok1 tok2 tok3 tok4 tok5 tok6');
    assert.deepEqual(events.at(-2).usage, { input_tokens: fake.usageTotals.prompt_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 7 });
    assert.equal(events.at(-2).delta.stop_reason, 'max_tokens', 'capped by max_tokens: finish_reason length');
    assert.equal(events.at(-1).type, 'message_stop');
    assert.deepEqual(ex.meter.result(), { usage: { tokensIn: fake.usageTotals.prompt_tokens, tokensOut: 7 }, estimated: false });
  });
});
