// The SDK matrix (issue 13, "Done when"): the official `openai` and `@anthropic-ai/sdk` clients,
// through ONE Tollgate, against every kind of route — OpenAI, an OpenAI-compatible preset (Groq),
// Anthropic native, Anthropic translated both ways, Azure OpenAI, Google Gemini — each with the
// fake upstream in that provider's wire format. Every row checks the answer the client got, the
// usage it saw, and the log row Tollgate metered (GET /api/logs: endpoint, provider, tokens equal to
// what the upstream reported, cost at the route's price). Plus: a client that aborts mid-stream on
// each API is still metered, at the usage the upstream reported.
//
// One row per line. A row whose piece of the gateway has not landed is marked { todo: 'waiting for …' }.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { startGateway, UPSTREAM_KEY, type Gateway } from './support/gateway.ts';
import { replyPieces } from './support/fake-upstream.ts';

/** The routes: one credential each at the fake upstream, serving one public model (priced by the shipped price book). */
const ROUTES = {
  openai: { provider: 'openai', base: '/v1', model: 'gpt-4o-mini' },
  groq: { provider: 'groq', base: '/v1', model: 'llama-3.3-70b-versatile' },
  anthropic: { provider: 'anthropic', base: '/v1', model: 'claude-sonnet-4-5' },
  // Azure: the route's model is the deployment's name; `api_version` is required.
  azure: { provider: 'azure', base: '', model: 'gpt-4.1-mini', options: { api_version: '2024-10-21' } },
  gemini: { provider: 'gemini', base: '/v1beta', model: 'gemini-2.5-flash' },
} as const;
type RouteKind = keyof typeof ROUTES;

type Call = 'chat' | 'responses' | 'messages' | 'count_tokens';
const ENDPOINT: Record<Call, string> = { chat: 'chat/completions', responses: 'responses', messages: 'messages', count_tokens: 'messages/count_tokens' };

interface Row {
  route: RouteKind;
  call: Call;
  stream?: boolean;
  /** what the row shows (translation direction) */
  note?: string;
  todo?: string;
}

const MATRIX: Row[] = [
  { route: 'openai', call: 'chat', stream: false },
  { route: 'openai', call: 'chat', stream: true },
  { route: 'openai', call: 'responses', stream: false },
  { route: 'openai', call: 'responses', stream: true },
  { route: 'groq', call: 'chat', stream: false },
  { route: 'groq', call: 'chat', stream: true },
  { route: 'anthropic', call: 'messages', stream: false, note: 'native' },
  { route: 'anthropic', call: 'messages', stream: true, note: 'native' },
  { route: 'anthropic', call: 'count_tokens', note: 'native' },
  { route: 'anthropic', call: 'chat', stream: false, note: 'translated: OpenAI client → Anthropic credential' },
  { route: 'anthropic', call: 'chat', stream: true, note: 'translated: OpenAI client → Anthropic credential' },
  { route: 'openai', call: 'messages', stream: false, note: 'translated: Anthropic client → OpenAI credential' },
  { route: 'openai', call: 'messages', stream: true, note: 'translated: Anthropic client → OpenAI credential' },
  { route: 'openai', call: 'count_tokens', note: 'translated: local estimate' },
  { route: 'azure', call: 'chat', stream: false },
  { route: 'azure', call: 'chat', stream: true },
  { route: 'azure', call: 'responses', stream: false },
  { route: 'azure', call: 'responses', stream: true },
  { route: 'gemini', call: 'chat', stream: false },
  { route: 'gemini', call: 'chat', stream: true },
  // Claude Code on other providers' models: the same Messages → chat translation, their own chat endpoints
  { route: 'groq', call: 'messages', stream: true, note: 'translated' },
  { route: 'azure', call: 'messages', stream: true, note: 'translated' },
  { route: 'gemini', call: 'messages', stream: true, note: 'translated' },
];

/** Aborted after the third streamed piece: still metered, at the usage the upstream reported. */
const ABORTS: Row[] = [
  { route: 'openai', call: 'chat', stream: true },
  { route: 'openai', call: 'responses', stream: true },
  { route: 'anthropic', call: 'messages', stream: true, note: 'native' },
  { route: 'openai', call: 'messages', stream: true, note: 'translated' },
];

const PROMPT = 'Name three prime numbers and say why each is prime.';
const SYSTEM = 'You answer in one short sentence.';
/** The fake replies "tok0 tok1 …", one word per completion token: this many, under every row's max tokens. */
const REPLY_TOKENS = 6;
const MAX_TOKENS = 32;
/** The aborted streams' length (under MAX_TOKENS): ~600 ms at the fake's 20 ms per piece. */
const LONG = 30;

/** What one client call saw: the text, and the usage in the client's own terms. */
interface Seen { text: string; tokensIn: number; tokensOut: number }

async function run(gw: Gateway, key: string, row: Row, abortAfter?: number): Promise<Seen> {
  const model = ROUTES[row.route].model;
  const openai: OpenAI = gw.openai(key);
  const anthropic = new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
  const seen: Seen = { text: '', tokensIn: 0, tokensOut: 0 };
  let pieces = 0;
  const enough = () => abortAfter !== undefined && ++pieces >= abortAfter;
  if (row.call === 'chat') {
    const ask = { model, max_tokens: MAX_TOKENS, messages: [{ role: 'system' as const, content: SYSTEM }, { role: 'user' as const, content: PROMPT }] };
    if (!row.stream) {
      const r = await openai.chat.completions.create(ask);
      return { text: r.choices[0]!.message.content ?? '', tokensIn: r.usage!.prompt_tokens, tokensOut: r.usage!.completion_tokens };
    }
    const s = await openai.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of s) {
      seen.text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) [seen.tokensIn, seen.tokensOut] = [chunk.usage.prompt_tokens, chunk.usage.completion_tokens];
      if (chunk.choices[0]?.delta.content && enough()) {
        s.controller.abort();
        break;
      }
    }
    return seen;
  }
  if (row.call === 'responses') {
    const ask = { model, instructions: SYSTEM, input: PROMPT, max_output_tokens: MAX_TOKENS };
    if (!row.stream) {
      const r = await openai.responses.create(ask);
      return { text: r.output_text, tokensIn: r.usage!.input_tokens, tokensOut: r.usage!.output_tokens };
    }
    const s = await openai.responses.create({ ...ask, stream: true });
    for await (const event of s) {
      if (event.type === 'response.output_text.delta') {
        seen.text += event.delta;
        if (enough()) {
          s.controller.abort();
          break;
        }
      }
      if (event.type === 'response.completed') [seen.tokensIn, seen.tokensOut] = [event.response.usage!.input_tokens, event.response.usage!.output_tokens];
    }
    return seen;
  }
  if (row.call === 'count_tokens') {
    const r = await anthropic.messages.countTokens({ model, system: SYSTEM, messages: [{ role: 'user', content: PROMPT }] });
    return { text: '', tokensIn: r.input_tokens, tokensOut: 0 };
  }
  const ask = { model, max_tokens: MAX_TOKENS, system: SYSTEM, messages: [{ role: 'user' as const, content: PROMPT }] };
  if (!row.stream) {
    const r = await anthropic.messages.create(ask);
    const text = r.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    return { text, tokensIn: r.usage.input_tokens, tokensOut: r.usage.output_tokens };
  }
  // Raw events, read as the SDK's MessageStream accumulates them: input tokens from message_start,
  // updated by message_delta when it carries them (a translated stream learns them only at the end).
  const s = await anthropic.messages.create({ ...ask, stream: true });
  for await (const event of s) {
    if (event.type === 'message_start') seen.tokensIn = event.message.usage.input_tokens;
    if (event.type === 'message_delta') {
      seen.tokensOut = event.usage.output_tokens;
      if (event.usage.input_tokens != null) seen.tokensIn = event.usage.input_tokens;
    }
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
      seen.text += event.delta.text;
      if (enough()) {
        s.controller.abort();
        break;
      }
    }
  }
  return seen;
}

interface Price { input_per_1m_usd: number; output_per_1m_usd: number }

const title = (r: Row) => `${r.route} · ${r.call}${r.stream === undefined ? '' : r.stream ? ' (stream)' : ' (json)'}${r.note ? ` · ${r.note}` : ''}`;

describe('SDK matrix: official clients × route kinds, through one gateway', () => {
  let gw: Gateway;
  let key: string;
  const prices = new Map<string, Price>();

  before(async () => {
    // No start-up credential: every model below has its own explicit route, nothing reaches a catch-all.
    gw = await startGateway({ env: { OPENAI_API_KEY: '' } });
    for (const [kind, r] of Object.entries(ROUTES)) {
      const created = await gw.api('POST', '/api/providers', { name: `matrix-${kind}`, provider: r.provider, base_url: gw.fake.baseUrl + r.base, api_key: UPSTREAM_KEY, models: [r.model], ...('options' in r ? { options: r.options } : {}) });
      assert.equal(created.status, 201, `${kind}: ${JSON.stringify(created.body)}`);
    }
    const routes = await gw.api('GET', '/api/routes');
    assert.equal(routes.status, 200, JSON.stringify(routes.body));
    for (const route of routes.body.data) if (route.deployments[0]?.price) prices.set(route.model, route.deployments[0].price);
    const team = (await gw.api('POST', '/api/teams', { name: 'matrix' })).body;
    key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'matrix' })).body.key;
  });
  after(() => gw?.close());

  /** The newest log row, once it exists (an aborted stream is settled after the drain). */
  async function newestRow(after: number): Promise<any> {
    for (let i = 0; i < 100; i++) {
      await gw.flush();
      const r = await gw.api('GET', '/api/logs?limit=1');
      const row = r.body.data[0];
      if (row && row.id > after) return row;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.fail('no log row for the request');
  }
  const lastId = async () => ((await gw.api('GET', '/api/logs?limit=1')).body.data[0]?.id ?? 0) as number;

  function checkMetered(row: Row, log: any, upstream: { prompt: number; completion: number }): void {
    const { provider, model } = ROUTES[row.route];
    assert.equal(log.endpoint, ENDPOINT[row.call], 'endpoint');
    assert.equal(log.provider, provider, 'provider');
    assert.equal(log.model, model, 'model');
    const price = prices.get(model);
    assert.ok(price, `${model} is priced (GET /api/routes)`);
    assert.equal(log.unpriced, false);
    const cost = (log.tokens_in * price.input_per_1m_usd + log.tokens_out * price.output_per_1m_usd) / 1e6;
    assert.ok(Math.abs(log.cost_usd - cost) <= 2e-6, `cost ${log.cost_usd} ≈ ${cost}`);
    if (row.call === 'count_tokens') return;
    assert.deepEqual([log.tokens_in, log.tokens_out], [upstream.prompt, upstream.completion], 'metered = what the upstream reported');
  }

  for (const row of MATRIX) {
    test(title(row), row.todo ? { todo: row.todo } : {}, async () => {
      gw.fake.options.completionTokens = REPLY_TOKENS;
      const from = await lastId();
      const before = { ...gw.fake.usageTotals };
      const seen = await run(gw, key, row);
      const log = await newestRow(from);
      const upstream = { prompt: gw.fake.usageTotals.prompt_tokens - before.prompt_tokens, completion: gw.fake.usageTotals.completion_tokens - before.completion_tokens };
      assert.equal(log.status_code, 200, JSON.stringify(log));
      assert.equal(log.streamed, row.stream === true);
      if (row.call === 'count_tokens') {
        assert.ok(seen.tokensIn > 0, 'the client gets a token count');
        assert.deepEqual([log.tokens_in, log.tokens_out, log.cost_usd], [0, 0, 0], 'counting tokens is free, and logged');
      } else {
        assert.equal(seen.text, replyPieces(REPLY_TOKENS).join(''), 'the answer');
        assert.deepEqual([seen.tokensIn, seen.tokensOut], [upstream.prompt, upstream.completion], 'the usage the client sees is what the upstream reported');
        assert.ok(upstream.prompt > 0 && upstream.completion === REPLY_TOKENS);
      }
      checkMetered(row, log, upstream);
    });
  }

  for (const row of ABORTS) {
    test(`abort mid-stream · ${title(row)} · still metered`, row.todo ? { todo: row.todo } : {}, async () => {
      // A long, slow stream: the client leaves after three pieces, well before its end.
      gw.fake.options.completionTokens = LONG;
      gw.fake.options.chunkDelayMs = 20;
      try {
        const from = await lastId();
        const before = { ...gw.fake.usageTotals };
        const seen = await run(gw, key, row, 3);
        assert.ok(seen.text.length > 0 && !seen.text.includes(`tok${LONG - 1}`), `left early: ${seen.text}`);
        const log = await newestRow(from);
        const upstream = { prompt: gw.fake.usageTotals.prompt_tokens - before.prompt_tokens, completion: gw.fake.usageTotals.completion_tokens - before.completion_tokens };
        assert.equal(log.error_code, 'client_closed', JSON.stringify(log));
        // Tollgate kept reading the abandoned stream (TOLLGATE_ABORT_DRAIN_MS) for the provider's own usage.
        assert.equal(upstream.completion, LONG);
        assert.equal(log.usage_estimated, false);
        checkMetered(row, log, upstream);
        assert.ok(log.cost_usd > 0);
      } finally {
        gw.fake.options.completionTokens = REPLY_TOKENS;
        delete gw.fake.options.chunkDelayMs;
      }
    });
  }

  test('the Responses API on a provider without it (Groq) is a 400 saying so, logged', async () => {
    const from = await lastId();
    await assert.rejects(gw.openai(key).responses.create({ model: ROUTES.groq.model, input: PROMPT }), (e: any) => e.status === 400 && /responses/i.test(e.message));
    const log = await newestRow(from);
    assert.deepEqual([log.endpoint, log.status_code, log.error_code, log.model], ['responses', 400, 'endpoint_not_supported', ROUTES.groq.model]);
  });
});
