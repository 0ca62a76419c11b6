import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_IMAGE_TOKENS, requestBound } from '../src/usage/token-bound.ts';
import { checkBody } from '../src/proxy/body-check.ts';
import { BUILTIN_PRICES } from '../src/usage/pricing.ts';
import { promptTokens } from './support/fake-upstream.ts';

const price = { input: 1_000_000, output: 2_000_000, maxOutputTokens: 100 };

test('the prompt bound is never below what the fake (chars/4 + 3 per message) counts, and far tighter than the body', () => {
  const bodies = [
    { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
    { model: 'm', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Explain quantum tunnelling in one line, please.' }] },
    { model: 'm', messages: [{ role: 'user', content: '日本語のテキスト' }] },
  ];
  for (const body of bodies) {
    const bound = requestBound('chat/completions', body, price).promptTokens;
    assert.ok(bound >= promptTokens(body.messages), `bound ${bound} ≥ counted ${promptTokens(body.messages)}`);
    assert.ok(bound <= Buffer.byteLength(JSON.stringify(body)), 'never looser than the body itself');
  }
  assert.equal(requestBound('embeddings', { model: 'e', input: ['ab', 'cd'] }, price).promptTokens, 3 + 3 + 3);
  assert.equal(requestBound('completions', { model: 'c', prompt: 'hello' }, price).promptTokens, 8);
});

test('n multiplies the output bound: every choice is billed up to max_tokens', () => {
  const one = requestBound('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 }, price);
  const hundred = requestBound('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20, n: 100 }, price);
  assert.equal(one.outputTokens, 20);
  assert.equal(hundred.outputTokens, 2_000);
  assert.equal(hundred.promptTokens, one.promptTokens, 'the prompt is billed once');
  assert.equal(hundred.unbounded, undefined);
});

test('completions: best_of and batched prompts multiply the output; the default output is 16 tokens', () => {
  assert.equal(requestBound('completions', { model: 'c', prompt: 'x', max_tokens: 10, n: 2, best_of: 5 }, price).outputTokens, 50);
  assert.equal(requestBound('completions', { model: 'c', prompt: ['a', 'b', 'c'], max_tokens: 10, n: 2 }, price).outputTokens, 60);
  assert.equal(requestBound('completions', { model: 'c', prompt: [1, 2, 3], max_tokens: 10 }, price).outputTokens, 10, 'token ids are one prompt');
  assert.equal(requestBound('completions', { model: 'c', prompt: [[1, 2], [3]], max_tokens: 10 }, price).outputTokens, 20, 'token arrays are a batch');
  assert.equal(requestBound('completions', { model: 'c', prompt: 'x' }, price).outputTokens, 16);
});

test('images are bounded by the model\'s documented maximum, not a flat allowance below it', () => {
  const body = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,' + 'A'.repeat(50_000) } }] }] };
  const mini = requestBound('chat/completions', body, BUILTIN_PRICES['gpt-4o-mini']).promptTokens;
  assert.ok(mini >= 48_169, `gpt-4o-mini's largest image costs 48,169 tokens (bound ${mini})`);
  const unknown = requestBound('chat/completions', body, price).promptTokens;
  assert.ok(unknown >= DEFAULT_IMAGE_TOKENS);
  const gpt4o = requestBound('chat/completions', body, BUILTIN_PRICES['gpt-4o']).promptTokens;
  assert.ok(gpt4o >= 1_445 && gpt4o < 2_000, 'a model with a smaller documented maximum reserves less');
});

test('tools, predictions and tool calls in the history add to the bound', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 };
  const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } } }];
  assert.ok(requestBound('chat/completions', { ...base, tools }, price).promptTokens > requestBound('chat/completions', base, price).promptTokens + JSON.stringify(tools).length);
  assert.ok(requestBound('chat/completions', { ...base, prediction: { type: 'content', content: 'x'.repeat(500) } }, price).outputTokens >= 510);
});

test('what cannot be bounded says which field: audio, unknown parts, priority tier, unknown fields, no output cap', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 };
  const param = (body: Record<string, unknown>, p = price as typeof price | { input: number; output: number }) => requestBound('chat/completions', body, p).unbounded?.param;
  assert.equal(param(base), undefined);
  assert.equal(param({ ...base, modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } }), 'audio');
  assert.equal(param({ ...base, modalities: ['text', 'audio'] }), 'modalities');
  assert.equal(param({ ...base, messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }), 'messages[0].content');
  assert.equal(param({ ...base, service_tier: 'priority' }), 'service_tier');
  assert.equal(param({ ...base, service_tier: 'flex' }), undefined);
  assert.equal(param({ ...base, web_search_options: {} }), 'web_search_options');
  assert.equal(param({ ...base, some_new_billing_feature: true }), 'some_new_billing_feature');
  const { max_tokens: _, ...noCap } = base;
  assert.equal(param(noCap, { input: 1, output: 1 }), 'max_tokens', 'no max_tokens and no model cap');
  assert.equal(param(noCap), undefined, 'the model cap bounds it');
});

test('malformed bodies are named before anything else looks at them', () => {
  const problem = (endpoint: 'chat/completions' | 'completions' | 'embeddings', body: Record<string, unknown>) => checkBody(endpoint, body)?.param;
  assert.equal(problem('chat/completions', { model: 'm', messages: [null] }), 'messages[0]');
  assert.equal(problem('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }, { role: 7 }] }), 'messages[1].role');
  assert.equal(problem('chat/completions', { model: 'm', messages: [{ role: 'user', content: [null] }] }), 'messages[0].content[0]');
  assert.equal(problem('chat/completions', { model: 'm', messages: [] }), 'messages');
  assert.equal(problem('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 0 }), 'n');
  assert.equal(problem('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }), 'max_tokens');
  assert.equal(problem('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }), 'stream');
  assert.equal(problem('chat/completions', { messages: [{ role: 'user', content: 'x' }] }), 'model');
  assert.equal(problem('embeddings', { model: 'e' }), 'input');
  assert.equal(problem('embeddings', { model: 'e', input: [{}] }), 'input[0]');
  assert.equal(problem('completions', { model: 'c', prompt: 5 }), 'prompt');
  let deep: unknown = 'x';
  for (let i = 0; i < 5_000; i++) deep = { a: deep };
  const path = problem('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }], metadata: deep });
  assert.ok(path?.startsWith('metadata.a.a'), `the deep field is named (${path?.slice(0, 30)})`);
  assert.equal(problem('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x', name: 'n' }] }), undefined);
});

test('Messages, Responses and Gemini: output capped by each API\'s own field, images bounded, provider-run tools and unknown fields refused by a hard budget', () => {
  const price = { input: 1, output: 1 };
  const messages = { model: 'claude', max_tokens: 100, system: 'be brief', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(10_000) } }] }] };
  const m = requestBound('messages', messages, price);
  assert.equal(m.outputTokens, 100);
  assert.equal(m.unbounded, undefined);
  assert.ok(m.promptTokens >= DEFAULT_IMAGE_TOKENS && m.promptTokens < DEFAULT_IMAGE_TOKENS + 500, 'the image at its bound, its base64 bytes not counted as text');
  assert.equal(requestBound('messages', { ...messages, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, price).unbounded?.param, 'tools[0]');
  assert.equal(requestBound('messages', { ...messages, tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] }, price).unbounded, undefined, 'a client tool costs its tokens only');
  assert.equal(requestBound('messages', { ...messages, mcp_servers: [{ url: 'https://x' }] }, price).unbounded?.param, 'mcp_servers');
  assert.equal(requestBound('messages/count_tokens', { model: 'claude', messages: messages.messages }, price).outputTokens, 0, 'counting reserves nothing');

  const responses = { model: 'gpt-5', input: [{ role: 'user', content: 'hello' }], instructions: 'be brief', max_output_tokens: 50 };
  assert.deepEqual([requestBound('responses', responses, price).outputTokens, requestBound('responses', responses, price).unbounded], [50, undefined]);
  assert.equal(requestBound('responses', { ...responses, tools: [{ type: 'web_search' }] }, price).unbounded?.param, 'tools[0]');
  assert.equal(requestBound('responses', { ...responses, previous_response_id: 'resp_1' }, price).unbounded?.param, 'previous_response_id', 'the stored history is billed, unseen');
  const { max_output_tokens: _, ...noCap } = responses;
  assert.equal(requestBound('responses', noCap, price).unbounded?.param, 'max_output_tokens');
  assert.equal(requestBound('responses', noCap, { ...price, maxOutputTokens: 4000 }).outputTokens, 4000, "the model's cap bounds it");

  const gemini = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }], generationConfig: { maxOutputTokens: 20, candidateCount: 2, thinkingConfig: { thinkingBudget: 30 } } };
  assert.equal(requestBound('generateContent', gemini, price).outputTokens, (20 + 30) * 2, 'thinking and every candidate billed');
  assert.equal(requestBound('generateContent', { ...gemini, tools: [{ googleSearch: {} }] }, price).unbounded?.param, 'tools[0]');
  assert.equal(requestBound('generateContent', { ...gemini, cachedContent: 'cachedContents/1' }, price).unbounded?.param, 'cachedContent');
  assert.equal(requestBound('generateContent', { contents: [{ parts: [{ inlineData: { mimeType: 'audio/wav', data: 'AAAA' } }] }], generationConfig: { maxOutputTokens: 5 } }, price).unbounded?.param, 'contents[0].parts[0].inlineData');
});
