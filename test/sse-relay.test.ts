// The SSE relay works on bytes: events split anywhere across chunks, CRLF framing and multi-byte
// characters cut in half must all reach the client intact, with the usage chunk read and dropped.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type Gateway } from './support/gateway.ts';

const events = (eol: string) => {
  const chunk = (content: string) => `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${content}"}}]}${eol}${eol}`;
  return [
    `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}${eol}${eol}`,
    chunk('héllo '), chunk('wörld '), chunk('日本 '), chunk('🙂'),
    `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}${eol}${eol}`,
    `data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":4,"total_tokens":11}}${eol}${eol}`,
    `data: [DONE]${eol}${eol}`,
  ].join('');
};

describe('SSE relay on bytes', () => {
  let gw: Gateway;
  let upstream: Server;
  let mode = { eol: '\n', cut: 7 };
  before(async () => {
    // Writes the stream in pieces of `cut` bytes, so events, the usage chunk and UTF-8 sequences split anywhere.
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const bytes = Buffer.from(events(mode.eol));
        for (let i = 0; i < bytes.length; i += mode.cut) {
          res.write(bytes.subarray(i, i + mode.cut));
          await new Promise((r) => setImmediate(r));
        }
        res.end();
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    gw = await startGateway();
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    assert.equal((await gw.api('POST', '/api/providers', { name: 'choppy', provider: 'openai-compatible', base_url: base, api_key: 'sk-choppy-1234', models: ['choppy'] })).status, 201);
  });
  after(async () => {
    await gw?.close();
    upstream?.close();
  });

  for (const [eol, cut] of [['\n', 7], ['\n', 1], ['\n', 64], ['\r\n', 5], ['\r\n', 1000]] as const) {
    test(`events cut every ${cut} bytes with ${eol === '\n' ? 'LF' : 'CRLF'} framing`, async () => {
      mode = { eol, cut };
      const team = (await gw.api('POST', '/api/teams', { name: `choppy ${cut} ${eol.length}` })).body;
      const client = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body.key);
      const stream = await client.chat.completions.create({ model: 'choppy', messages: [{ role: 'user', content: 'hi' }], stream: true });
      let text = '';
      let chunks = 0;
      for await (const c of stream) {
        chunks++;
        assert.ok(c.choices.length > 0, 'the usage chunk the client did not ask for is dropped');
        text += c.choices[0]?.delta?.content ?? '';
      }
      assert.equal(text, 'héllo wörld 日本 🙂', 'multi-byte characters split across chunks arrive intact');
      assert.equal(chunks, 6);
      await gw.flush();
      const log = (await gw.api('GET', `/api/teams/${team.id}/logs?limit=1`)).body.data[0];
      assert.deepEqual([log.tokens_in, log.tokens_out, log.usage_estimated], [7, 4, false], 'usage read from the split usage chunk');
    });
  }
});

describe('SSE relay backpressure', () => {
  test('a client that stops reading pauses the upstream; everything arrives once it reads again', async () => {
    const EVENTS = 8000;
    const event = (i: number) => `data: {"id":"f","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${String(i).padStart(6, '0')}${'x'.repeat(4000)}"}}]}\n\n`;
    const total = Array.from({ length: 3 }, (_, i) => event(i).length)[0]! * EVENTS;
    let written = 0;
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let i = 0; i < EVENTS; i++) {
          const chunk = event(i);
          written += chunk.length;
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        }
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const gw = await startGateway();
    try {
      const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
      assert.equal((await gw.api('POST', '/api/providers', { name: 'firehose', provider: 'openai-compatible', base_url: base, api_key: 'sk-firehose-1234', models: ['firehose'] })).status, 201);
      const team = (await gw.api('POST', '/api/teams', { name: 'slow reader' })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body.key;
      const received = await new Promise<{ bytes: number; writtenWhilePaused: number; events: number }>((resolve, reject) => {
        const req = request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
          let bytes = 0;
          let text = '';
          let writtenWhilePaused = 0;
          res.once('data', () => {
            res.pause();
            setTimeout(() => {
              writtenWhilePaused = written;
              res.resume();
            }, 600);
          });
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            text += c.toString('latin1');
          });
          res.on('end', () => resolve({ bytes, writtenWhilePaused, events: (text.match(/"content":"\d{6}/g) ?? []).length }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(JSON.stringify({ model: 'firehose', messages: [{ role: 'user', content: 'go' }], stream: true }));
      });
      assert.ok(received.writtenWhilePaused < total * 0.6, `the upstream waited for the slow client: ${received.writtenWhilePaused} of ${total} bytes written while it did not read`);
      assert.equal(received.events, EVENTS, 'every event arrived, in full, after the client read again');
      assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), [], 'pausing and resuming does not pile up listeners');
    } finally {
      process.off('warning', onWarning);
      await gw.close();
      upstream.close();
    }
  });
});
