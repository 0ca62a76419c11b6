// One contract for every CounterStore implementation (memory, Redis): run it with
// counterStoreContract('name', () => makeStore()). Keys are unique per test, so implementations
// sharing a server across files do not collide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdmitPlan, CounterStore, WindowSpec } from '../../src/policy/counter-store.ts';

const T0 = Date.parse('2026-03-28T12:00:00.000Z');

export function counterStoreContract(name: string, make: () => Promise<CounterStore>): void {
  const k = (s: string) => `t:${randomUUID()}:${s}`;
  const plan = (p: Partial<AdmitPlan>, now = T0): AdmitPlan => ({ now, windows: [], slots: [], budgets: [], ...p });
  const rpm = (key: string, limit: number, cost = 1): WindowSpec => ({ key, windowMs: 60_000, bucketMs: 1_000, limit, cost });

  test(`${name}: a window admits exactly its limit, then refuses until buckets expire`, async () => {
    const store = await make();
    const w = rpm(k('rpm'), 5);
    const results = [];
    for (let i = 0; i < 8; i++) results.push((await store.admit(plan({ windows: [w] }, T0 + i * 100))).ok);
    assert.deepEqual(results, [true, true, true, true, true, false, false, false]);
    const refused = await store.admit(plan({ windows: [w] }, T0 + 1000));
    assert.equal(refused.ok, false);
    if (!refused.ok && refused.kind === 'window') {
      assert.equal(refused.state.used, 5);
      assert.equal(refused.state.resetMs, 59_000, 'the oldest bucket leaves the window 60s after it began');
    } else assert.fail('expected a window refusal');
    assert.equal((await store.admit(plan({ windows: [w] }, T0 + 59_999))).ok, false);
    assert.equal((await store.admit(plan({ windows: [w] }, T0 + 60_000))).ok, true, 'the first bucket expired');
    await store.close();
  });

  test(`${name}: the documented bound — never more than N in any interval of W − W/60, under random load`, async () => {
    const store = await make();
    const N = 7;
    const w = rpm(k('bound'), N);
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const admitted: number[] = [];
    let t = T0;
    for (let i = 0; i < 600; i++) {
      t += Math.floor(rand() * 2_000);
      if ((await store.admit(plan({ windows: [w] }, t))).ok) admitted.push(t);
    }
    assert.ok(admitted.length > 5 * N, `${admitted.length} admitted over ${(t - T0) / 60_000} minutes`);
    for (const end of admitted) {
      const inside = admitted.filter((x) => x > end - 59_000 && x <= end).length;
      assert.ok(inside <= N, `${inside} admitted in the 59 s before ${end - T0}`);
    }
    await store.close();
  });

  test(`${name}: admission is all-or-nothing across windows, slots and budgets`, async () => {
    const store = await make();
    const a = rpm(k('a'), 10);
    const full = rpm(k('full'), 1);
    assert.equal((await store.admit(plan({ windows: [full] }))).ok, true);
    const bKey = k('budget');
    await store.initBudget(bKey, 0, 3_600_000, T0);
    const refused = await store.admit(plan({ windows: [a, full], slots: [{ key: k('slot'), limit: 5, leaseId: 'x', ttlMs: 60_000 }], budgets: [{ key: bKey, limitMicro: 1000, reserveMicro: 100, hard: true, ttlMs: 3_600_000 }] }));
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.equal(refused.kind, 'window');
    const peek = await store.peek([a], [], [bKey], T0);
    assert.equal(peek.windows[0]!.used, 0, 'the other window was not charged');
    assert.deepEqual(peek.budgets[0], { spentMicro: 0, reservedMicro: 0 }, 'nothing was reserved');
    await store.close();
  });

  test(`${name}: token windows settle to the actual cost in the bucket charged at admission`, async () => {
    const store = await make();
    const w = { ...rpm(k('tpm'), 1000), cost: 600 };
    const ok = await store.admit(plan({ windows: [w] }));
    assert.ok(ok.ok);
    assert.equal((await store.admit(plan({ windows: [w] }))).ok, false, '600 + 600 > 1000');
    await store.settle({ windows: [{ key: w.key, bucket: Math.floor(T0 / 1000), bucketMs: 1000, windowMs: 60_000, delta: 100 - 600 }], slots: [], budgets: [] });
    assert.equal((await store.peek([w], [], [], T0 + 10)).windows[0]!.used, 100);
    assert.equal((await store.admit(plan({ windows: [w] }, T0 + 10))).ok, true, '100 + 600 ≤ 1000');
    await store.close();
  });

  test(`${name}: concurrency slots are held until settled, and leases expire`, async () => {
    const store = await make();
    const key = k('cc');
    const slot = (leaseId: string) => ({ key, limit: 2, leaseId, ttlMs: 30_000 });
    assert.ok((await store.admit(plan({ slots: [slot('a')] }))).ok);
    assert.ok((await store.admit(plan({ slots: [slot('b')] }))).ok);
    const third = await store.admit(plan({ slots: [slot('c')] }));
    assert.equal(third.ok, false);
    if (!third.ok && third.kind === 'slot') assert.equal(third.inFlight, 2);
    await store.settle({ windows: [], slots: [{ key, leaseId: 'a' }], budgets: [] });
    assert.ok((await store.admit(plan({ slots: [slot('c')] }))).ok, 'a released slot is free again');
    assert.equal((await store.admit(plan({ slots: [slot('d')] }, T0 + 1000))).ok, false);
    assert.ok((await store.admit(plan({ slots: [slot('d')] }, T0 + 30_001))).ok, 'leases of a crashed replica expire');
    assert.deepEqual((await store.peek([], [key], [], T0 + 30_001)).slots, [1]);
    await store.close();
  });

  test(`${name}: budgets must be loaded, reserve on admit, and settle reserved → spent`, async () => {
    const store = await make();
    const key = k('bg');
    const spec = { key, limitMicro: 1000, reserveMicro: 400, hard: true, ttlMs: 3_600_000 };
    const first = await store.admit(plan({ budgets: [spec] }));
    assert.equal(first.ok, false);
    if (!first.ok) assert.deepEqual(first.kind === 'uninitialized' && first.budgetKeys, [key]);
    await store.initBudget(key, 100, 3_600_000, T0);
    await store.initBudget(key, 999, 3_600_000, T0);
    assert.deepEqual((await store.peek([], [], [key], T0)).budgets[0], { spentMicro: 100, reservedMicro: 0 }, 'init never overwrites a loaded counter');
    const a = await store.admit(plan({ budgets: [spec] }));
    assert.ok(a.ok);
    if (a.ok) assert.deepEqual(a.budgets[0], { spentMicro: 100, reservedMicro: 400 });
    assert.ok((await store.admit(plan({ budgets: [spec] }))).ok, '100 + 400 + 400 ≤ 1000');
    const refused = await store.admit(plan({ budgets: [spec] }));
    assert.equal(refused.ok, false, '100 + 800 + 400 > 1000');
    if (!refused.ok && refused.kind === 'budget') assert.deepEqual(refused.state, { spentMicro: 100, reservedMicro: 800 });
    await store.settle({ windows: [], slots: [], budgets: [{ key, reservedMicro: 400, actualMicro: 250, ttlMs: 3_600_000 }] });
    assert.deepEqual((await store.peek([], [], [key], T0)).budgets[0], { spentMicro: 350, reservedMicro: 400 });
    assert.ok((await store.admit(plan({ budgets: [{ ...spec, hard: false, reserveMicro: 10_000 }] }))).ok, 'a soft budget never refuses');
    await store.close();
  });

  test(`${name}: 300 concurrent admissions never reserve past a hard budget`, async () => {
    const store = await make();
    const key = k('race');
    await store.initBudget(key, 0, 3_600_000, T0);
    const spec = { key, limitMicro: 10_000, reserveMicro: 300, hard: true, ttlMs: 3_600_000 };
    const w = rpm(k('race-rpm'), 20);
    const outcomes = await Promise.all(Array.from({ length: 300 }, () => store.admit(plan({ budgets: [spec], windows: [w] }))));
    const admitted = outcomes.filter((o) => o.ok).length;
    assert.equal(admitted, 20, 'the window admits exactly 20');
    const state = (await store.peek([], [], [key], T0)).budgets[0]!;
    assert.equal(state.reservedMicro, 20 * 300);
    const b2 = k('race2');
    await store.initBudget(b2, 0, 3_600_000, T0);
    const o2 = await Promise.all(Array.from({ length: 300 }, () => store.admit(plan({ budgets: [{ ...spec, key: b2 }] }))));
    assert.equal(o2.filter((o) => o.ok).length, 33, 'floor(10000 / 300) reservations fit');
    await store.close();
  });
}
