// The demo model (TOLLGATE_DEMO=1): `tollgate-demo` answers the official SDKs locally, in OpenAI's
// and (translated) Anthropic's shapes, metered at $0 in the logs, with no upstream called; off by
// default, and refused with PostgreSQL unless forced.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { loadConfig, ConfigError } from '../src/config.ts';
import { poolFor } from '../src/providers/http-pool.ts';
import { DemoDispatcher, DEMO_BASE_URL } from '../src/providers/demo/dispatcher.ts';
import { DEMO_ANSWER } from '../src/providers/demo/answers.ts';
import { startGateway, type Gateway } from './support/gateway.ts';
import { launchTollgate } from './support/tollgate-process.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const WORDS = DEMO_ANSWER.split(' ').length;
// ceil(chars / 4) + 3 per chat message, as docs/providers.md says
const HELLO = 'Hello there, demo model!'; // 24 chars → 6 + 3
const HELLO_TOKENS = 9;

describe('demo model: configuration', () => {
  const base = { TOLLGATE_DATA_DIR: '/tmp/tollgate-demo-config' };
  test('off unless TOLLGATE_DEMO is set', () => {
    assert.equal(loadConfig(base).demo, false);
    assert.equal(loadConfig({ ...base, TOLLGATE_DEMO: '0' }).demo, false);
    assert.equal(loadConfig({ ...base, TOLLGATE_DEMO: '1' }).demo, true);
  });
  test('refused with PostgreSQL (cluster mode) unless TOLLGATE_DEMO=force; a bad value names the variable', () => {
    const pg = { ...base, TOLLGATE_DATABASE_URL: 'postgres://tollgate@db.internal/tollgate' };
    assert.throws(() => loadConfig({ ...pg, TOLLGATE_DEMO: '1' }), (e: unknown) => e instanceof ConfigError && /TOLLGATE_DEMO=1 is refused with PostgreSQL/.test(e.message) && /TOLLGATE_DEMO=force/.test(e.message));
    assert.equal(loadConfig({ ...pg, TOLLGATE_DEMO: 'force' }).demo, true);
    assert.throws(() => loadConfig({ ...base, TOLLGATE_DEMO: 'yes' }), /TOLLGATE_DEMO must be 1, 0 or force/);
  });
});

describe('demo model: the process', () => {
  test('start-up warns loudly while the demo is on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-demo-'));
    const proc = await launchTollgate({ TOLLGATE_DATA_DIR: dir, TOLLGATE_ADMIN_KEY: 'demo-admin-key-0123456789abcdef', TOLLGATE_DEMO: '1' });
    try {
      for (let i = 0; i < 40 && !proc.out().includes('DEMO MODE'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(proc.out(), /DEMO MODE \(TOLLGATE_DEMO\).*never leave it on in production/);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with PostgreSQL the process refuses to start, saying why, before touching the database', () => {
    const r = spawnSync(process.execPath, ['src/main.ts'], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { ...process.env, TOLLGATE_DEMO: '1', TOLLGATE_DATABASE_URL: 'postgres://tollgate@127.0.0.1:1/none', TOLLGATE_DATA_DIR: path.join(tmpdir(), 'tollgate-demo-never') },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /tollgate: TOLLGATE_DEMO=1 is refused with PostgreSQL .*TOLLGATE_DEMO=force/);
  });
});

describe('demo model: the in-process dispatcher', () => {
  test("the demo base URL gets the in-process dispatcher; a real credential's origin a pool", async () => {
    const origin = new URL(DEMO_BASE_URL).origin;
    assert.ok(poolFor(origin, 0, { connections: 1 }) instanceof DemoDispatcher);
    assert.ok(!(poolFor('http://127.0.0.1:9', 7, { connections: 1 }) instanceof DemoDispatcher));
  });

  test('chat JSON, chat SSE (role chunk, pieces, finish, usage, [DONE]), embeddings, through undici’s own request()', async () => {
    const d = new DemoDispatcher(0);
    const post = async (path: string, body: unknown) => {
      const r = await d.request({ method: 'POST', path, body: JSON.stringify(body) });
      return { status: r.statusCode, type: String(r.headers['content-type']), text: await r.body.text() };
    };
    const chat = await post('/v1/chat/completions', { model: 'tollgate-demo', messages: [{ role: 'user', content: HELLO }], max_tokens: 5 });
    const json = JSON.parse(chat.text);
    assert.equal(json.object, 'chat.completion');
    assert.equal(json.choices[0].finish_reason, 'length');
    assert.equal(json.choices[0].message.content, DEMO_ANSWER.split(' ').slice(0, 5).join(' '));
    assert.deepEqual([json.usage.prompt_tokens, json.usage.completion_tokens], [HELLO_TOKENS, 5]);

    const sse = await post('/v1/chat/completions', { model: 'tollgate-demo', messages: [{ role: 'user', content: HELLO }], stream: true, stream_options: { include_usage: true } });
    assert.match(sse.type, /text\/event-stream/);
    const events = sse.text.split('\n\n').filter(Boolean);
    assert.equal(events.at(-1), 'data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), DEMO_ANSWER);
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.deepEqual([chunks.at(-1).usage.prompt_tokens, chunks.at(-1).usage.completion_tokens], [HELLO_TOKENS, WORDS]);

    const emb = JSON.parse((await post('/v1/embeddings', { model: 'tollgate-demo', input: ['abcd', 'abcd', 'efghij'] })).text);
    assert.deepEqual(emb.data[0].embedding, emb.data[1].embedding, 'equal inputs embed equally');
    assert.notDeepEqual(emb.data[0].embedding, emb.data[2].embedding);
    assert.equal(emb.usage.prompt_tokens, 1 + 1 + 2);
    assert.equal((await post('/v1/embeddings', { model: 'tollgate-demo' })).status, 400);
  });

  test('abort mid-stream: the handler hears the error once and nothing after', async () => {
    const d = new DemoDispatcher(5);
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      d.dispatch({ method: 'POST', path: '/v1/chat/completions', body: JSON.stringify({ model: 'm', messages: [], stream: true }) }, {
        onResponseStart: () => void seen.push('start'),
        onResponseData: (c) => {
          seen.push('data');
          if (seen.length === 3) c.abort(new Error('client closed'));
        },
        onResponseEnd: () => void seen.push('end'),
        onResponseError: (_c, err) => {
          seen.push(`error:${err.message}`);
          setTimeout(resolve, 30);
        },
      });
    });
    assert.deepEqual(seen, ['start', 'data', 'data', 'error:client closed']);
  });
});

async function keyFor(gw: Gateway): Promise<string> {
  const team = (await gw.api('POST', '/api/teams', { name: `demo-${Math.random().toString(36).slice(2, 8)}` })).body;
  return (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'demo key' })).body.key as string;
}

async function logsOf(gw: Gateway, model: string): Promise<any[]> {
  await gw.flush();
  const r = await gw.api('GET', `/api/logs?model=${encodeURIComponent(model)}&limit=100`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.data as any[]).slice().reverse();
}

describe('demo model: TOLLGATE_DEMO=1 end to end', () => {
  let gw: Gateway;
  let key: string;
  before(async () => {
    gw = await startGateway({ env: { TOLLGATE_DEMO: '1' } });
    key = await keyFor(gw);
  });
  after(() => gw?.close());

  test('the openai SDK: chat (JSON and stream), completions and embeddings answered locally, metered at $0, no upstream call', async () => {
    const client = gw.openai(key);
    gw.fake.reset();
    const chat = await client.chat.completions.create({ model: 'tollgate-demo', messages: [{ role: 'user', content: HELLO }] });
    assert.equal(chat.choices[0]!.message.content, DEMO_ANSWER);
    assert.deepEqual([chat.usage!.prompt_tokens, chat.usage!.completion_tokens], [HELLO_TOKENS, WORDS]);

    let text = '';
    let usage: OpenAI_Usage | undefined;
    for await (const chunk of await client.chat.completions.create({ model: 'tollgate-demo', messages: [{ role: 'user', content: HELLO }], stream: true, stream_options: { include_usage: true } })) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, DEMO_ANSWER);
    assert.deepEqual([usage!.prompt_tokens, usage!.completion_tokens], [HELLO_TOKENS, WORDS]);

    // A stream without include_usage still ends with [DONE] and no usage chunk (the SDK ends its loop).
    let pieces = 0;
    for await (const chunk of await client.chat.completions.create({ model: 'tollgate-demo', messages: [{ role: 'user', content: HELLO }], stream: true, max_tokens: 4 })) {
      assert.equal(chunk.usage ?? undefined, undefined);
      if (chunk.choices[0]?.delta.content) pieces++;
    }
    assert.equal(pieces, 4);

    const legacy = await client.completions.create({ model: 'tollgate-demo', prompt: 'abcdefgh', max_tokens: 3 });
    assert.equal(legacy.choices[0]!.text, DEMO_ANSWER.split(' ').slice(0, 3).join(' '));
    const emb = await client.embeddings.create({ model: 'tollgate-demo', input: 'abcdefgh' });
    assert.equal(emb.data[0]!.embedding.length, 256);
    assert.equal(emb.usage.prompt_tokens, 2);

    assert.equal(gw.fake.requests.length, 0, 'no upstream was called');
    const rows = await logsOf(gw, 'tollgate-demo');
    const shape = rows.map((r) => [r.endpoint, r.provider, r.streamed, r.tokens_in, r.tokens_out, r.cost_usd, r.unpriced, r.status_code]);
    assert.deepEqual(shape, [
      ['chat/completions', 'demo', false, HELLO_TOKENS, WORDS, 0, false, 200],
      ['chat/completions', 'demo', true, HELLO_TOKENS, WORDS, 0, false, 200],
      ['chat/completions', 'demo', true, HELLO_TOKENS, 4, 0, false, 200],
      ['completions', 'demo', false, 2, 3, 0, false, 200],
      ['embeddings', 'demo', false, 2, 0, 0, false, 200],
    ]);
    assert.ok(rows.every((r) => r.usage_estimated === false), 'usage as the demo reported it, not estimated');
  });

  test('the openai SDK: responses.create (JSON and stream), as Codex CLI calls it, metered at $0', async () => {
    const client = gw.openai(key);
    const before = (await logsOf(gw, 'tollgate-demo')).length;
    // instructions (23 chars → 6 + 3) and one input message (HELLO: 6 + 3)
    const ask = { model: 'tollgate-demo', instructions: 'You are a helpful demo.', input: [{ role: 'user' as const, content: HELLO }] };
    const r = await client.responses.create(ask);
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, DEMO_ANSWER);
    assert.deepEqual([r.usage!.input_tokens, r.usage!.output_tokens], [9 + HELLO_TOKENS, WORDS]);

    let text = '';
    let done: any;
    for await (const event of await client.responses.create({ ...ask, stream: true, max_output_tokens: 4 })) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.incomplete') done = event.response;
    }
    assert.equal(text, DEMO_ANSWER.split(' ').slice(0, 4).join(' '));
    assert.equal(done?.incomplete_details?.reason, 'max_output_tokens', 'cut by max_output_tokens: response.incomplete');
    assert.equal(done.usage.output_tokens, 4);

    assert.equal(gw.fake.requests.length, 0, 'no upstream was called');
    const rows = (await logsOf(gw, 'tollgate-demo')).slice(before);
    assert.deepEqual(rows.map((x) => [x.endpoint, x.provider, x.streamed, x.tokens_in, x.tokens_out, x.cost_usd, x.unpriced, x.usage_estimated]), [
      ['responses', 'demo', false, 9 + HELLO_TOKENS, WORDS, 0, false, false],
      ['responses', 'demo', true, 9 + HELLO_TOKENS, 4, 0, false, false],
    ]);
  });

  test('the @anthropic-ai/sdk: messages (JSON and stream) through the OpenAI-compatible translation, metered', async () => {
    const anthropic = new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
    const before = (await logsOf(gw, 'tollgate-demo')).length;
    const msg = await anthropic.messages.create({ model: 'tollgate-demo', max_tokens: 100, messages: [{ role: 'user', content: HELLO }] });
    assert.equal(msg.type, 'message');
    const block = msg.content[0];
    assert.ok(block?.type === 'text' && block.text === DEMO_ANSWER, JSON.stringify(msg.content));
    assert.equal(msg.stop_reason, 'end_turn');
    assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens === WORDS, JSON.stringify(msg.usage));

    const stream = anthropic.messages.stream({ model: 'tollgate-demo', max_tokens: 3, messages: [{ role: 'user', content: HELLO }] });
    let streamed = '';
    stream.on('text', (t) => (streamed += t));
    const final = await stream.finalMessage();
    assert.equal(streamed, DEMO_ANSWER.split(' ').slice(0, 3).join(' '));
    assert.equal(final.stop_reason, 'max_tokens');
    assert.equal(final.usage.output_tokens, 3);

    // count_tokens: the local estimate every OpenAI-compatible provider gets, free and logged
    const counted = await anthropic.messages.countTokens({ model: 'tollgate-demo', messages: [{ role: 'user', content: HELLO }] });
    assert.ok(counted.input_tokens > 0);

    assert.equal(gw.fake.requests.length, 0, 'no upstream was called');
    const rows = (await logsOf(gw, 'tollgate-demo')).slice(before);
    assert.deepEqual(rows.map((r) => [r.endpoint, r.provider, r.streamed, r.tokens_in, r.tokens_out, r.cost_usd, r.unpriced]), [
      ['messages', 'demo', false, msg.usage.input_tokens, WORDS, 0, false],
      ['messages', 'demo', true, final.usage.input_tokens, 3, 0, false],
      ['messages/count_tokens', 'demo', false, 0, 0, 0, false],
    ]);
  });

  test('GET /v1/models lists tollgate-demo, owned by tollgate-demo, in both list shapes', async () => {
    const list = await gw.openai(key).models.list();
    const demo = list.data.find((m) => m.id === 'tollgate-demo');
    assert.equal(demo?.owned_by, 'tollgate-demo');
    // …and in Anthropic's list shape, which the Anthropic SDK (and Claude Code) ask for
    const anthropic = new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
    const ids: string[] = [];
    for await (const m of anthropic.models.list()) ids.push(m.id);
    assert.ok(ids.includes('tollgate-demo'), JSON.stringify(ids));
  });
});

describe('demo model: off by default', () => {
  let gw: Gateway;
  let key: string;
  before(async () => {
    // No start-up credential: nothing routes every model (a catch-all would take tollgate-demo to its provider).
    gw = await startGateway({ env: { OPENAI_API_KEY: '' } });
    key = await keyFor(gw);
  });
  after(() => gw?.close());

  test('tollgate-demo is model_not_found and not listed', async () => {
    const client = gw.openai(key);
    await assert.rejects(client.chat.completions.create({ model: 'tollgate-demo', messages: [{ role: 'user', content: HELLO }] }), (e: any) => e.status === 404 && e.code === 'model_not_found');
    const list = await client.models.list();
    assert.ok(!list.data.some((m) => m.id === 'tollgate-demo' || m.owned_by === 'tollgate-demo'));
  });
});

type OpenAI_Usage = { prompt_tokens: number; completion_tokens: number };
