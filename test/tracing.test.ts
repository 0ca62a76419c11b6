// OpenTelemetry traces of /v1 requests: a real gateway exports over OTLP/HTTP (protobuf) to a
// receiver that decodes the wire format with the official .proto definitions; clients are the
// official openai SDK sending a W3C traceparent. Tracing reads no database, so one dialect is
// enough here (SQLite); the spans' tree, GenAI and Tollgate attributes, propagation to the
// upstream, refusals, and that tracing off sends nothing and propagates nothing.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import { startGateway, type Gateway } from './support/gateway.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';
import { ConfigError } from '../src/config.ts';
import { tracingConfig } from '../src/observability/tracing-config.ts';

const COLLECTOR_TOKEN = 'collector-secret-0123456789';

/** A W3C traceparent as a client's own tracer would send it (sampled). */
function clientTrace(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** The trace's spans once its request span (the one ending last) has arrived. */
async function traceOf(receiver: OtlpReceiver, traceId: string): Promise<{ root: ReceivedSpan; children: Map<string, ReceivedSpan>; all: ReceivedSpan[] }> {
  const spans = (await receiver.waitFor((s) => s.some((x) => x.traceId === traceId && x.kind === 'SERVER'))).filter((s) => s.traceId === traceId);
  const root = spans.find((s) => s.kind === 'SERVER')!;
  const children = new Map(spans.filter((s) => s !== root).map((s) => [s.name, s]));
  return { root, children, all: spans };
}

/** The upstream's traceparent header as the fake provider received it: [version, trace id, parent id, flags]. */
function upstreamTraceparent(gw: Gateway): string[] {
  const header = gw.fake.requests.at(-1)?.headers.traceparent;
  assert.equal(typeof header, 'string', 'the upstream received a traceparent');
  return String(header).split('-');
}

describe('traces over OTLP/HTTP', () => {
  let receiver: OtlpReceiver;
  let gw: Gateway;
  let client: OpenAI;
  let teamId: number;
  let key: { id: number; key: string; user_id: number };
  before(async () => {
    receiver = await startOtlpReceiver();
    gw = await startGateway({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '20',
        OTEL_SERVICE_NAME: 'tollgate-under-test',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
        OTEL_EXPORTER_OTLP_HEADERS: `x-collector-token=${COLLECTOR_TOKEN}`,
      },
    });
    teamId = (await gw.api('POST', '/api/teams', { name: 'Traced' })).body.id;
    key = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'svc', models: ['gpt-4o', 'gpt-4o-cached-reasoning', 'error-500'] })).body;
    client = gw.openai(key.key);
  });
  after(async () => {
    await gw?.close();
    await receiver?.close();
  });
  beforeEach(() => gw.fake.reset());

  test('a chat completion is one trace under the client\'s traceparent: request → authenticate, admit, upstream, settle', async () => {
    const t = clientTrace();
    const res = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'Trace me, please.' }], max_tokens: 7 },
      { headers: { traceparent: t.traceparent, tracestate: 'vendor=opaque' } },
    );
    const { root, children, all } = await traceOf(receiver, t.traceId);

    assert.deepEqual(all.map((s) => s.traceId), all.map(() => t.traceId), 'one trace id: the client\'s');
    assert.equal(root.parentSpanId, t.spanId, 'the request span is a child of the client\'s span');
    assert.equal(root.name, 'POST /v1/chat/completions');
    assert.deepEqual([...children.keys()].sort(), ['admit', 'authenticate', 'chat gpt-4o', 'settle']);
    for (const child of children.values()) assert.equal(child.parentSpanId, root.spanId, `${child.name} is a child of the request span`);
    const [authenticate, admit, upstream, settle] = ['authenticate', 'admit', 'chat gpt-4o', 'settle'].map((n) => children.get(n)!);
        // To the millisecond: the SDK starts a span's clock at Date.now().
    const ms = 1_000_000n;
    assert.ok(authenticate!.endNs <= admit!.startNs + ms && admit!.endNs <= upstream!.startNs + ms && upstream!.endNs <= settle!.startNs + ms, 'the steps in order');
    assert.ok(root.startNs <= authenticate!.startNs + ms && settle!.endNs <= root.endNs + ms, 'inside the request span');

    assert.deepEqual(pick(root.attributes, 'gen_ai.'), {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.max_tokens': 7,
      'gen_ai.request.stream': false,
      'gen_ai.usage.input_tokens': res.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': res.usage!.completion_tokens,
    });
    const { 'tollgate.cost_micro': cost, ...tollgate } = pick(root.attributes, 'tollgate.');
    assert.deepEqual(tollgate, { 'tollgate.org_id': gw.runtime.deps.defaultOrgId, 'tollgate.team_id': teamId, 'tollgate.key_id': key.id, 'tollgate.user_id': key.user_id, 'tollgate.status_code': 200 });
    assert.ok(typeof cost === 'number' && cost > 0, 'the request\'s cost in micro-USD');
    assert.equal(root.attributes['http.response.status_code'], 200);
    assert.equal(root.kind, 'SERVER');
    assert.equal(root.status.code, 'UNSET');
    assert.deepEqual([root.resource['service.name'], root.resource['deployment.environment.name'], root.resource['telemetry.sdk.language']], ['tollgate-under-test', 'test', 'nodejs']);

    assert.equal(upstream!.kind, 'CLIENT');
    assert.equal(upstream!.attributes['url.full'], `${gw.fake.baseUrl}/v1/chat/completions`);
    assert.equal(upstream!.attributes['http.response.status_code'], 200);
    assert.equal(upstream!.attributes['gen_ai.usage.output_tokens'], res.usage!.completion_tokens);

    const [version, traceId, parentId, flags] = upstreamTraceparent(gw);
    assert.deepEqual([version, traceId, parentId, flags], ['00', t.traceId, upstream!.spanId, '01'], 'the upstream call carries the trace, its parent the upstream span');
    assert.equal(gw.fake.requests.at(-1)!.headers.tracestate, 'vendor=opaque', 'the client\'s tracestate travels on');

    const exp = receiver.exports.find((e) => e.spans.includes(root))!;
    assert.equal(exp.contentType, 'application/x-protobuf');
    assert.equal(exp.headers['x-collector-token'], COLLECTOR_TOKEN, 'OTEL_EXPORTER_OTLP_HEADERS are sent to the collector');
    assert.deepEqual(receiver.rejected, []);
    const text = JSON.stringify(all, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    assert.ok(!text.includes(key.key) && !text.includes('sk-upstream'), 'no secret in a span');
  });

  test('a streamed completion: usage from the final chunk (cached and reasoning tokens too), the stream flag, time to first chunk', async () => {
    const t = clientTrace();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-cached-reasoning', messages: [{ role: 'user', content: 'Stream it.' }], stream: true, stream_options: { include_usage: true }, max_completion_tokens: 5 },
      { headers: { traceparent: t.traceparent } },
    );
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.ok(usage);
    const { root, children } = await traceOf(receiver, t.traceId);
    assert.deepEqual([...children.keys()].sort(), ['admit', 'authenticate', 'chat gpt-4o-cached-reasoning', 'settle']);
    const cached = usage.prompt_tokens_details!.cached_tokens!;
    const reasoning = usage.completion_tokens_details!.reasoning_tokens!;
    assert.ok(cached > 0 && reasoning > 0, 'the fake reports both');
    assert.deepEqual(
      pick(root.attributes, 'gen_ai.'),
      {
        'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-cached-reasoning', 'gen_ai.request.stream': true, 'gen_ai.request.max_tokens': 5,
        'gen_ai.usage.input_tokens': usage.prompt_tokens, 'gen_ai.usage.output_tokens': usage.completion_tokens,
        'gen_ai.usage.cache_read.input_tokens': cached, 'gen_ai.usage.reasoning.output_tokens': reasoning,
      },
    );
    const ttfc = children.get('chat gpt-4o-cached-reasoning')!.attributes['gen_ai.response.time_to_first_chunk'];
    assert.ok(typeof ttfc === 'number' && ttfc >= 0 && ttfc < 5, `time to first chunk in seconds: ${ttfc}`);
    assert.equal(root.attributes['http.response.status_code'], 200);
    assert.equal(upstreamTraceparent(gw)[1], t.traceId);
  });

  test('without a traceparent the request starts a trace, and the upstream still joins it', async () => {
    const before = new Set(receiver.spans().map((s) => s.traceId));
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'no parent' }] });
    const traceId = upstreamTraceparent(gw)[1]!;
    assert.ok(!before.has(traceId));
    const { root } = await traceOf(receiver, traceId);
    assert.equal(root.parentSpanId, '', 'a root span');
  });

  test('a refusal is on the request span: the code, and the level for limits; the upstream is never called', async () => {
    const t = clientTrace();
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-3.5-turbo', messages: [{ role: 'user', content: 'not for this key' }] }, { headers: { traceparent: t.traceparent } }),
      (e: any) => e.status === 403 && e.code === 'model_not_allowed',
    );
    const refused = await traceOf(receiver, t.traceId);
    assert.deepEqual([...refused.children.keys()], ['authenticate'], 'refused before admission: no admit, upstream or settle span');
    assert.deepEqual(
      [refused.root.attributes['http.response.status_code'], refused.root.attributes['tollgate.decision.code'], refused.root.attributes['error.type'], refused.root.attributes['gen_ai.request.model']],
      [403, 'model_not_allowed', 'model_not_allowed', 'gpt-3.5-turbo'],
    );
    assert.equal(refused.root.status.code, 'UNSET', 'a refusal is not a failure of the gateway');
    assert.equal(gw.fake.requests.length, 0);

    const capped = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'capped', max_budget_usd: 0.000001, budget_period: 'monthly' })).body;
    const b = clientTrace();
    await assert.rejects(
      gw.openai(capped.key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'over budget' }], max_tokens: 50 }, { headers: { traceparent: b.traceparent } }),
      (e: any) => e.status === 429 && e.code === 'budget_exceeded',
    );
    const budget = await traceOf(receiver, b.traceId);
    const admit = budget.children.get('admit')!;
    assert.deepEqual([admit.attributes['tollgate.decision.code'], admit.attributes['tollgate.decision.level']], ['budget_exceeded', 'key']);
    assert.deepEqual(
      [budget.root.attributes['tollgate.decision.code'], budget.root.attributes['tollgate.decision.level'], budget.root.attributes['http.response.status_code'], budget.root.attributes['tollgate.key_id']],
      ['budget_exceeded', 'key', 429, capped.id],
    );
    assert.ok(!budget.children.has('settle') && ![...budget.children.values()].some((s) => s.kind === 'CLIENT'));
    assert.equal(gw.fake.requests.length, 0);

    const u = clientTrace();
    await assert.rejects(gw.openai('sk-tg-' + 'a'.repeat(38)).chat.completions.create({ model: 'gpt-4o', messages: [] }, { headers: { traceparent: u.traceparent } }), (e: any) => e.status === 401);
    const unknown = await traceOf(receiver, u.traceId);
    assert.equal(unknown.children.get('authenticate')!.attributes['tollgate.decision.code'], 'invalid_api_key');
    assert.equal(unknown.root.attributes['tollgate.key_id'], undefined, 'no key: no key id');
  });

  test('a client that leaves before the answer: the request span waits for the upstream call, then says the client closed', async () => {
    const open = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'any model' })).body;
    const t = clientTrace();
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 60);
    await assert.rejects(gw.openai(open.key).chat.completions.create({ model: 'slow-gpt-4o', messages: [{ role: 'user', content: 'too slow' }] }, { headers: { traceparent: t.traceparent }, signal: abort.signal }));
    const { root, children } = await traceOf(receiver, t.traceId);
    assert.deepEqual([...children.keys()].sort(), ['admit', 'authenticate', 'chat slow-gpt-4o', 'settle']);
    assert.ok(children.get('settle')!.endNs <= root.endNs + 1_000_000n, 'the request span ended after the upstream call and settle');
    assert.equal(root.attributes['error.type'], 'client_closed');
    assert.equal(root.attributes['http.response.status_code'], undefined, 'nothing was answered');
    assert.equal(root.status.code, 'UNSET');
  });

  test('an upstream failure is an error on the upstream and request spans', async () => {
    const t = clientTrace();
    await assert.rejects(client.chat.completions.create({ model: 'error-500', messages: [{ role: 'user', content: 'x' }] }, { headers: { traceparent: t.traceparent } }), (e: any) => e.status === 502);
    const { root, children } = await traceOf(receiver, t.traceId);
    const upstream = children.get('chat error-500')!;
    assert.deepEqual([upstream.status.code, upstream.attributes['http.response.status_code'], upstream.attributes['error.type']], ['ERROR', 500, 'upstream_500']);
    assert.deepEqual([root.status.code, root.attributes['http.response.status_code'], root.attributes['error.type']], ['ERROR', 502, 'upstream_500']);
  });
});

describe('tracing off', () => {
  test('no endpoint, or OTEL_SDK_DISABLED: nothing is exported and no traceparent reaches the upstream', async () => {
    const receiver = await startOtlpReceiver();
    const envs: Record<string, string>[] = [{}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_SDK_DISABLED: 'true' }];
    for (const env of envs) {
      const gw = await startGateway({ env });
      try {
        assert.equal(gw.runtime.deps.tracing, null);
        const team = (await gw.api('POST', '/api/teams', { name: 'Dark' })).body;
        const secret = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body.key;
        const t = clientTrace();
        await gw.openai(secret).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { traceparent: t.traceparent } });
        assert.equal(gw.fake.requests.length, 1);
        assert.equal(gw.fake.requests[0]!.headers.traceparent, undefined, 'the client\'s traceparent is not forwarded either');
        await sleep(150); // several batch delays
      } finally {
        await gw.close();
      }
    }
    assert.deepEqual(receiver.exports, []);
    await receiver.close();
  });
});

describe('tracing configuration (the standard OTEL_* variables)', () => {
  test('the endpoint: the general one gets /v1/traces, the traces one is used as is', () => {
    assert.equal(tracingConfig({}), null);
    assert.equal(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })!.url, 'http://collector:4318/v1/traces');
    assert.equal(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/base/' })!.url, 'https://otlp.example.com/base/v1/traces');
    assert.equal(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/custom' })!.url, 'http://b:9999/custom');
    assert.equal(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_TRACES_EXPORTER: 'none' }), null);
  });

  test('defaults and the sampler, headers, batch settings', () => {
    const c = tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource,team=ml%20ops' })!;
    assert.deepEqual([c.serviceName, c.sampler, c.samplerRatio, c.timeoutMs, c.compression, c.batch.scheduledDelayMs], ['from-resource', 'parentbased_always_on', 1, 10_000, 'none', 5000]);
    assert.equal(c.resourceAttributes.team, 'ml ops');
    const d = tracingConfig({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://a:4318/v1/traces', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_SERVICE_NAME: 'gw',
    })!;
    assert.deepEqual([d.sampler, d.samplerRatio, d.headers, d.compression, d.serviceName], ['parentbased_traceidratio', 0.25, { a: '1', b: '3' }, 'gzip', 'gw']);
  });

  test('bad values fail start-up naming the variable, and never repeat a header value', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' };
    for (const [env, name] of [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
      [{ ...base, OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER'],
      [{ ...base, OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG'],
      [{ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
      [{ ...base, OTEL_BSP_SCHEDULE_DELAY: 'soon' }, 'OTEL_BSP_SCHEDULE_DELAY'],
      [{ ...base, OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER'],
    ] as const) {
      assert.throws(() => tracingConfig(env), (e: any) => e instanceof ConfigError && e.message.includes(name), name);
    }
    assert.throws(() => tracingConfig({ ...base, OTEL_EXPORTER_OTLP_HEADERS: 'authorization%ZZ-sk-secret-value' }), (e: any) => e instanceof ConfigError && e.message.includes('OTEL_EXPORTER_OTLP_HEADERS') && !e.message.includes('sk-secret-value'));
  });
});

/** The attributes whose names start with `prefix`. */
function pick(attrs: Record<string, unknown>, prefix: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attrs).filter(([k]) => k.startsWith(prefix)));
}
