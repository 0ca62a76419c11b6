// Hostile /v1 input: malformed bodies are a 400 naming the field before admission and before any
// upstream call; the key is checked from the headers before the body is read (and before the
// content type); bodies past the /v1 limit are refused at once; an address that keeps failing
// authentication is throttled while good keys from it keep working.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway, type Gateway } from './support/gateway.ts';

/** Sends raw bytes and resolves with the first response's status line and body (or '' if closed first). */
function raw(url: string, head: string, body = ''): Promise<{ status: number; text: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let got = '';
    socket.on('data', (c) => {
      got += c.toString('utf8');
      const end = got.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(got)?.[1];
      if (end !== -1 && len !== undefined && got.length >= end + 4 + Number(len)) {
        socket.destroy();
        resolve({ status: Number(got.slice(9, 12)), text: got.slice(end + 4) });
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(got.slice(9, 12)) || 0, text: got.slice(got.indexOf('\r\n\r\n') + 4) }));
    socket.write(head + body);
  });
}

describe('behind a trusted proxy', () => {
  test('the client address is the one the proxy saw (right-most X-Forwarded-For), not one the client wrote', async () => {
    const gw = await startGateway({ env: { TOLLGATE_TRUST_PROXY: 'true', TOLLGATE_AUTH_FAILURES_PER_MINUTE: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        // The client forges a new address each time; the proxy appends the one it saw.
        const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer sk-tg-guess${i}`, 'content-type': 'application/json', 'x-forwarded-for': `10.0.0.${i}, 203.0.113.7` }, body: '{}' });
        statuses.push(r.status);
        await r.arrayBuffer();
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429], 'forged entries do not escape the throttle');
      const team = (await gw.api('POST', '/api/teams', { name: 'xff' })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body.key;
      await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6, 198.51.100.9' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }) }).then((r) => r.arrayBuffer());
      await gw.flush();
      const row = await gw.runtime.deps.db.kysely.selectFrom('request_logs').select('client_ip').where('team_id', '=', team.id).executeTakeFirstOrThrow();
      assert.equal(row.client_ip, '198.51.100.9', 'the logged address is the one the proxy saw');
    } finally {
      await gw.close();
    }
  });
});

describe('/v1 input', () => {
  let gw: Gateway;
  let key: string;
  let teamId: number;
  before(async () => {
    gw = await startGateway({ env: { TOLLGATE_V1_BODY_LIMIT_BYTES: String(64 * 1024), TOLLGATE_AUTH_FAILURES_PER_MINUTE: '5' } });
    teamId = (await gw.api('POST', '/api/teams', { name: 'input' })).body.id;
    key = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'k' })).body.key;
  });
  after(async () => {
    await gw?.close();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  test('malformed bodies are a 400 naming the field, before any upstream call or reservation', async () => {
    const deep = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
    const cases: Array<[string, string]> = [
      [JSON.stringify({ model: 'gpt-4o', messages: [null] }), 'messages[0]'],
      [JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: [null] }] }), 'messages[0].content[0]'],
      [JSON.stringify({ model: 'gpt-4o', messages: 'hi' }), 'messages'],
      [JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], n: 'lots' }), 'n'],
      [`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"metadata":${deep}}`, 'metadata'],
      [`{"model":"gpt-4o","messages":[{"role":"user","content":"hi","x":${deep}}]}`, 'messages[0].x'],
    ];
    const upstreamBefore = gw.fake.requests.length;
    for (const [body, param] of cases) {
      const r = await post(body);
      assert.equal(r.status, 400, body.slice(0, 80));
      assert.equal(r.body.error.code, 'invalid_request');
      assert.ok(r.body.error.param.startsWith(param), `param ${r.body.error.param.slice(0, 40)} names ${param}`);
    }
    assert.equal(gw.fake.requests.length, upstreamBefore, 'nothing reached the provider');
    await gw.flush();
    const logs = (await gw.api('GET', `/api/teams/${teamId}/logs?limit=50`)).body.data;
    assert.ok(logs.every((l: any) => l.status_code === 400), 'logged as the 400 the client got, never a 500 or 502');
  });

  test('the key is checked before the content type and before the body is read', async () => {
    const bad = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-tg-nope', 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(bad.status, 401, 'a bad key is 401 whatever the content type');
    const goodKeyWrongType = await post('x', { 'content-type': 'text/plain' });
    assert.equal(goodKeyWrongType.status, 400);
    assert.equal(goodKeyWrongType.body.error.param, 'content-type');

    // Headers announce 31 MiB and no body follows: the answer comes without waiting for it.
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${31 * 1024 * 1024}\r\n`;
    const unauthenticated = await raw(gw.url, head + '\r\n');
    assert.equal(unauthenticated.status, 401);
    assert.equal(JSON.parse(unauthenticated.text).error.code, 'missing_credentials');
    const tooLarge = await raw(gw.url, head + `authorization: Bearer ${key}\r\n\r\n`);
    assert.equal(tooLarge.status, 413, 'a body past the /v1 limit is refused from its declared length');
    assert.equal(JSON.parse(tooLarge.text).error.code, 'payload_too_large');
  });

  test('a request to a path with no route cannot make Tollgate buffer a large body', async () => {
    const head = `POST /api/nope HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${8 * 1024 * 1024}\r\n\r\n`;
    const r = await raw(gw.url, head);
    assert.equal(r.status, 413, 'refused from its declared length (the admin API takes 1 MiB at most)');
  });

  test('another method on a completion endpoint is a 405 naming the one allowed', async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
    assert.equal(((await r.json()) as any).error.code, 'method_not_allowed');
  });

  test('a body that grows past the limit without a declared length is cut off with 413', async () => {
    const chunked = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nauthorization: Bearer ${key}\r\n\r\n`;
    const piece = 'a'.repeat(32 * 1024);
    const body = Array.from({ length: 4 }, () => `${piece.length.toString(16)}\r\n${piece}\r\n`).join('');
    const r = await raw(gw.url, chunked, body);
    assert.equal(r.status, 413);
  });

  test('an address that keeps failing authentication is throttled; a warm good key from it still works', async () => {
    await post(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'warm' }] }));
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer sk-tg-guess${i}`, 'content-type': 'application/json' }, body: '{}' });
      statuses.push(r.status);
      if (r.status === 429) {
        assert.equal((await r.json() as any).error.code, 'too_many_auth_failures');
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
      } else await r.arrayBuffer();
    }
    assert.deepEqual(statuses.slice(0, 2), [401, 401]);
    assert.equal(statuses.at(-1), 429, `throttled after repeated failures: ${statuses.join(',')}`);
    const good = await post(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'still works' }] }));
    assert.equal(good.status, 200, 'a good key from the throttled address is still served');
    const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: 'Bearer sk-tg-another-guess' } });
    assert.equal(models.status, 429, '/v1 reads share the throttle');
    const admin = await gw.api('GET', '/api/teams', undefined, 'sk-tga-guess');
    assert.equal(admin.status, 429, 'so does the admin API');
    assert.equal(admin.body.error.code, 'too_many_auth_failures');
    assert.equal((await gw.api('GET', '/api/teams')).status, 200, 'the master key is never locked out');
  });
});
