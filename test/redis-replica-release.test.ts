// Cluster mode: a replica that dies without settling (SIGKILL, a lost machine) must not keep its
// concurrency leases forever, nor leave its reservations unaccounted. Each replica's ledger in Redis
// records what it holds; the others release it once its heartbeat stops: its leases are freed and
// its reservations charged as spend (src/policy/replica-ledger.ts). A settlement within its
// reservation is applied later, with the next admissions (src/policy/redis-store.ts).
// Against the run's real Redis, under a prefix of its own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisCounterStore, type RedisCounterStoreOptions } from '../src/policy/redis-store.ts';
import type { AdmitPlan, SettleSpec } from '../src/policy/counter-store.ts';
import { openRedis, waitReady } from '../src/redis.ts';
import { counterKey, DEFAULT_SHARD, ledgerKey } from '../src/policy/redis-keys.ts';
import { serviceSkip, testRedisUrl } from './support/services.ts';

const HEARTBEAT_MS = 100;

describe('replica ledger: a dead replica\'s leases are released and its reservations charged', { skip: serviceSkip('redis') }, () => {
  const prefix = `tg-test:${randomUUID()}:`;
  const opened: RedisCounterStore[] = [];
  const errors: unknown[] = [];

  async function store(opts: Omit<RedisCounterStoreOptions, 'prefix'> = {}): Promise<RedisCounterStore> {
    const redis = openRedis({ url: testRedisUrl()!, timeoutMs: 2000 });
    await waitReady(redis, 5000);
    const s = new RedisCounterStore(redis, { prefix, ...opts });
    opened.push(s);
    return s;
  }
  /** A replica that beats and sweeps every HEARTBEAT_MS (or `heartbeatMs`). */
  const replica = (heartbeatMs = HEARTBEAT_MS, onError = (err: unknown) => void errors.push(err)) => store({ ledger: { heartbeatMs, onError } });

  /** A slot of `slotLimit` and a hard budget, both fresh. */
  async function counters(store: RedisCounterStore, slotLimit: number, limitMicro = 10_000) {
    const id = randomUUID();
    const budget = { key: `t:${id}:bg`, limitMicro, hard: true, ttlMs: 3_600_000 };
    await store.initBudget(budget.key, 0, budget.ttlMs);
    const plan = (leaseId: string, reserveMicro: number): AdmitPlan => ({
      now: Date.now(), windows: [], slots: [{ key: `t:${id}:cc`, limit: slotLimit, leaseId, ttlMs: 600_000 }], budgets: [{ ...budget, reserveMicro }],
    });
    const settle = (leaseId: string, reservedMicro: number, actualMicro: number): SettleSpec => ({
      windows: [], slots: [{ key: `t:${id}:cc`, leaseId }], budgets: [{ key: budget.key, reservedMicro, actualMicro, ttlMs: budget.ttlMs }],
    });
    const peek = async (s: RedisCounterStore) => {
      const p = await s.peek([], [`t:${id}:cc`], [budget.key], Date.now());
      return { inFlight: p.slots[0], ...p.budgets[0] };
    };
    return { plan, settle, peek, slotKey: `t:${id}:cc` };
  }

  /** Simulates `kill -9` of the replica behind a store: its connection drops, nothing is settled or released. */
  function crash(s: RedisCounterStore): void {
    (s as unknown as { redis: { disconnect(): void } }).redis.disconnect();
  }

  /** Another process's instance that was registered and then stopped beating: its alive key is gone. */
  async function registerSilent(s: RedisCounterStore): Promise<void> {
    const r = openRedis({ url: testRedisUrl()!, timeoutMs: 2000 });
    await waitReady(r, 5000);
    await r.sadd(prefix + 'replicas', s.instance);
    r.disconnect();
  }

  test('A admits and is killed; B, beating, releases A\'s lease and charges its reservation within a few heartbeats; B\'s own are kept', async (t) => {
    t.after(() => Promise.all(opened.splice(0).map((s) => s.close())));
    const a = await replica(HEARTBEAT_MS, () => {}); // its beats fail once it is "killed"
    const b = await replica();
    const c = await counters(a, 2);
    assert.equal((await a.admit(c.plan('a1', 6000))).ok, true);
    assert.equal((await b.admit(c.plan('b1', 3000))).ok, true);
    const refused = await b.admit(c.plan('b2', 100));
    assert.equal(refused.ok === false && refused.kind, 'slot', 'both slots are held');
    crash(a);
    const deadline = Date.now() + 50 * HEARTBEAT_MS;
    let state = await c.peek(b);
    while ((state.inFlight !== 1 || state.reservedMicro !== 3000) && Date.now() < deadline) {
      await sleep(HEARTBEAT_MS / 2);
      state = await c.peek(b);
    }
    assert.deepEqual(state, { inFlight: 1, spentMicro: 6000, reservedMicro: 3000 }, 'A\'s lease released and its 6000 µ$ reservation charged; B\'s kept');
    assert.equal((await b.admit(c.plan('b2', 100))).ok, true, 'the released slot admits again');
    b.settle(c.settle('b1', 3000, 2500));
    b.settle(c.settle('b2', 100, 0));
    await sleep(50);
    assert.deepEqual(await c.peek(b), { inFlight: 0, spentMicro: 8500, reservedMicro: 0 });
  });

  test('a settle arriving after its replica was released charges nothing twice and never takes another replica\'s reservation', async (t) => {
    t.after(() => Promise.all(opened.splice(0).map((s) => s.close())));
    const a = await store(); // a replica paused past its heartbeats: registered, alive key expired
    const b = await replica(60_000);
    const c = await counters(a, 5);
    assert.equal((await a.admit(c.plan('a1', 6000))).ok, true);
    assert.equal((await a.admit(c.plan('a2', 1000))).ok, true);
    assert.equal((await b.admit(c.plan('b1', 3000))).ok, true);
    await registerSilent(a);
    assert.deepEqual(await b.ledger!.sweep(), [a.instance]);
    assert.deepEqual(await c.peek(b), { inFlight: 1, spentMicro: 7000, reservedMicro: 3000 }, 'A\'s two reservations charged');
    assert.equal(a.settle(c.settle('a1', 6000, 4000)), undefined, 'within its reservation: nobody waits for it');
    await a.settle(c.settle('a2', 1000, 1500));
    assert.deepEqual(await c.peek(b), { inFlight: 1, spentMicro: 7500, reservedMicro: 3000 }, 'a1 adds nothing (its 4000 µ$ were in the 6000 charged), a2 only its 500 µ$ beyond its reservation; B\'s reservation is intact');
    b.settle(c.settle('b1', 3000, 1000));
    assert.deepEqual(await c.peek(b), { inFlight: 0, spentMicro: 8500, reservedMicro: 0 });
  });

  test('two replicas sweeping at once release a dead one exactly once', async (t) => {
    t.after(() => Promise.all(opened.splice(0).map((s) => s.close())));
    const dead = await store();
    const live = await store();
    const released: Array<[string, number, number]> = [];
    const sweeper = () => store({ ledger: { heartbeatMs: 60_000, onError: (err) => errors.push(err), onReleased: (i, n, charged) => released.push([i, n, charged]) } });
    const [b, d] = [await sweeper(), await sweeper()];
    const c = await counters(dead, 5);
    assert.equal((await dead.admit(c.plan('x1', 6000))).ok, true);
    assert.equal((await dead.admit(c.plan('x2', 1000))).ok, true);
    assert.equal((await live.admit(c.plan('l1', 2000))).ok, true);
    await registerSilent(dead);
    await Promise.all([b.ledger!.sweep(), d.ledger!.sweep(), b.ledger!.sweep(), d.ledger!.sweep()]);
    assert.deepEqual(await c.peek(b), { inFlight: 1, spentMicro: 7000, reservedMicro: 2000 }, 'charged once; the live replica\'s reservation is not taken by a second release');
    const mine = released.filter(([i]) => i === dead.instance);
    assert.equal(mine.reduce((n, [, e]) => n + e, 0), 3, `two leases and one budget entry released in all: ${JSON.stringify(released)}`);
    assert.equal(mine.reduce((n, [, , charged]) => n + charged, 0), 7000, 'the reservations charged, as reported');
    const r = openRedis({ url: testRedisUrl()!, timeoutMs: 2000 });
    await waitReady(r, 5000);
    try {
      assert.equal(await r.sismember(prefix + 'replicas', dead.instance), 0, 'the dead replica is forgotten');
      assert.equal(await r.exists(ledgerKey(prefix, DEFAULT_SHARD, dead.instance)), 0, 'its ledger is gone');
    } finally {
      r.disconnect();
    }
  });

  test('a clean shutdown sends its waiting settlements and releases what its replica still holds; a settled admission leaves an empty ledger', async (t) => {
    t.after(() => Promise.all(opened.splice(0).map((s) => s.close())));
    const a = await replica(60_000);
    const b = await store();
    const c = await counters(a, 5);
    assert.equal((await a.admit(c.plan('a1', 500))).ok, true);
    assert.equal((await a.admit(c.plan('a2', 700))).ok, true);
    assert.equal((await a.admit(c.plan('a3', 300))).ok, true);
    a.settle(c.settle('a1', 500, 200));
    const r = openRedis({ url: testRedisUrl()!, timeoutMs: 2000 });
    await waitReady(r, 5000);
    try {
      const ledger = () => r.hgetall(ledgerKey(prefix, DEFAULT_SHARD, a.instance));
      const deadline = Date.now() + 5000;
      while ((await ledger())[`s:${counterKey(prefix, DEFAULT_SHARD, c.slotKey)}`] !== '2' && Date.now() < deadline) await sleep(10);
      assert.deepEqual(Object.keys(await ledger()).length, 2, 'a1 was applied after the delay, without an admission to ride with: the ledger holds the open requests\' lease count and reservations only');
      a.settle(c.settle('a3', 300, 100));
      await a.close();
      assert.deepEqual(await c.peek(b), { inFlight: 0, spentMicro: 1000, reservedMicro: 0 }, 'a1 and a3 at their actual cost; a2, never settled, charged at its reservation');
      assert.equal(await r.exists(`${prefix}alive:${a.instance}`, ledgerKey(prefix, DEFAULT_SHARD, a.instance), `${prefix}shards:${a.instance}`), 0);
    } finally {
      r.disconnect();
    }
    assert.deepEqual(errors, []);
  });
});
