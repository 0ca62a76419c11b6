// The SSE relay works on bytes: events split anywhere across chunks, CRLF framing and multi-byte
// characters cut in half must all reach the client intact, with the usage chunk read and dropped.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
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
