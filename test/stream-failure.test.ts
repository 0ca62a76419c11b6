// An upstream that fails after the answer has started must not look like a whole answer: the
// stream ends with an error event in OpenAI's format (the SDK raises it), and the request is
// logged as failed with what was metered. A stream that hangs is cut at the first-byte/idle
// timeout, well before the whole-response timeout; a 200 that is not JSON is a 502.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIError } from 'openai';
import { startGateway, type Gateway } from './support/gateway.ts';

const FIRST_BYTE_MS = 600;
const chunk = (content: string) => `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]}\n\n`;

/** Misbehaves by model name: reset-mid, no-done, hang-mid, hang-before, bad-json. */
function brokenUpstream(): Server {
  return createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', async () => {
      const model = JSON.parse(Buffer.concat(parts).toString('utf8')).model as string;
      if (model === 'bad-json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"id":"chatcmpl-1","object":"chat.completion","choi');
      }
      if (model === 'hang-before') return; // never answers
      if (model === 'huge-json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const block = Buffer.alloc(64 * 1024, 0x61);
        for (let i = 0; i < 64 && !res.destroyed; i++) if (!res.write(block)) await new Promise((r) => res.once('drain', r));
        return void res.end();
      }
      if (model === 'huge-event') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk('one '));
        res.write('data: {"choices":[{"delta":{"content":"');
        const block = Buffer.alloc(64 * 1024, 0x61);
        for (let i = 0; i < 64 && !res.destroyed; i++) if (!res.write(block)) await new Promise((r) => res.once('drain', r));
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const word of ['one ', 'two ', 'three ']) {
        res.write(chunk(word));
        await new Promise((r) => setTimeout(r, 10));
      }
      if (model === 'reset-mid') return void res.socket?.destroy();
      if (model === 'hang-mid') return; // silent from here on
      res.end(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`); // no-done
    });
  });
}

describe('upstream failures after the answer started', () => {
  let gw: Gateway;
  let up: Server;
  let key: string;
  let teamId: number;
  before(async () => {
    up = brokenUpstream();
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    gw = await startGateway({ env: { TOLLGATE_UPSTREAM_FIRST_BYTE_TIMEOUT_MS: String(FIRST_BYTE_MS), TOLLGATE_UPSTREAM_TIMEOUT_MS: '60000', TOLLGATE_UPSTREAM_RESPONSE_LIMIT_BYTES: String(1024 * 1024) } });
    const base = `http://127.0.0.1:${(up.address() as AddressInfo).port}/v1`;
    const models = ['reset-mid', 'no-done', 'hang-mid', 'hang-before', 'bad-json', 'huge-json', 'huge-event'];
    assert.equal((await gw.api('POST', '/api/providers', { name: 'broken', provider: 'openai-compatible', base_url: base, api_key: 'sk-broken-1234', models })).status, 201);
    teamId = (await gw.api('POST', '/api/teams', { name: 'broken' })).body.id;
    key = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'k' })).body.key;
  });
  after(async () => {
    await gw?.close();
    up?.closeAllConnections();
    up?.close();
  });

  async function streamed(model: string): Promise<{ text: string; error: APIError | undefined; ms: number }> {
    const t0 = performance.now();
    let text = '';
    let error: APIError | undefined;
    try {
      const s = await gw.openai(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 50 });
      for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
    } catch (err) {
      if (!(err instanceof APIError)) throw err;
      error = err;
    }
    return { text, error, ms: performance.now() - t0 };
  }

  async function lastLog(): Promise<any> {
    await gw.flush();
    return (await gw.api('GET', `/api/teams/${teamId}/logs?limit=1`)).body.data[0];
  }

  for (const [model, status, code] of [['reset-mid', 502, 'upstream_error'], ['no-done', 502, 'upstream_error'], ['hang-mid', 504, 'upstream_timeout']] as const) {
    test(`${model}: the client gets what was sent, then an error event; the log says ${status} with what was metered`, async () => {
      const r = await streamed(model);
      assert.equal(r.text, 'one two three ', 'the part that arrived was relayed');
      assert.ok(r.error, 'the SDK raised the error event instead of ending quietly');
      assert.equal((r.error.error as any)?.code ?? r.error.code, code);
      if (model === 'hang-mid') assert.ok(r.ms < FIRST_BYTE_MS * 5 + 1_000, `cut at the idle timeout (${r.ms.toFixed(0)} ms), not the whole-response timeout`);
      const log = await lastLog();
      assert.equal(log.status_code, status);
      assert.equal(log.error_code, code);
      assert.equal(log.tokens_out, 3, 'metered from the three content events seen');
      assert.equal(log.usage_estimated, true);
    });
  }

  test('a stream whose upstream never answers fails at the first-byte timeout with 504', async () => {
    const r = await streamed('hang-before');
    assert.equal(r.error?.status, 504);
    assert.ok(r.ms < FIRST_BYTE_MS * 5 + 1_000, `${r.ms.toFixed(0)} ms`);
    assert.equal((await lastLog()).error_code, 'upstream_timeout');
  });

  test('an answer larger than Tollgate buffers is cut: 502 (or an error event), never held in memory whole', async () => {
    const err = await gw.openai(key).chat.completions.create({ model: 'huge-json', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (e: APIError) => e);
    assert.equal(err?.status, 502);
    assert.equal((await lastLog()).error_code, 'upstream_too_large');
    const r = await streamed('huge-event');
    assert.equal(r.text, 'one ');
    assert.equal((r.error?.error as any)?.code ?? r.error?.code, 'upstream_error', 'an endless SSE event ends the stream with an error event');
    assert.equal((await lastLog()).status_code, 502);
  });

  test('a 200 whose body is not JSON is a 502, not relayed as a success', async () => {
    const err = await gw.openai(key).chat.completions.create({ model: 'bad-json', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (e: APIError) => e);
    assert.equal(err?.status, 502);
    const log = await lastLog();
    assert.equal(log.status_code, 502);
    assert.equal(log.error_code, 'upstream_malformed');
  });
});
