// The fake upstream is only useful if the official SDKs accept it as the real thing; these tests
// point the unmodified `openai` and `@anthropic-ai/sdk` clients at it.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream, promptTokens } from './support/fake-upstream.ts';
import type { FakeUpstream } from './support/fake-upstream.ts';

const KEY = 'sk-upstream-master';
let fake: FakeUpstream;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  fake = await startFakeUpstream({ requireAuth: KEY });
  // maxRetries 0: the SDKs retry 429/5xx by default, which would hide the error tests' statuses.
  openai = new OpenAI({ apiKey: KEY, baseURL: fake.baseUrl + '/v1', maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: KEY, baseURL: fake.baseUrl, maxRetries: 0 });
});
after(() => fake?.close());
beforeEach(() => { fake.reset(); fake.options = { requireAuth: KEY }; });

const messages = [
  { role: 'system' as const, content: 'You are terse.' },                                     // 14 chars → 4 + 3
  { role: 'user' as const, content: [{ type: 'text' as const, text: 'Say hello, please!' }] }, // 18 chars → 5 + 3
];

describe('fake upstream via the openai SDK', () => {
  test('chat completion, non-streaming', async () => {
    const res = await openai.chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(promptTokens(messages), 15);
    assert.equal(res.object, 'chat.completion');
    assert.match(res.id, /^chatcmpl-/);
    assert.equal(res.choices[0]?.message.content, Array.from({ length: 12 }, (_, i) => `tok${i}`).join(' '));
    assert.equal(res.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(res.usage && [res.usage.prompt_tokens, res.usage.completion_tokens, res.usage.total_tokens], [15, 12, 27]);
    assert.deepEqual(fake.usageTotals, { requests: 1, prompt_tokens: 15, completion_tokens: 12 });
    const rec = fake.requests[0];
    assert.equal(rec?.path, '/v1/chat/completions');
    assert.equal(rec?.headers.authorization, `Bearer ${KEY}`);
    assert.equal(rec?.body.model, 'gpt-4o');
  });

  test('max_tokens truncates with finish_reason length', async () => {
    const res = await openai.chat.completions.create({ model: 'gpt-4o', messages, max_completion_tokens: 5 });
    assert.equal(res.choices[0]?.message.content, 'tok0 tok1 tok2 tok3 tok4');
    assert.equal(res.choices[0]?.finish_reason, 'length');
    assert.equal(res.usage?.completion_tokens, 5);
  });

  test('streaming with include_usage reports usage in a final choices:[] chunk', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true }, max_tokens: 4 });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) { usage = chunk.usage; assert.equal(chunk.choices.length, 0); }
    }
    assert.equal(text, 'tok0 tok1 tok2 tok3');
    assert.equal(finish, 'length');
    assert.deepEqual(usage, {
      prompt_tokens: 15, completion_tokens: 4, total_tokens: 19,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    });
    assert.deepEqual(fake.usageTotals, { requests: 1, prompt_tokens: 15, completion_tokens: 4 });
  });

  test('streaming without include_usage sends no usage', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    let chunks = 0;
    for await (const chunk of stream) { chunks++; assert.equal(chunk.usage, undefined); }
    assert.equal(chunks, 1 + 12 + 1); // role chunk, one per token, finish chunk
    assert.deepEqual(fake.usageTotals, { requests: 0, prompt_tokens: 0, completion_tokens: 0 });
  });

  test('client abort mid-stream: only usage actually sent is counted', async () => {
    fake.options.chunkDelayMs = 5;
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) { if (chunk.choices[0]?.delta.content === ' tok2') break; }
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(fake.usageTotals, { requests: 0, prompt_tokens: 0, completion_tokens: 0 });
  });

  test('legacy completions and embeddings', async () => {
    const c = await openai.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'abcdefgh', max_tokens: 3 });
    assert.equal(c.object, 'text_completion');
    assert.equal(c.choices[0]?.text, 'tok0 tok1 tok2');
    assert.deepEqual(c.usage && [c.usage.prompt_tokens, c.usage.completion_tokens], [2 + 3, 3]);
    const e = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['abcd', 'abcdefgh'] });
    assert.equal(e.data.length, 2);
    assert.equal(e.data[0]?.embedding.length, 8); // decoded from base64, the SDK's default encoding
    assert.deepEqual(e.usage, { prompt_tokens: 3, total_tokens: 3 });
    const f = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'abcd', encoding_format: 'float' });
    assert.deepEqual(f.data[0]?.embedding.map((x) => Math.fround(x)), e.data[0]?.embedding);
    assert.deepEqual(fake.usageTotals, { requests: 3, prompt_tokens: 5 + 3 + 1, completion_tokens: 3 });
  });

  test('models list', async () => {
    const ids = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    assert.ok(ids.includes('gpt-4o') && ids.includes('text-embedding-3-small'));
  });

  test('error-<status> models and failStatus throw APIError with that status and OpenAI shape', async () => {
    for (const status of [400, 429, 500, 503]) {
      const err = await openai.chat.completions.create({ model: `error-${status}`, messages }).catch((e: unknown) => e);
      assert.ok(err instanceof OpenAI.APIError, String(err));
      assert.equal(err.status, status);
      assert.equal(typeof err.message, 'string');
      assert.ok(err.type);
    }
    fake.options.failStatus = 502;
    await assert.rejects(openai.chat.completions.create({ model: 'gpt-4o', messages }), { status: 502 });
    assert.deepEqual(fake.usageTotals.requests, 0);
  });

  test('wrong credential → 401 AuthenticationError', async () => {
    const bad = new OpenAI({ apiKey: 'nope', baseURL: fake.baseUrl + '/v1', maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ model: 'gpt-4o', messages }), OpenAI.AuthenticationError);
  });

  test('no-usage models omit usage', async () => {
    const res = await openai.chat.completions.create({ model: 'gpt-4o-no-usage', messages });
    assert.equal(res.usage, undefined);
    assert.deepEqual(fake.usageTotals.requests, 0);
  });

  test('latency: slow- models take at least 200ms', async () => {
    const t0 = performance.now();
    await openai.chat.completions.create({ model: 'slow-gpt-4o', messages });
    assert.ok(performance.now() - t0 >= 195);
  });
});

describe('fake upstream via the @anthropic-ai/sdk', () => {
  const params = { model: 'claude-fake-1', system: 'Be brief.', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'Hello there!' }] };
  const input = 3 + 3 + 3 + 3; // "Be brief." 9 chars → 3 (+3); "Hello there!" 12 chars → 3 (+3)

  test('non-streaming message', async () => {
    const msg = await anthropic.messages.create(params);
    assert.equal(msg.type, 'message');
    assert.match(msg.id, /^msg_/);
    assert.deepEqual(msg.content.map((c) => c.type === 'text' && c.text), ['tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 tok8 tok9 tok10 tok11']);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.usage.input_tokens, input);
    assert.equal(msg.usage.output_tokens, 12);
    // Surprise: @anthropic-ai/sdk 1.x sends apiKey as `Authorization: Bearer`, not x-api-key.
    assert.equal(fake.requests[0]?.headers.authorization, `Bearer ${KEY}`);
    assert.ok(fake.requests[0]?.headers['anthropic-version']);
    assert.deepEqual(fake.usageTotals, { requests: 1, prompt_tokens: input, completion_tokens: 12 });
  });

  test('streaming message: real event order, final message via the SDK helper', async () => {
    const types: string[] = [];
    const s = anthropic.messages.stream({ ...params, max_tokens: 3 });
    s.on('streamEvent', (e) => types.push(e.type));
    const msg = await s.finalMessage();
    assert.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(msg.stop_reason, 'max_tokens');
    assert.deepEqual(msg.content.map((c) => c.type === 'text' && c.text), ['tok0 tok1 tok2']);
    assert.deepEqual([msg.usage.input_tokens, msg.usage.output_tokens], [input, 3]);
    assert.deepEqual(fake.usageTotals, { requests: 1, prompt_tokens: input, completion_tokens: 3 });
  });

  test('raw SSE includes ping and event lines', async () => {
    const res = await fetch(fake.baseUrl + '/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ ...params, stream: true, max_tokens: 1 }),
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const events = [...(await res.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(events, ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  });

  test('errors use the Anthropic shape and map to SDK error classes', async () => {
    const err = await anthropic.messages.create({ ...params, model: 'error-529' }).catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.APIError);
    assert.equal(err.status, 529);
    assert.deepEqual(err.error, { type: 'error', error: { type: 'overloaded_error', message: 'Simulated error for model error-529' } });
    const bad = new Anthropic({ apiKey: 'nope', baseURL: fake.baseUrl, maxRetries: 0 });
    await assert.rejects(bad.messages.create(params), Anthropic.AuthenticationError);
    const res = await fetch(fake.baseUrl + '/v1/messages', { method: 'POST', headers: { 'x-api-key': KEY }, body: JSON.stringify(params) });
    assert.equal(res.status, 400); // no anthropic-version header
  });
});
