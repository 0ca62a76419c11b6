// End to end with the official SDKs: @anthropic-ai/sdk (messages.create, streaming, countTokens)
// through Tollgate to an Anthropic credential (native) and to an OpenAI credential (translated),
// and the openai SDK's chat (streaming, tool calls) through Tollgate to an Anthropic credential.
// Usage in each log row is what the fake upstream reported; a client that leaves mid-stream is
// still metered.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { startGateway, UPSTREAM_KEY, type Gateway } from './support/gateway.ts';

describe('Anthropic clients through Tollgate', () => {
  let gw: Gateway;
  let secret: string;
  let claude: Anthropic;
  let openai: OpenAI;

  before(async () => {
    gw = await startGateway();
    const teamId = (await gw.api('POST', '/api/teams', { name: 'Agents' })).body.id;
    secret = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'claude-code' })).body.key;
    const base_url = `${gw.fake.baseUrl}/v1`;
    const a = await gw.api('POST', '/api/providers', { name: 'anthropic-main', provider: 'anthropic', base_url, api_key: UPSTREAM_KEY, models: ['claude-native', 'claude-native-cached', 'claude-native-slow', 'error-429-claude'] });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    const o = await gw.api('POST', '/api/providers', { name: 'openai-for-claude', provider: 'openai', base_url, api_key: UPSTREAM_KEY, models: ['claude-on-openai'] });
    assert.equal(o.status, 201, JSON.stringify(o.body));
    claude = new Anthropic({ apiKey: secret, baseURL: gw.url, maxRetries: 0 });
    openai = gw.openai(secret);
  });
  after(() => gw?.close());
  beforeEach(() => { gw.fake.reset(); gw.fake.options.chunkDelayMs = 0; });

  /** The log rows of a model, newest first, once `n` of them (that `where` accepts) are written. */
  async function logs(model: string, n = 1, where: (row: any) => boolean = () => true): Promise<any[]> {
    for (let i = 0; i < 100; i++) {
      await gw.flush();
      const rows = (await gw.api('GET', `/api/logs?model=${encodeURIComponent(model)}&limit=50`)).body.data.filter(where);
      if (rows.length >= n) return rows;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`no ${n} log rows for ${model}`);
  }
  const totals = () => ({ in: gw.fake.usageTotals.prompt_tokens, out: gw.fake.usageTotals.completion_tokens });
  const lastUpstream = () => gw.fake.requests[gw.fake.requests.length - 1]!;

  test('native: messages.create, its stream and countTokens; the credential as x-api-key, anthropic-version and -beta passed through', async () => {
    const msg = await claude.messages.create({ model: 'claude-native', max_tokens: 5, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello from Claude Code' }] }, { headers: { 'anthropic-version': '2024-02-29', 'anthropic-beta': 'prompt-caching-2024-07-31' } });
    assert.equal(msg.content[0]!.type === 'text' && msg.content[0]!.text, 'tok0 tok1 tok2 tok3 tok4');
    assert.equal(msg.stop_reason, 'max_tokens');
    assert.deepEqual([msg.usage.input_tokens, msg.usage.output_tokens], [totals().in, 5]);
    const up = lastUpstream();
    assert.equal(up.path, '/v1/messages');
    assert.equal(up.headers['x-api-key'], UPSTREAM_KEY, 'the credential, never the client key');
    assert.ok(!JSON.stringify(up.headers).includes(secret), 'the Tollgate key never reaches the provider');
    assert.equal(up.headers['anthropic-version'], '2024-02-29', "the client's version");
    assert.equal(up.headers['anthropic-beta'], 'prompt-caching-2024-07-31');
    const [row] = await logs('claude-native');
    assert.deepEqual([row.endpoint, row.provider, row.status_code, row.tokens_in, row.tokens_out, row.usage_estimated], ['messages', 'anthropic', 200, totals().in, 5, false]);

    gw.fake.reset();
    const stream = claude.messages.stream({ model: 'claude-native-cached', max_tokens: 7, messages: [{ role: 'user', content: 'Stream a reply with a cached prompt, please' }] });
    let text = '';
    stream.on('text', (t) => { text += t; });
    const final = await stream.finalMessage();
    assert.equal(text, 'tok0 tok1 tok2 tok3 tok4 tok5 tok6');
    assert.ok(final.usage.cache_read_input_tokens! > 0, 'the fake reports cache reads');
    assert.equal(final.usage.input_tokens + final.usage.cache_read_input_tokens!, totals().in);
    const [srow] = await logs('claude-native-cached');
    assert.deepEqual([srow.streamed, srow.tokens_in, srow.cached_tokens, srow.tokens_out, srow.error_code], [true, totals().in, final.usage.cache_read_input_tokens, 7, null]);

    const counted = await claude.messages.countTokens({ model: 'claude-native', messages: [{ role: 'user', content: 'Hello from Claude Code' }] });
    assert.equal(counted.input_tokens, Math.ceil('Hello from Claude Code'.length / 4) + 3, "the provider's count (the fake's: ceil(chars/4) + 3 per message)");
    assert.equal(lastUpstream().path, '/v1/messages/count_tokens');
    const crow = (await logs('claude-native', 2)).find((r) => r.endpoint === 'messages/count_tokens');
    assert.deepEqual([crow.status_code, crow.tokens_in, crow.tokens_out], [200, 0, 0], 'counting is free, and logged');
  });

  test('translated to an OpenAI credential: messages.create, its stream, countTokens estimated locally', async () => {
    const msg = await claude.messages.create({ model: 'claude-on-openai', max_tokens: 4, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello through OpenAI' }] });
    assert.equal(msg.type, 'message');
    assert.equal(msg.model, 'claude-on-openai');
    assert.equal(msg.content[0]!.type === 'text' && msg.content[0]!.text, 'tok0 tok1 tok2 tok3');
    assert.equal(msg.stop_reason, 'max_tokens');
    assert.deepEqual([msg.usage.input_tokens, msg.usage.output_tokens], [totals().in, 4]);
    const up = lastUpstream();
    assert.equal(up.path, '/v1/chat/completions');
    assert.deepEqual(up.body.messages[0], { role: 'system', content: 'Be brief.' });

    gw.fake.reset();
    const stream = claude.messages.stream({ model: 'claude-on-openai', max_tokens: 6, messages: [{ role: 'user', content: 'Stream through OpenAI' }] });
    const final = await stream.finalMessage();
    assert.equal(final.content[0]!.type === 'text' && final.content[0]!.text, 'tok0 tok1 tok2 tok3 tok4 tok5');
    assert.deepEqual([final.usage.input_tokens, final.usage.output_tokens], [totals().in, 6], 'message_delta carries the whole usage');
    const rows = await logs('claude-on-openai', 2);
    assert.deepEqual(rows.map((r) => [r.endpoint, r.provider, r.streamed, r.tokens_in, r.tokens_out]), [['messages', 'openai', true, totals().in, 6], ['messages', 'openai', false, msg.usage.input_tokens, 4]]);

    gw.fake.reset();
    const content = 'Count these tokens please'; // 25 characters: ceil(25/4) + 3 per message
    const counted = await claude.messages.countTokens({ model: 'claude-on-openai', messages: [{ role: 'user', content }] });
    assert.equal(counted.input_tokens, Math.ceil(content.length / 4) + 3);
    assert.equal(gw.fake.requests.length, 0, 'answered without calling the provider');
  });

  test('the openai SDK on an Anthropic credential: chat, its stream with usage, and a tool call round trip', async () => {
    const r = await openai.chat.completions.create({ model: 'claude-native', max_tokens: 3, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi there' }] });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0]!.message.content, 'tok0 tok1 tok2');
    assert.equal(r.choices[0]!.finish_reason, 'length');
    assert.deepEqual([r.usage!.prompt_tokens, r.usage!.completion_tokens], [totals().in, 3]);
    assert.equal(lastUpstream().body.system, 'Be brief.');
    assert.equal(lastUpstream().headers['x-api-key'], UPSTREAM_KEY);

    gw.fake.reset();
    const s = await openai.chat.completions.create({ model: 'claude-native', messages: [{ role: 'user', content: 'Stream it' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null | undefined;
    for await (const chunk of s) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 tok8 tok9 tok10 tok11');
    assert.equal(finish, 'stop');
    assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens], [totals().in, 12]);
    const [row] = await logs('claude-native');
    assert.deepEqual([row.endpoint, row.streamed, row.tokens_in, row.tokens_out], ['chat/completions', true, totals().in, 12]);

    gw.fake.reset();
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const runner = openai.chat.completions.stream({ model: 'claude-native', tools, messages: ask });
    const called = await runner.finalChatCompletion();
    const call = called.choices[0]!.message.tool_calls![0]!;
    assert.equal(called.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(call.type === 'function' && call.function.name, 'get_weather');
    assert.deepEqual(call.type === 'function' && JSON.parse(call.function.arguments), { city: 'tok0' }, 'the streamed arguments, reassembled by the SDK');
    const answer = await openai.chat.completions.create({ model: 'claude-native', tools, messages: [...ask, called.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '18C and sunny' }] });
    assert.equal(answer.choices[0]!.finish_reason, 'stop', 'the fake matched the tool result to its call');
    const sent = lastUpstream().body.messages;
    assert.deepEqual(sent.at(-1).content[0], { type: 'tool_result', tool_use_id: call.id, content: '18C and sunny' });
  });

  test("Claude Code's way: a Bearer auth token, the beta API (?beta=true, anthropic-beta), cached system blocks and tools, streamed — native and translated", async () => {
    const code = new Anthropic({ authToken: secret, apiKey: null, baseURL: gw.url, maxRetries: 0 });
    const ask = (model: string) => code.beta.messages.stream({
      model, max_tokens: 64, betas: ['interleaved-thinking-2025-05-14'], metadata: { user_id: 'session-1' },
      system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
      tools: [{ name: 'Read', description: 'Read a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } }, required: ['file_path'] } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Open the README', cache_control: { type: 'ephemeral' } }] }],
    }, { query: { beta: 'true' } }); // Claude Code posts to /v1/messages?beta=true
    const native = await ask('claude-native').finalMessage();
    const up = lastUpstream();
    assert.equal(up.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
    assert.equal(up.headers.authorization, undefined, 'the Tollgate token stays with Tollgate');
    assert.equal(native.stop_reason, 'tool_use');
    const use = native.content.find((b) => b.type === 'tool_use');
    assert.deepEqual(use && use.type === 'tool_use' && [use.name, use.input], ['Read', { file_path: 'tok0' }]);

    gw.fake.reset();
    const translated = await ask('claude-on-openai').finalMessage();
    assert.equal(lastUpstream().path, '/v1/chat/completions');
    assert.deepEqual(lastUpstream().body.tools[0].function.name, 'Read');
    assert.equal(translated.content[0]!.type === 'text' && translated.content[0]!.text.startsWith('tok0 tok1'), true);
    assert.deepEqual([translated.usage.input_tokens, translated.usage.output_tokens], [totals().in, totals().out]);
  });

  test("Anthropic's errors: relayed as they are to a Messages client, in OpenAI's shape (with Anthropic's message) to a chat client", async () => {
    const native = await claude.messages.create({ model: 'error-429-claude', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    assert.ok(native instanceof Anthropic.RateLimitError, String(native));
    assert.deepEqual(native.error, { type: 'error', error: { type: 'rate_limit_error', message: 'Simulated error for model error-429-claude' } });
    const chat = await openai.chat.completions.create({ model: 'error-429-claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    assert.ok(chat instanceof Error && 'status' in chat && chat.status === 429, String(chat));
    assert.match(chat.message, /Simulated error for model error-429-claude/);
  });

  test('a client that leaves mid-stream is still metered: native and translated', async () => {
    gw.fake.options.chunkDelayMs = 40; // slow enough chunks that the client leaves mid-stream
    const stream = claude.messages.stream({ model: 'claude-native-slow', max_tokens: 12, messages: [{ role: 'user', content: 'A long answer please' }] });
    for await (const event of stream) {
      if (event.type === 'content_block_delta') break; // leaves after the first piece of text
    }
    const [row] = await logs('claude-native-slow');
    assert.equal(row.endpoint, 'messages');
    assert.match(row.error_code, /^client_/);
    assert.equal(row.tokens_in, totals().in, 'the prompt as message_start reported it');
    assert.ok(row.tokens_out >= 1);

    gw.fake.reset();
    const s = await openai.chat.completions.create({ model: 'claude-native-slow', messages: [{ role: 'user', content: 'Another long answer' }], stream: true });
    for await (const chunk of s) {
      if (chunk.choices[0]?.delta?.content) break;
    }
    const rows = await logs('claude-native-slow', 2);
    const translated = rows.find((r) => r.endpoint === 'chat/completions');
    assert.match(translated.error_code, /^client_/);
    assert.equal(translated.tokens_in, totals().in);
    assert.ok(translated.tokens_out >= 1);

    // Messages translated to an OpenAI credential: Tollgate reads on for the provider's usage chunk
    gw.fake.reset();
    const viaOpenAI = claude.messages.stream({ model: 'claude-on-openai', max_tokens: 12, messages: [{ role: 'user', content: 'A third long answer' }] });
    for await (const event of viaOpenAI) {
      if (event.type === 'content_block_delta') break;
    }
    const [row3] = await logs('claude-on-openai', 1, (r) => r.error_code !== null);
    assert.match(row3.error_code, /^client_/);
    assert.ok(row3.tokens_in > 0 && row3.tokens_out >= 1, JSON.stringify(row3));
  });
});
