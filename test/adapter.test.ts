import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareBody, usageFromBody, usageFromResponse } from '../src/providers/openai-compatible/adapter.ts';
import type { ResolvedRoute } from '../src/providers/types.ts';

const route = (upstreamModel: string): ResolvedRoute => ({ deploymentId: 1, options: {}, weight: 1, priority: 0, credentialId: 1, provider: 'openai', baseUrl: 'http://x', apiKey: 'k', upstreamModel, price: undefined });

test('usage is read from the response without parsing it all, and matches a full parse', () => {
  const bodies = [
    { id: 'x', choices: [{ message: { content: 'a "usage": {"prompt_tokens": 999} decoy in the text' } }], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 2 } } },
    { usage: { prompt_tokens: 3, completion_tokens: 0, total_tokens: 3 }, id: 'usage first' },
    { id: 'none' },
    { id: 'null', usage: null },
    { id: 'nested first', usage: { prompt_tokens_details: { prompt_tokens: 1, cached_tokens: 0 }, prompt_tokens: 4, completion_tokens: 2 } },
    { object: 'list', data: [], usage: { prompt_tokens: 9, total_tokens: 9 } },
    { id: 'strings inside', usage: { note: 'x}"{\\', prompt_tokens: 6, completion_tokens: 1, completion_tokens_details: { reasoning_tokens: 0 } } },
    { id: 'float', usage: { prompt_tokens: 2.5, completion_tokens: 1 } },
    { id: 'empty', usage: {} },
  ];
  for (const b of bodies) {
    const expected = usageFromBody(b);
    assert.deepEqual(usageFromResponse(Buffer.from(JSON.stringify(b))), expected, JSON.stringify(b));
    assert.deepEqual(usageFromResponse(Buffer.from(JSON.stringify(b, null, 2))), expected, 'pretty-printed');
  }
  assert.equal(usageFromResponse(Buffer.from('not json')), undefined);
  const long = { usage: { prompt_tokens: 5, completion_tokens: 6 }, choices: [{ message: { content: 'x'.repeat(5_000) } }] };
  assert.deepEqual(usageFromResponse(Buffer.from(JSON.stringify(long))), { tokensIn: 5, tokensOut: 6 }, 'usage far from the end is still found');
  const tailUsage = { choices: [{ message: { content: 'y'.repeat(5_000) } }], usage: { prompt_tokens: 7, completion_tokens: 8 } };
  assert.deepEqual(usageFromResponse(Buffer.from(JSON.stringify(tailUsage))), { tokensIn: 7, tokensOut: 8 });
});

test('cached and reasoning tokens are read from the details objects, and only there', () => {
  const read = (usage: unknown) => usageFromResponse(Buffer.from(JSON.stringify({ id: 'x', usage })));
  assert.deepEqual(read({ prompt_tokens: 12, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 8, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 3, accepted_prediction_tokens: 0 } }), { tokensIn: 12, tokensOut: 5, cachedTokens: 8, reasoningTokens: 3 });
  assert.deepEqual(read({ completion_tokens_details: { reasoning_tokens: 64 }, prompt_tokens: 10, completion_tokens: 80 }), { tokensIn: 10, tokensOut: 80, cachedTokens: 0, reasoningTokens: 64 }, 'details first');
  assert.deepEqual(read({ prompt_tokens: 4, completion_tokens: 1, cached_tokens: 99, other_details: { cached_tokens: 5, reasoning_tokens: 7 }, completion_tokens_details: { cached_tokens: 6 } }), { tokensIn: 4, tokensOut: 1 }, 'a cached_tokens anywhere else is not the cache count');
  assert.deepEqual(read({ prompt_tokens: 4, completion_tokens: 1, prompt_tokens_details: null }), { tokensIn: 4, tokensOut: 1 });
  assert.deepEqual(usageFromBody({ usage: { prompt_tokens: 4, completion_tokens: 1, prompt_tokens_details: { cached_tokens: -3 }, completion_tokens_details: { reasoning_tokens: 'x' } } }), { tokensIn: 4, tokensOut: 1 }, 'nonsense counts are 0');
});

test('the body goes upstream byte for byte unless the model name or stream options must change', () => {
  const body = { model: 'gpt-4o', messages: [], extra: { keep: 'me' } };
  const raw = Buffer.from(JSON.stringify(body) + '  ');
  assert.equal(prepareBody(body, raw, route('gpt-4o'), false).body, raw, 'untouched');
  const renamed = prepareBody(body, raw, route('openai/gpt-4o'), false);
  assert.equal(JSON.parse(String(renamed.body)).model, 'openai/gpt-4o');
  assert.deepEqual(JSON.parse(String(renamed.body)).extra, { keep: 'me' });
  const streamed = prepareBody({ ...body, stream: true }, raw, route('gpt-4o'), true);
  assert.equal(streamed.stripUsage, true);
  assert.deepEqual(JSON.parse(String(streamed.body)).stream_options, { include_usage: true });
  const asked = { ...body, stream: true, stream_options: { include_usage: true } };
  const askedRaw = Buffer.from(JSON.stringify(asked));
  assert.equal(prepareBody(asked, askedRaw, route('gpt-4o'), true).body, askedRaw);
});
