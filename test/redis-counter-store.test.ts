// The counter-store contract against Redis (the run's shared server, under a prefix of its own),
// plus what only Redis has: script cache loss, an unreachable server, parity with the memory store.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { counterStoreContract } from './support/counter-store-contract.ts';
import { RedisCounterStore } from '../src/policy/redis-store.ts';
import { MemoryCounterStore } from '../src/policy/memory-store.ts';
import type { AdmitPlan, WindowSpec } from '../src/policy/counter-store.ts';
import { openRedis, waitReady } from '../src/redis.ts';
import { freePort, serviceSkip, testRedisUrl } from './support/services.ts';

const prefix = `tg-test:${randomUUID()}:`;
const T0 = Date.parse('2026-03-28T12:00:00.000Z');

async function store(url = testRedisUrl()!, timeoutMs = 2000): Promise<RedisCounterStore> {
  const redis = openRedis({ url, timeoutMs });
  await waitReady(redis, 5000);
  return new RedisCounterStore(redis, { prefix });
}

describe('RedisCounterStore', { skip: serviceSkip('redis') }, () => {
  counterStoreContract('redis', () => store());

  test('redis: keeps working after Redis forgets its scripts (EVALSHA → EVAL fallback)', async () => {
    const s = await store();
    const flusher = openRedis({ url: testRedisUrl()!, timeoutMs: 2000 });
    await waitReady(flusher, 5000);
    try {
      const w: WindowSpec = { key: `t:${randomUUID()}:rpm`, windowMs: 60_000, bucketMs: 1000, limit: 2, cost: 1 };
      const plan: AdmitPlan = { now: T0, windows: [w], slots: [], budgets: [] };
      assert.ok((await s.admit(plan)).ok);
      await flusher.script('FLUSH');
      assert.ok((await s.admit(plan)).ok);
      assert.equal((await s.admit(plan)).ok, false);
    } finally {
      flusher.disconnect();
      await s.close();
    }
  });

  test('redis: an unreachable server fails admit fast instead of hanging', async () => {
    const s = await store(`redis://127.0.0.1:${await freePort()}`, 300);
    try {
      const started = performance.now();
      await assert.rejects(s.admit({ now: T0, windows: [{ key: 'x', windowMs: 60_000, bucketMs: 1000, limit: 1, cost: 1 }], slots: [], budgets: [] }));
      assert.ok(performance.now() - started < 1000, 'rejected within the command timeout');
      assert.equal(await s.ping(), false);
    } finally {
      await s.close();
    }
  });

  test('redis: random admissions and settlements give exactly the memory store\'s outcomes', async () => {
    const redis = await store();
    const memory = new MemoryCounterStore();
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const id = randomUUID();
    const windows: WindowSpec[] = [
      { key: `t:${id}:rpm`, windowMs: 60_000, bucketMs: 1000, limit: 7, cost: 1 },
      { key: `t:${id}:tpm`, windowMs: 60_000, bucketMs: 1000, limit: 5000, cost: 0 },
    ];
    const budget = { key: `t:${id}:bg`, limitMicro: 50_000, reserveMicro: 0, hard: true, ttlMs: 3_600_000 };
    for (const s of [redis, memory]) await s.initBudget(budget.key, 1000, budget.ttlMs, T0);
    let now = T0;
    const kinds = new Map<string, number>();
    try {
      for (let step = 0; step < 300; step++) {
        now += rand(4000);
        const tokens = 100 + rand(900);
        const plan: AdmitPlan = {
          now,
          windows: [windows[0]!, { ...windows[1]!, cost: tokens }],
          slots: [{ key: `t:${id}:cc`, limit: 3, leaseId: `l${step}`, ttlMs: 10_000 }],
          budgets: [{ ...budget, reserveMicro: tokens * 3 }],
        };
        const [a, b] = [await redis.admit(plan), await memory.admit(plan)];
        assert.deepEqual(a, b, `step ${step}`);
        const kind = a.ok ? 'ok' : a.kind;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        if (a.ok && rand(3) > 0) {
          const actual = rand(tokens);
          const spec = {
            windows: [{ key: windows[1]!.key, bucket: Math.floor(now / 1000), bucketMs: 1000, windowMs: 60_000, delta: actual - tokens }],
            slots: [{ key: `t:${id}:cc`, leaseId: `l${step}` }],
            budgets: [{ key: budget.key, reservedMicro: tokens * 3, actualMicro: actual * 2, ttlMs: budget.ttlMs }],
          };
          await redis.settle(spec);
          await memory.settle(spec);
        }
        const peek = (s: RedisCounterStore | MemoryCounterStore) => s.peek(windows, [`t:${id}:cc`], [budget.key], now);
        assert.deepEqual(await peek(redis), await peek(memory), `peek after step ${step}`);
      }
      for (const k of ['ok', 'window', 'slot', 'budget']) assert.ok(kinds.get(k), `the run exercised ${k} outcomes: ${JSON.stringify([...kinds])}`);
    } finally {
      await redis.close();
    }
  });
});
