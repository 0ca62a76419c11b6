// The limits engine on its own: a memory store, policies given directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LimitsEngine } from '../src/policy/engine.ts';
import { MemoryCounterStore } from '../src/policy/memory-store.ts';
import type { PolicyCache } from '../src/policy/policy-cache.ts';
import type { CounterStore } from '../src/policy/counter-store.ts';
import type { Alerts } from '../src/policy/alerts.ts';
import { OPEN_ACCESS, type KeyContext } from '../src/keys/key-context.ts';
import { EMPTY_POLICY, type LevelPolicy } from '../src/policy/policy.ts';

const ctx: KeyContext = { keyId: 1, lineageId: 1, orgId: 1, teamId: 2, userId: 3, serviceAccountId: null, name: 'k', status: 'active', expiresAtMs: null, ...OPEN_ACCESS };
const levels: LevelPolicy[] = [
  { level: 'key', scope: 'key:1', policy: { ...EMPTY_POLICY, budget: { limitMicro: 10_000, period: 'monthly', mode: 'hard', thresholds: [] } } },
  { level: 'team', scope: 'team:2', policy: { ...EMPTY_POLICY, budget: { limitMicro: 1_000_000, period: 'monthly', mode: 'hard', thresholds: [] } } },
];
const policies = { cachedLevels: () => undefined, levelsFor: async () => levels } as unknown as PolicyCache;
const alerts = { check() {} } as unknown as Alerts;

test('cold budget counters are loaded once, however many requests arrive together', async () => {
  const loads: string[] = [];
  const engine = new LimitsEngine(new MemoryCounterStore(), policies, alerts, {
    slotTtlMs: 60_000,
    onError: (e) => assert.fail(String(e)),
    loadSpent: async (scope) => {
      loads.push(scope);
      await new Promise((r) => setTimeout(r, 20));
      return scope === 'key:1' ? 4_000 : 0;
    },
  });
  const now = Date.parse('2026-03-28T12:00:00Z');
  const outcomes = await Promise.all(Array.from({ length: 50 }, () => engine.admit({ ctx, model: 'm', tokenBound: 10, costBoundMicro: 1_000, now })));
  assert.deepEqual(loads.sort(), ['key:1', 'team:2'], 'one query per counter, not one per request');
  assert.equal(outcomes.filter((o) => o.ok).length, 6, 'the loaded $0.004 counts: (10,000 − 4,000) / 1,000 = 6 reservations fit');
});

test('a store failure refuses with 503 (fail closed) or admits without limits (fail open)', async () => {
  // A shared store fails by rejecting; an in-process one could only throw.
  for (const fail of [async () => Promise.reject(new Error('connection refused')), () => { throw new Error('broken'); }]) {
    const broken: CounterStore = new MemoryCounterStore();
    broken.admit = fail;
    const down: boolean[] = [];
    const make = (failOpen: boolean) =>
      new LimitsEngine(broken, policies, alerts, { slotTtlMs: 60_000, failOpen, onError: () => {}, onStoreDown: (_e, open) => down.push(open), loadSpent: async () => 0 });
    const closed = await make(false).admit({ ctx, model: 'm', tokenBound: 10, costBoundMicro: 1_000, now: Date.now() });
    assert.equal(closed.ok, false);
    if (!closed.ok) assert.equal(closed.code, 'service_unavailable');
    const open = await make(true).admit({ ctx, model: 'm', tokenBound: 10, costBoundMicro: 1_000, now: Date.now() });
    assert.equal(open.ok, true);
    assert.deepEqual(down, [false, true]);
  }
});
