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
import { counterKey, DEFAULT_SHARD } from '../src/policy/redis-keys.ts';
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

  test('redis: operations issued in one turn go as ONE script call and give the outcomes of running them one by one', async () => {
    // The store's own connection, counting the script calls it sends.
    const { conn, calls: scriptCalls } = await countingConnection();
    // Every settlement in the turn it is made, and a refusal given at once, as the memory store does.
    const redis = new RedisCounterStore(conn, { prefix, settleDelayMs: 0 });
    const memory = new MemoryCounterStore();
    const evalCalls = async () => scriptCalls.n;
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const id = randomUUID();
    const rpm: WindowSpec = { key: `t:${id}:rpm`, windowMs: 60_000, bucketMs: 1000, limit: 15, cost: 1 };
    const tpm: WindowSpec = { key: `t:${id}:tpm`, windowMs: 60_000, bucketMs: 1000, limit: 20_000, cost: 0 };
    const budget = { key: `t:${id}:bg`, limitMicro: 20_000, reserveMicro: 0, hard: true, ttlMs: 3_600_000 };
    for (const s of [redis, memory]) await s.initBudget(budget.key, 0, budget.ttlMs, T0);
    const template = {};
    const plan = (now: number, step: number, tokens: number): AdmitPlan => ({
      now, template, windows: [rpm, { ...tpm, cost: tokens }],
      slots: [{ key: `t:${id}:cc`, limit: 5, leaseId: `l${step}`, ttlMs: 60_000 }],
      budgets: [{ ...budget, reserveMicro: tokens * 4 }],
    });
    try {
      let now = T0;
      let open: Array<{ step: number; tokens: number; now: number }> = [];
      let calls = 0;
      const kinds = new Set<string>();
      for (let turn = 0; turn < 12; turn++) {
        now += 2500;
        // One turn: settle some of what is open, then admit a burst — all issued without awaiting.
        const settling = open.filter(() => rand(2) === 0);
        open = open.filter((o) => !settling.includes(o));
        const specs = settling.map((o) => ({
          windows: [{ key: tpm.key, bucket: Math.floor(o.now / 1000), bucketMs: 1000, windowMs: 60_000, delta: -Math.floor(o.tokens / 2) }],
          slots: [{ key: `t:${id}:cc`, leaseId: `l${o.step}` }],
          budgets: [{ key: budget.key, reservedMicro: o.tokens * 4, actualMicro: o.tokens, ttlMs: budget.ttlMs }],
        }));
        const burst = Array.from({ length: 3 + rand(8) }, (_, i) => ({ step: turn * 100 + i, tokens: 200 + rand(2000), now }));
        const before = await evalCalls();
        const settled = specs.map((spec) => redis.settle(spec));
        const outcomes = await Promise.all(burst.map((b) => redis.admit(plan(b.now, b.step, b.tokens))));
        await Promise.all(settled);
        calls += (await evalCalls()) - before;
        // The memory store, one by one in the batch's order: settlements, then admissions.
        for (const spec of specs) memory.settle(spec);
        const expected = [];
        for (const b of burst) expected.push(await memory.admit(plan(b.now, b.step, b.tokens)));
        assert.deepEqual(outcomes, expected, `turn ${turn}`);
        burst.forEach((b, i) => {
          const o = outcomes[i]!;
          kinds.add(o.ok ? 'ok' : o.kind);
          if (o.ok) open.push(b);
        });
      }
      assert.equal(calls, 12, 'one script call per turn, whatever the number of operations in it');
      for (const k of ['ok', 'window', 'slot', 'budget']) assert.ok(kinds.has(k), `the run exercised ${k}: ${[...kinds]}`);
    } finally {
      await redis.close();
    }
  });

  test('redis: one call carries several organizations\' operations, each on its own hash-tagged keys and ledger', async () => {
    const { conn, calls } = await countingConnection();
    const redis = new RedisCounterStore(conn, { prefix });
    const id = randomUUID();
    const plan = (shard: string, lease: string): AdmitPlan => ({
      now: T0, shard, windows: [{ key: `t:${id}:rpm`, windowMs: 60_000, bucketMs: 1000, limit: 2, cost: 1 }],
      slots: [{ key: `t:${id}:cc`, limit: 5, leaseId: lease, ttlMs: 60_000 }], budgets: [],
    });
    try {
      await redis.admit(plan('o1', 'warm')); // the script is loaded; counts start now
      calls.n = 0;
      const outcomes = await Promise.all([plan('o1', 'a'), plan('o2', 'b'), plan('o2', 'c'), plan('o2', 'd')].map((p) => redis.admit(p)));
      assert.equal(calls.n, 1, 'one script call for both organizations');
      assert.deepEqual(outcomes.map((o) => o.ok || o.kind), [true, true, true, 'window'], 'each organization has its own window of 2');
      const ledger = (shard: string) => conn.hgetall(`${prefix}{${shard}}:rep:${redis.instance}`);
      assert.deepEqual(await ledger('o1'), { [`s:${prefix}{o1}:t:${id}:cc`]: '2' });
      assert.deepEqual(await ledger('o2'), { [`s:${prefix}{o2}:t:${id}:cc`]: '2' });
    } finally {
      await redis.close();
    }
  });

  test('redis: a settlement within its reservation rides with the next admission, or goes alone after the delay; one beyond it is sent at once and waited for', async () => {
    const { conn, calls } = await countingConnection();
    // A delay no test run reaches: nothing but an admission (or close()) sends what waits.
    const redis = new RedisCounterStore(conn, { prefix, settleDelayMs: 60_000 });
    const id = randomUUID();
    const budget = { key: `t:${id}:bg`, limitMicro: 10_000, hard: true, ttlMs: 3_600_000 };
    await redis.initBudget(budget.key, 0, budget.ttlMs);
    const plan = (lease: string, reserveMicro: number): AdmitPlan => ({
      now: Date.now(), windows: [], slots: [{ key: `t:${id}:cc`, limit: 1, leaseId: lease, ttlMs: 60_000 }], budgets: [{ ...budget, reserveMicro }],
    });
    const settle = (lease: string, reservedMicro: number, actualMicro: number) => ({
      windows: [], slots: [{ key: `t:${id}:cc`, leaseId: lease }], budgets: [{ key: budget.key, reservedMicro, actualMicro, ttlMs: budget.ttlMs }],
    });
    const raw = async () => ({ inFlight: await conn.zcard(counterKey(prefix, DEFAULT_SHARD, `t:${id}:cc`)), ...(await conn.hgetall(counterKey(prefix, DEFAULT_SHARD, `t:${id}:bg`))) });
    const lone = new RedisCounterStore(openRedis({ url: testRedisUrl()!, timeoutMs: 2000 }, { batched: true }), { prefix, settleDelayMs: 20 });
    try {
      assert.equal((await redis.admit(plan('a', 3000))).ok, true);
      calls.n = 0;
      assert.equal(redis.settle(settle('a', 3000, 1000)), undefined, 'within its reservation: nobody waits');
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(calls.n, 0, 'not sent on its own');
      assert.deepEqual(await raw(), { inFlight: 1, spent: '0', reserved: '3000' }, 'until it is applied, Redis holds the whole reservation and the lease');
      const next = await redis.admit(plan('b', 3000));
      assert.equal(next.ok, true, 'the slot of 1 admits: the settlement went first in the same call');
      assert.equal(calls.n, 1, 'one script call for the settlement and the admission');
      assert.deepEqual(await raw(), { inFlight: 1, spent: '1000', reserved: '3000' });

      calls.n = 0;
      const beyond = redis.settle(settle('b', 3000, 3500));
      assert.ok(beyond instanceof Promise, 'beyond its reservation: the answer waits for it');
      await beyond;
      assert.equal(calls.n, 1, 'sent in the turn it was made');
      assert.deepEqual(await raw(), { inFlight: 0, spent: '4500', reserved: '0' });

      // Another replica's store with a short delay: its settlement goes alone, no admission needed.
      assert.equal((await lone.admit(plan('c', 500))).ok, true);
      lone.settle(settle('c', 500, 200));
      const deadline = Date.now() + 5000;
      let state = await raw();
      while (state.inFlight !== 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
        state = await raw();
      }
      assert.deepEqual(state, { inFlight: 0, spent: '4700', reserved: '0' }, 'applied after the delay with no admission to ride with');
    } finally {
      await redis.close();
      await lone.close();
    }
  });

  test('redis: a client keeping exactly its concurrency limit across two replicas is not refused by the lease its last request left waiting on the other', async () => {
    const connect = async () => {
      const conn = openRedis({ url: testRedisUrl()!, timeoutMs: 2000 }, { batched: true });
      await waitReady(conn, 5000);
      return conn;
    };
    // A sends its settlements within 20 ms; B asks a slot refusal again after 400 ms.
    const a = new RedisCounterStore(await connect(), { prefix, settleDelayMs: 20 });
    const b = new RedisCounterStore(await connect(), { prefix, settleDelayMs: 200 });
    const id = randomUUID();
    const plan = (lease: string): AdmitPlan => ({ now: Date.now(), windows: [], slots: [{ key: `t:${id}:cc`, limit: 1, leaseId: lease, ttlMs: 60_000 }], budgets: [] });
    try {
      assert.equal((await a.admit(plan('1'))).ok, true);
      assert.equal(a.settle({ windows: [], slots: [{ key: `t:${id}:cc`, leaseId: '1' }], budgets: [] }), undefined, 'the answer on A ends; its lease waits to be released');
      const started = Date.now();
      const next = await b.admit(plan('2'));
      assert.equal(next.ok, true, 'the next request, on B, is admitted once A has sent the release');
      assert.ok(Date.now() - started >= 300, 'after asking again');
      const third = await b.admit(plan('3'));
      assert.deepEqual(third.ok === false && third.kind === 'slot' && third.inFlight, 1, 'a slot really in use is still refused (after asking again)');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/** A counter-store connection that counts the script calls (EVALSHA, and EVAL on NOSCRIPT) it sends. */
async function countingConnection() {
  const conn = openRedis({ url: testRedisUrl()!, timeoutMs: 2000 }, { batched: true });
  await waitReady(conn, 5000);
  const calls = { n: 0 };
  for (const name of ['evalsha', 'eval'] as const) {
    const original = conn[name].bind(conn) as (...args: unknown[]) => Promise<unknown>;
    (conn as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls.n++;
      return original(...args);
    };
  }
  return { conn, calls };
}
