// Valid-ish /v1 request bodies, as OpenAI documents them (chat completions, legacy completions,
// embeddings), for the fuzzer to start from before mutating them (fuzz-values.ts `mutated`).
import fc from 'fast-check';
import { FUZZ_MODEL } from './fuzz-gateway.ts';
import type { Route } from './fuzz-http.ts';

// Model names steer the fake upstream: `error-*` and `slow-*` would fail or stall on purpose,
// which is the fault matrix's business, not the fuzzer's. Unknown and unpriced names stay.
const model = fc.oneof(
  { weight: 12, arbitrary: fc.constant(FUZZ_MODEL) },
  { weight: 1, arbitrary: fc.constantFrom('gpt-4o-mini', 'text-embedding-3-small', 'gpt-unpriced', 'no-such-model', '', ' ', 'gpt-fuzz ', 'GPT-FUZZ') },
  // Names that are also properties of every JavaScript object: lookups keyed by model must not find them.
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf') },
);
const text = fc.oneof(fc.constantFrom('hi', 'Say hello.', ''), fc.string({ unit: 'grapheme', maxLength: 80 }));
const part = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('text'), text }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('image_url'), image_url: fc.record({ url: fc.constant('https://example.com/cat.png'), detail: fc.constantFrom('low', 'high', 'auto') }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('input_audio'), input_audio: fc.record({ data: fc.constant('UklGRg=='), format: fc.constantFrom('wav', 'mp3') }) }) },
);
const message = fc.oneof(
  { weight: 6, arbitrary: fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant'), content: fc.oneof(text, fc.array(part, { minLength: 1, maxLength: 3 })) }) },
  { weight: 1, arbitrary: fc.record({ role: fc.constant('user'), content: text, name: fc.constantFrom('alice', 'bob_1') }) },
  {
    weight: 1,
    arbitrary: fc.record({
      role: fc.constant('assistant'),
      content: fc.constant(null),
      tool_calls: fc.constant([{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }]),
    }),
  },
  { weight: 1, arbitrary: fc.record({ role: fc.constant('tool'), tool_call_id: fc.constant('call_1'), content: text }) },
);
const tools = fc.constant([{ type: 'function', function: { name: 'lookup', description: 'look up', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }]);
const maxTokens = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(0, 4_096, 100_000));
const stream = fc.boolean();

const CHAT = {
  model, messages: fc.array(message, { minLength: 1, maxLength: 4 }), max_tokens: maxTokens, max_completion_tokens: maxTokens, n: fc.integer({ min: 1, max: 3 }),
  stream, stream_options: fc.record({ include_usage: fc.boolean() }), temperature: fc.double({ min: 0, max: 2, noNaN: true }), top_p: fc.double({ min: 0, max: 1, noNaN: true }),
  stop: fc.oneof(fc.string({ maxLength: 5 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 })), user: fc.string({ maxLength: 20 }), tools,
  tool_choice: fc.constantFrom('auto', 'none', 'required'), response_format: fc.constantFrom({ type: 'json_object' }, { type: 'text' }), seed: fc.integer(),
  logprobs: fc.boolean(), presence_penalty: fc.double({ min: -2, max: 2, noNaN: true }), modalities: fc.constant(['text']),
};
const tokenIds = fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 8 });
const COMPLETIONS = {
  model, prompt: fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 }), tokenIds, fc.array(tokenIds, { minLength: 1, maxLength: 3 })),
  max_tokens: maxTokens, n: fc.integer({ min: 1, max: 3 }), best_of: fc.integer({ min: 1, max: 3 }), stream, stream_options: fc.record({ include_usage: fc.boolean() }),
  echo: fc.boolean(), suffix: fc.string({ maxLength: 10 }), logprobs: fc.integer({ min: 0, max: 5 }), temperature: fc.double({ min: 0, max: 2, noNaN: true }),
};
const EMBEDDINGS = {
  model: fc.oneof(model, fc.constant('text-embedding-3-small')), input: fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 }), tokenIds, fc.array(tokenIds, { minLength: 1, maxLength: 3 })),
  dimensions: fc.integer({ min: 1, max: 16 }), encoding_format: fc.constantFrom('float', 'base64'), user: fc.string({ maxLength: 20 }),
};

const BY_PATH: Record<string, [Record<string, fc.Arbitrary<unknown>>, string[]]> = {
  '/v1/chat/completions': [CHAT, ['model', 'messages']],
  '/v1/completions': [COMPLETIONS, ['model', 'prompt']],
  '/v1/embeddings': [EMBEDDINGS, ['model', 'input']],
};

export function v1Body(route: Route): { valid: fc.Arbitrary<Record<string, unknown>>; fields: string[] } {
  const [model, required]: [Record<string, fc.Arbitrary<unknown>>, string[]] = BY_PATH[route.url] ?? [CHAT, []];
  return { valid: fc.record(model, { requiredKeys: required }) as fc.Arbitrary<Record<string, unknown>>, fields: Object.keys(model) };
}
