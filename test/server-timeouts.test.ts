// Slow clients cannot hold connections: headers must arrive within TOLLGATE_HEADERS_TIMEOUT_MS and
// the whole request within TOLLGATE_REQUEST_TIMEOUT_MS, else 408 (OpenAI's shape) and the
// connection is closed. Responses are not limited: a stream may outlast both.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, startGateway, type Gateway } from './support/gateway.ts';
import { rawHttp, type RawResponse } from './support/raw-http.ts';

const HEADERS_MS = 600;
const REQUEST_MS = 1200;
// A client that keeps dripping would hold the connection for this long without the timeouts.
const DRIP_MS = 500;
const BODY = JSON.stringify({ name: 'a team whose request arrives one byte at a time' });
// Bound on waiting for the server to close: the timeout, plus its sweep interval, plus slack —
// far below the time the dripping client needs to finish.
const WITHIN_MS = REQUEST_MS + 3000;

function assertTimedOut(res: RawResponse): void {
  assert.equal(res.status, 408, res.raw.slice(0, 300));
  const body = JSON.parse(res.body);
  assert.equal(body.error.code, 'request_timeout');
  assert.equal(body.error.type, 'invalid_request_error');
}

describe('server timeouts: slow headers, slow bodies, idle connections', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ env: { TOLLGATE_HEADERS_TIMEOUT_MS: String(HEADERS_MS), TOLLGATE_REQUEST_TIMEOUT_MS: String(REQUEST_MS) } });
  });
  after(() => gw?.close());

  test('a slow body on /api (headers, then a byte every 500 ms) is answered 408 and disconnected', async () => {
    const head = `POST /api/teams HTTP/1.1\r\nHost: t\r\nX-Admin-Key: ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n`;
    const res = await rawHttp(gw.url, head, { drip: { text: BODY, everyMs: DRIP_MS }, timeoutMs: WITHIN_MS });
    assertTimedOut(res);
    assert.ok(res.closedAfterMs >= REQUEST_MS * 0.9, `not before the request timeout (${res.closedAfterMs} ms)`);
    assert.equal((await gw.api('GET', '/api/teams')).body.data.length, 0, 'nothing was created');
  });

  test('a slow body on /v1 with a valid key is answered 408 and disconnected', async () => {
    const key = (await gw.api('POST', '/api/keys', { name: 'slow client' })).body.key;
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one byte at a time' }] });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const before = gw.fake.requests.length;
    const res = await rawHttp(gw.url, head, { drip: { text: body, everyMs: DRIP_MS }, timeoutMs: WITHIN_MS });
    assertTimedOut(res);
    assert.equal(gw.fake.requests.length, before, 'nothing was sent upstream');
  });

  test('slow headers (a byte every 100 ms) are answered 408 and disconnected', async () => {
    const headers = `GET /api/teams HTTP/1.1\r\nHost: t\r\nX-Admin-Key: ${ADMIN_KEY}\r\nX-Padding: ${'p'.repeat(100)}\r\n\r\n`;
    const res = await rawHttp(gw.url, '', { drip: { text: headers, everyMs: 100 }, timeoutMs: HEADERS_MS + 3000 });
    assertTimedOut(res);
  });

  test('a connection that sends nothing is closed after the header timeout', async () => {
    const res = await rawHttp(gw.url, '', { timeoutMs: HEADERS_MS + 3000 });
    assertTimedOut(res);
  });

  test('a streamed response longer than both timeouts is not cut', async () => {
    const key = (await gw.api('POST', '/api/keys', { name: 'long stream' })).body.key;
    gw.fake.options.chunkDelayMs = 200;
    try {
      const started = performance.now();
      const stream = await gw.openai(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'tell me a story that takes a while to tell' }], stream: true });
      let text = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      const took = performance.now() - started;
      assert.ok(took > REQUEST_MS * 1.5, `the stream outlasted the request timeout (${Math.round(took)} ms)`);
      assert.equal(finish, 'stop');
      assert.ok(text.length > 0);
    } finally {
      gw.fake.options.chunkDelayMs = 0;
    }
  });
});
