// Every client API through the one pipeline: each /v1 endpoint (OpenAI chat, completions,
// embeddings, Responses; Anthropic Messages and count_tokens; Gemini generateContent) is
// authenticated by each header a client sends it in, refused without its scope, refused by a hard
// budget, metered and logged under its own endpoint name — none bypasses admission or metering.
// Refusals come in the client's own error format, as its official SDK sees them.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startGateway, UPSTREAM_KEY, type Gateway } from './support/gateway.ts';

interface Call { endpoint: string; model: string; path: string; body: Record<string, unknown>; priced: boolean }

const USER = 'Hello there, how are you today?';
const CALLS: Call[] = [
  { endpoint: 'chat/completions', model: 'ca-chat', path: '/v1/chat/completions', body: { model: 'ca-chat', messages: [{ role: 'user', content: USER }], max_tokens: 5 }, priced: true },
  { endpoint: 'completions', model: 'ca-chat', path: '/v1/completions', body: { model: 'ca-chat', prompt: USER, max_tokens: 5 }, priced: true },
  { endpoint: 'embeddings', model: 'ca-embed', path: '/v1/embeddings', body: { model: 'ca-embed', input: USER }, priced: true },
  { endpoint: 'responses', model: 'ca-chat', path: '/v1/responses', body: { model: 'ca-chat', input: USER, max_output_tokens: 5 }, priced: true },
  { endpoint: 'messages', model: 'ca-claude', path: '/v1/messages', body: { model: 'ca-claude', max_tokens: 5, messages: [{ role: 'user', content: USER }] }, priced: true },
  { endpoint: 'messages/count_tokens', model: 'ca-claude', path: '/v1/messages/count_tokens', body: { model: 'ca-claude', messages: [{ role: 'user', content: USER }] }, priced: false },
  { endpoint: 'generateContent', model: 'ca-gemini', path: '/v1beta/models/ca-gemini:generateContent', body: { contents: [{ role: 'user', parts: [{ text: USER }] }], generationConfig: { maxOutputTokens: 5 } }, priced: true },
];
const HEADERS: Record<string, (key: string) => Record<string, string>> = {
  bearer: (key) => ({ authorization: `Bearer ${key}` }),
  'x-api-key': (key) => ({ 'x-api-key': key }),
  'x-goog-api-key': (key) => ({ 'x-goog-api-key': key }),
};
const PRICE = { input_per_1m_usd: 1, output_per_1m_usd: 2 };

describe('client APIs through one pipeline', () => {
  let gw: Gateway;
  let teamId: number;

  const credential = async (name: string, provider: string, baseUrl: string) => {
    const res = await gw.api('POST', '/api/providers', { name, provider, base_url: baseUrl, api_key: UPSTREAM_KEY, models: [`${name}-own`] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as number;
  };
  const route = async (model: string, credentialId: number, upstream: string) => {
    const res = await gw.api('POST', '/api/routes', { model, deployments: [{ credential_id: credentialId, upstream_model: upstream, ...PRICE }] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  };
  const newKey = async (name: string): Promise<{ key: string; id: number }> => {
    const res = await gw.api('POST', `/api/teams/${teamId}/keys`, { name });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { key: res.body.key, id: res.body.id };
  };
  const post = async (call: Call, headers: Record<string, string>) => {
    const res = await fetch(gw.url + call.path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(call.body), signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.json()) as any };
  };
  /** The newest log rows of a key, once `n` are written. */
  const rowsOf = async (keyId: number, n: number): Promise<any[]> => {
    for (let i = 0; i < 100; i++) {
      await gw.flush();
      const rows = (await gw.api('GET', `/api/logs?key_id=${keyId}&limit=100`)).body.data.filter((r: any) => r.key_id === keyId);
      if (rows.length >= n) return rows;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`no ${n} log rows for key ${keyId}`);
  };

  before(async () => {
    gw = await startGateway();
    const base = gw.fake.baseUrl;
    const openai = await credential('ca-openai', 'openai', `${base}/v1`);
    const anthropic = await credential('ca-anthropic', 'anthropic', `${base}/v1`);
    const gemini = await credential('ca-gemini', 'gemini', `${base}/v1beta`);
    const groq = await credential('ca-groq', 'groq', `${base}/v1`);
    await route('ca-chat', openai, 'gpt-4o-mini');
    await route('ca-embed', openai, 'text-embedding-3-small');
    await route('ca-claude', anthropic, 'claude-sonnet-4-5');
    await route('ca-gemini', gemini, 'gemini-2.5-flash');
    await route('ca-groq', groq, 'llama-3.3-70b-versatile');
    await route('ca-claude-only', anthropic, 'claude-haiku-4-5');
    // Messages clients on an OpenAI route whose upstream refuses: 400 (the client's fault), 429, 401 (the credential)
    await route('ca-translated-400', openai, 'error-400-bad');
    await route('ca-translated-429', openai, 'error-429-busy');
    await route('ca-translated-401', openai, 'error-401-credential');
    teamId = (await gw.api('POST', '/api/teams', { name: 'Client APIs' })).body.id;
  });
  after(() => gw?.close());

  for (const [header, auth] of Object.entries(HEADERS)) {
    test(`every endpoint answers a key sent as ${header}, metered and logged under its endpoint`, async () => {
      const { key, id } = await newKey(`by ${header}`);
      for (const call of CALLS) {
        const res = await post(call, auth(key));
        assert.equal(res.status, 200, `${call.endpoint}: ${JSON.stringify(res.body)}`);
      }
      const rows = await rowsOf(id, CALLS.length);
      for (const call of CALLS) {
        const row = rows.find((r) => r.endpoint === call.endpoint);
        assert.ok(row, `a log row for ${call.endpoint}`);
        assert.equal(row.model, call.model, `${call.endpoint}: the model as the client named it (Gemini: from the URL)`);
        assert.equal(row.status_code, 200);
        assert.equal(row.attempts, 1);
        assert.deepEqual(row.attempt_log, []);
        if (call.priced) {
          assert.ok(row.tokens_in > 0 && row.cost_usd > 0, `${call.endpoint} metered: ${JSON.stringify(row)}`);
          assert.equal(row.usage_estimated, false, `${call.endpoint}: the provider's own usage`);
        } else {
          assert.deepEqual([row.tokens_in, row.tokens_out, row.cost_usd], [0, 0, 0], 'counting tokens is free, and still logged');
        }
      }
    });
  }

  test('no credential, or a wrong one: 401 in each client\'s format', async () => {
    for (const call of CALLS) {
      for (const headers of [{}, { 'x-api-key': 'sk-tg-not-a-real-key-0000000000000000' }] as Array<Record<string, string>>) {
        const res = await post(call, headers);
        assert.equal(res.status, 401, call.endpoint);
        if (call.endpoint.startsWith('messages')) assert.equal(res.body.type === 'error' && res.body.error.type, 'authentication_error');
        else if (call.endpoint === 'generateContent') assert.equal(res.body.error.status, 'UNAUTHENTICATED');
        else assert.equal(res.body.error.type, 'authentication_error');
      }
    }
  });

  test('a key without the endpoint\'s scope is refused in the client\'s format, before any upstream call', async () => {
    const { key, id } = await newKey('embeddings only');
    assert.equal((await gw.api('PATCH', `/api/keys/${id}`, { scopes: 'embeddings' })).status, 200);
    const before = gw.fake.requests.length;
    for (const call of CALLS.filter((c) => c.endpoint !== 'embeddings')) {
      const res = await post(call, { authorization: `Bearer ${key}` });
      assert.equal(res.status, 403, call.endpoint);
      if (call.endpoint.startsWith('messages')) assert.deepEqual([res.body.type, res.body.error.type, res.body.error.code], ['error', 'permission_error', 'scope_not_allowed']);
      else if (call.endpoint === 'generateContent') {
        assert.deepEqual([res.body.error.code, res.body.error.status, res.body.error.details[0].reason], [403, 'PERMISSION_DENIED', 'scope_not_allowed']);
      } else assert.equal(res.body.error.code, 'scope_not_allowed');
    }
    assert.equal(gw.fake.requests.length, before, 'nothing reached the provider');
    // The Anthropic SDK raises its own typed error from Tollgate's answer.
    const claude = new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
    const err = await claude.messages.create({ model: 'ca-claude', max_tokens: 5, messages: [{ role: 'user', content: USER }] }).catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.PermissionDeniedError, String(err));
    assert.equal((err.error as any).error.type, 'permission_error');
    const rows = await rowsOf(id, CALLS.length);
    assert.ok(rows.every((r) => r.status_code === 403 && r.error_code === 'scope_not_allowed'), 'each refusal logged');
  });

  test('a hard budget refuses every priced endpoint (count_tokens costs nothing and passes); the SDKs see their own errors', async () => {
    const { key, id } = await newKey('tiny budget');
    assert.equal((await gw.api('PUT', `/api/keys/${id}/limits`, { max_budget_usd: 0.000001, budget_period: 'total', budget_mode: 'hard' })).status, 200);
    const before = gw.fake.requests.length;
    for (const call of CALLS) {
      const res = await post(call, { 'x-api-key': key });
      if (!call.priced) {
        assert.equal(res.status, 200, `${call.endpoint} reserves nothing: ${JSON.stringify(res.body)}`);
        continue;
      }
      assert.equal(res.status, 429, `${call.endpoint}: ${JSON.stringify(res.body)}`);
      if (call.endpoint === 'messages') assert.deepEqual([res.body.type, res.body.error.type, res.body.error.code], ['error', 'rate_limit_error', 'budget_exceeded']);
      else if (call.endpoint === 'generateContent') assert.deepEqual([res.body.error.status, res.body.error.details[0].reason], ['RESOURCE_EXHAUSTED', 'budget_exceeded']);
      else assert.equal(res.body.error.code, 'budget_exceeded');
    }
    assert.equal(gw.fake.requests.length, before + 1, 'only count_tokens reached a provider');
    const claude = new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
    const err = await claude.messages.create({ model: 'ca-claude', max_tokens: 5, messages: [{ role: 'user', content: USER }] }).catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.RateLimitError, String(err));
    const oa = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const oerr = await oa.responses.create({ model: 'ca-chat', input: USER, max_output_tokens: 5 }).catch((e: unknown) => e);
    assert.ok(oerr instanceof OpenAI.RateLimitError, String(oerr));
    const rows = await rowsOf(id, CALLS.length + 2);
    assert.equal(rows.filter((r) => r.error_code === 'budget_exceeded').length, CALLS.length + 1);
  });

  test('an API the provider cannot serve is a 400 naming the provider and the API, logged, in the client\'s format', async () => {
    const { key, id } = await newKey('unsupported');
    const oa = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const err = await oa.responses.create({ model: 'ca-groq', input: USER, max_output_tokens: 5 }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal((err as any).code, 'endpoint_not_supported');
    assert.match((err as Error).message, /Responses API/);
    assert.match((err as Error).message, /groq/);
    const gem = await post({ ...CALLS[6]!, path: '/v1beta/models/ca-claude-only:generateContent' }, { 'x-goog-api-key': key });
    assert.equal(gem.status, 400);
    assert.deepEqual([gem.body.error.code, gem.body.error.status, gem.body.error.details[0].reason], [400, 'INVALID_ARGUMENT', 'endpoint_not_supported']);
    assert.match(gem.body.error.message, /anthropic/i);
    const rows = await rowsOf(id, 2);
    assert.ok(rows.every((r) => r.status_code === 400 && r.error_code === 'endpoint_not_supported'), JSON.stringify(rows));
    assert.deepEqual(rows.map((r) => r.provider).sort(), ['anthropic', 'groq'], 'logged against the provider that cannot serve it');
  });

  test('provider errors after a translation reach an Anthropic client in its own shape, with the provider\'s message and the right status', async () => {
    const { key } = await newKey('translated errors');
    const claude = new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
    const ask = (model: string) => claude.messages.create({ model, max_tokens: 5, messages: [{ role: 'user', content: USER }] }).then(() => undefined, (e: unknown) => e);
    const bad = await ask('ca-translated-400');
    assert.ok(bad instanceof Anthropic.BadRequestError, String(bad));
    assert.equal((bad.error as any).error.type, 'invalid_request_error');
    assert.match(bad.message, /Simulated error for model error-400-bad/, "the provider's own message");
    const busy = await ask('ca-translated-429');
    assert.ok(busy instanceof Anthropic.RateLimitError, String(busy));
    const refused = await ask('ca-translated-401');
    assert.ok(refused instanceof Anthropic.InternalServerError && refused.status === 502, `the organization's credential refused is a gateway failure, not the client's 401: ${String(refused)}`);
    assert.equal((refused.error as any).error.type, 'api_error');
    assert.equal((refused.error as any).error.code, 'upstream_error');
  });

  test('malformed bodies name the field in each API\'s terms; Gemini streams only as SSE', async () => {
    const { key } = await newKey('bodies');
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['/v1/messages', { model: 'ca-claude', messages: [{ role: 'user', content: 'hi' }] }, 'max_tokens'],
      ['/v1/messages', { model: 'ca-claude', max_tokens: 5, messages: [{ role: 'system', content: 'hi' }] }, 'messages[0].role'],
      ['/v1/responses', { model: 'ca-chat' }, 'input'],
      ['/v1beta/models/ca-gemini:generateContent', { contents: [{ role: 'user' }] }, 'contents[0].parts'],
    ];
    for (const [path, body, param] of cases) {
      const res = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(body) });
      const json: any = await res.json();
      assert.equal(res.status, 400, path);
      const message = json.error.message as string;
      assert.ok(message.startsWith(param + ':'), `${path}: ${message}`);
    }
    const res = await fetch(`${gw.url}/v1beta/models/ca-gemini:streamGenerateContent`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': key }, body: JSON.stringify(CALLS[6]!.body) });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as any).error.message, /alt=sse/);
  });

  test('GET /v1/models: OpenAI\'s list shape, or Anthropic\'s when the request carries anthropic-version', async () => {
    const { key } = await newKey('models');
    const openai = (await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as any;
    assert.equal(openai.object, 'list');
    assert.ok(openai.data.some((m: any) => m.id === 'ca-claude' && m.object === 'model'));
    const claude = new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
    const page = await claude.models.list();
    const ids = page.data.map((m) => m.id);
    assert.ok(ids.includes('ca-claude') && ids.includes('ca-chat'), ids.join());
    assert.ok(page.data.every((m) => m.type === 'model' && typeof m.display_name === 'string' && !Number.isNaN(Date.parse(m.created_at))));
    const raw = (await (await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' } })).json()) as any;
    assert.deepEqual([raw.has_more, raw.first_id, raw.last_id], [false, raw.data[0].id, raw.data[raw.data.length - 1].id]);
    const refused = await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': 'sk-tg-not-a-real-key-0000000000000000', 'anthropic-version': '2023-06-01' } });
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as any).error.type, 'authentication_error');
  });
});
