// Grace rotation across two replicas (one PostgreSQL, one Redis): the old secret, warm in both
// replicas' caches, is refused by BOTH within a second of the end of its grace period, and within
// a second of an admin ending the period early on the other replica.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceSkip } from './support/services.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { clusterEnv, startReplica, type Replica } from './support/replicas.ts';

const ADMIN_KEY = `admin-${randomUUID()}`;
const UPSTREAM_KEY = 'sk-upstream-rotation-cluster';
const skip = serviceSkip('postgres') || serviceSkip('redis');
/** Printed at the end, for the record: how long after the end each replica still accepted. */
const figures: Record<string, unknown> = {};

async function status(r: Replica, secret: string): Promise<number> {
  try {
    await r.openai(secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    return 200;
  } catch (err) {
    return (err as { status: number }).status;
  }
}

/** Asks every 25 ms until `r` refuses `secret` (401), for at most `maxMs`; returns when (ms since epoch). */
async function refusedAt(r: Replica, secret: string, maxMs: number): Promise<number> {
  const stop = Date.now() + maxMs;
  while (Date.now() < stop) {
    const s = await status(r, secret);
    if (s === 401) return Date.now();
    assert.equal(s, 200, `${r.name}: only 200 until it is refused`);
    await sleep(25);
  }
  throw new Error(`${r.name} still accepts the old secret after ${maxMs} ms`);
}

describe('grace rotation on two replicas', { skip }, () => {
  let a: Replica;
  let b: Replica;
  let fake: FakeUpstream;

  before(async () => {
    fake = await startFakeUpstream({ requireAuth: UPSTREAM_KEY });
    const env = await clusterEnv(ADMIN_KEY, UPSTREAM_KEY, fake.baseUrl, { TOLLGATE_LOG_FLUSH_MS: '50' });
    [a, b] = await Promise.all([startReplica('a', env, ADMIN_KEY), startReplica('b', env, ADMIN_KEY)]);
  });

  after(async () => {
    console.log('rotation-cluster figures:', JSON.stringify(figures));
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
    assert.deepEqual(codes, [0, 0], `both replicas drained and exited cleanly:\n${a?.out()}\n${b?.out()}`);
  });

  test('the old secret is refused on both replicas within a second of the end of its grace period', async () => {
    const key = (await a.api('POST', '/api/keys', { name: 'cluster' })).body;
    // Warm on both: each has the secret cached as the key's current one.
    assert.deepEqual([await status(a, key.key), await status(b, key.key)], [200, 200]);
    const r = await a.api('POST', `/api/keys/${key.id}/rotate`, { grace_period_seconds: 3 });
    assert.equal(r.status, 201);
    const end = Date.parse(r.body.previous_secret.valid_until);
    // Both still take it (B reloaded it as an older secret after the invalidation), and the new one.
    assert.deepEqual([await status(a, key.key), await status(b, key.key), await status(b, r.body.key)], [200, 200, 200]);
    await sleep(Math.max(0, end - Date.now() - 500));
    const [ra, rb] = await Promise.all([refusedAt(a, key.key, 5_000), refusedAt(b, key.key, 5_000)]);
    figures.after_end_ms = { a: ra - end, b: rb - end };
    for (const [name, at] of [['a', ra], ['b', rb]] as const) assert.ok(at - end <= 1_000, `${name} refused ${at - end} ms after the end`);
    assert.deepEqual([await status(a, r.body.key), await status(b, r.body.key)], [200, 200], 'the new secret works on both');
  });

  test('an early end on one replica is refused by the other within a second', async () => {
    const key = (await a.api('POST', '/api/keys', { name: 'cluster-early' })).body;
    const r = await a.api('POST', `/api/keys/${key.id}/rotate`, { grace_period_seconds: 3600 });
    assert.equal(r.status, 201);
    assert.deepEqual([await status(a, key.key), await status(b, key.key)], [200, 200], 'warm on both, as an older secret');
    const t0 = Date.now();
    const ended = await a.api('DELETE', `/api/keys/${key.id}/secrets/${r.body.previous_secret.id}`);
    assert.equal(ended.status, 200);
    const [ra, rb] = await Promise.all([refusedAt(a, key.key, 5_000), refusedAt(b, key.key, 5_000)]);
    figures.after_early_end_ms = { a: ra - t0, b: rb - t0 };
    assert.ok(rb - t0 <= 1_000, `b refused ${rb - t0} ms after the early end`);
    assert.equal(await status(a, key.key), 401, 'on the replica that ended it: at once');
    assert.deepEqual([await status(a, r.body.key), await status(b, r.body.key)], [200, 200]);
    const secrets = (await b.api('GET', `/api/keys/${key.id}/secrets`)).body.data;
    assert.equal(secrets[1].status, 'ended');
  });
});
