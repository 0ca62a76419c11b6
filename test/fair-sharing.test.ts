// One tenant cannot starve another: upstream connections are pooled per provider credential (so
// per organization), and a client that stops reading a stream is disconnected after
// TOLLGATE_CLIENT_STALL_MS, its upstream request cancelled, and the request metered and logged.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startGateway, type Gateway } from './support/gateway.ts';

const CONNECTIONS = 4;
const STALL_MS = 2_000;

/** An OpenAI-shaped stream that never ends on its own: chunks as fast as the reader takes them. */
function firehose(): { server: Server; open: Set<Socket> } {
  const open = new Set<Socket>();
  const chunk = `data: {"id":"f","object":"chat.completion.chunk","created":1,"model":"firehose","choices":[{"index":0,"delta":{"content":"${'x'.repeat(4000)}"},"finish_reason":null}]}\n\n`;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      while (!res.destroyed) {
        if (!res.write(chunk)) {
          await new Promise<void>((r) => {
            const done = () => {
              res.off('drain', done).off('close', done);
              r();
            };
            res.on('drain', done).on('close', done);
          });
        }
      }
    });
  });
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  return { server, open };
}

/**
 * Opens a stream and reads nothing: the socket's buffers fill, and Tollgate must not wait forever.
 * A paused socket cannot see its peer hang up, so `ended()` resumes reading and resolves once the
 * stream has ended (it never would if Tollgate were still relaying the endless upstream).
 */
function stalledStream(url: string, key: string, model: string): { ended(): Promise<void> } {
  let socket: Socket | undefined;
  let response: IncomingMessage | undefined;
  let gone = false;
  const req = request(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
    res.pause();
    response = res;
    socket = res.socket;
    socket.pause();
  });
  req.on('error', () => (gone = true));
  req.end(JSON.stringify({ model, messages: [{ role: 'user', content: 'go' }], stream: true }));
  return {
    ended: () => new Promise<void>((resolve) => {
      if (gone || !socket || socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      response?.on('data', () => {}).on('error', () => {}).resume();
      socket.resume();
    }),
  };
}

describe('fair sharing of upstream capacity', () => {
  let gw: Gateway;
  let hose: ReturnType<typeof firehose>;
  let base: string;
  before(async () => {
    hose = firehose();
    await new Promise<void>((r) => hose.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(hose.server.address() as AddressInfo).port}/v1`;
    gw = await startGateway({ env: { TOLLGATE_UPSTREAM_CONNECTIONS: String(CONNECTIONS), TOLLGATE_CLIENT_STALL_MS: String(STALL_MS), TOLLGATE_ABORT_DRAIN_MS: '100', TOLLGATE_ORG_MAX_PARALLEL: String(CONNECTIONS * 2) } });
  });
  after(async () => {
    await gw?.close();
    hose?.server.closeAllConnections();
    hose?.server.close();
  });

  test('an organization holding every connection of its pool with stalled streams does not delay another organization on the same upstream', async () => {
    // Organization A and organization B each register their own credential for the same origin.
    assert.equal((await gw.api('POST', '/api/providers', { name: 'hose-a', provider: 'openai-compatible', base_url: base, api_key: 'sk-hose-a-1234', models: ['firehose'] })).status, 201);
    const teamA = (await gw.api('POST', '/api/teams', { name: 'A' })).body;
    const keyA = (await gw.api('POST', `/api/teams/${teamA.id}/keys`, { name: 'a' })).body.key;
    const orgB = (await gw.api('POST', '/api/orgs', { name: 'Org B' })).body;
    assert.equal((await gw.api('POST', '/api/providers', { name: 'hose-b', provider: 'openai-compatible', base_url: base, api_key: 'sk-hose-b-1234', models: ['firehose'] }, orgB.admin_key)).status, 201);
    const teamB = (await gw.api('POST', '/api/teams', { name: 'B' }, orgB.admin_key)).body;
    const keyB = (await gw.api('POST', `/api/teams/${teamB.id}/keys`, { name: 'b' }, orgB.admin_key)).body.key;

    // A opens twice as many never-read streams as its pool has connections.
    const stalls = Array.from({ length: CONNECTIONS * 2 }, () => stalledStream(gw.url, keyA, 'firehose'));
    const deadline = Date.now() + 5_000;
    while (hose.open.size < CONNECTIONS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(hose.open.size, CONNECTIONS, 'A holds exactly its own pool');

    // B's request is served on B's own connections while A's are all held.
    const t0 = performance.now();
    const first = await firstEvent(gw.url, keyB, 'firehose');
    const tookMs = performance.now() - t0;
    assert.equal(first.status, 200);
    assert.ok(tookMs < STALL_MS, `B was served while A held its whole pool, not after A's streams were cut (${tookMs.toFixed(0)} ms)`);

    // A is at its organization's in-flight ceiling on this replica: one more is refused at once.
    const more = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'firehose', messages: [{ role: 'user', content: 'go' }], stream: true }) });
    const refusal = (await more.json()) as any;
    assert.equal(more.status, 429);
    assert.deepEqual([refusal.error.code, refusal.error.level, refusal.error.limit], ['concurrency_limit_exceeded', 'org', CONNECTIONS * 2]);

    // The stalled clients are disconnected (A's queued streams get their turn, and stall too); every
    // upstream request is cancelled, and each client's stream has ended once it reads again.
    const drained = Date.now() + STALL_MS * 2 + 10_000;
    while (hose.open.size > 0 && Date.now() < drained) await new Promise((r) => setTimeout(r, 50));
    assert.equal(hose.open.size, 0, 'every upstream request was cancelled');
    await Promise.all(stalls.map((s) => s.ended()));

    // Each was metered and logged as a stalled client, and no slot or reservation is left behind.
    await gw.flush();
    const logs = (await gw.api('GET', `/api/teams/${teamA.id}/logs?limit=100`)).body.data;
    assert.equal(logs.filter((l: any) => l.error_code === 'client_stalled').length, CONNECTIONS * 2);
    for (const l of logs.filter((l: any) => l.status_code === 200)) {
      assert.equal(l.error_code, 'client_stalled');
      assert.ok(l.tokens_out > 0 && l.usage_estimated, 'metered from what was relayed');
    }
    assert.equal(gw.runtime.deps.orgSlots.held(gw.runtime.deps.defaultOrgId), 0, 'every in-flight slot was released');
  });
});

/** Status and the first bytes of a stream, then hangs up. */
function firstEvent(url: string, key: string, model: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      res.once('data', () => {
        resolve({ status: res.statusCode! });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ model, messages: [{ role: 'user', content: 'go' }], stream: true }));
  });
}
