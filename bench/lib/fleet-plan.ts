// The admission plan and settlement the limits engine (src/policy/engine.ts) builds for one
// request of the benchmark's realistic policy (bench/setup.ts REALISTIC_POLICY), built directly
// so bench/fleet.ts measures the counter store alone — the same plan before and after the store
// is rewritten. Levels in the engine's order (key, member, team; no org policy), windows in
// WINDOW_NAMES order within a level, keys named as the engine names them:
//
//   windows  rl:key:<k>:rpm  rl:key:<k>:tpm  rl:team:<t>:rpm  rl:team:<t>:rpd  rl:team:<t>:tpm
//   slot     cc:key:<k>                                   (max_parallel_requests)
//   budgets  bg:key:<k>:m2026-11  bg:member:<t>:<u>:m…  bg:team:<t>:m…     (hard, monthly)
//
// One tenant = one organization with one team, one member and one key (ids = the tenant number),
// its counters on shard 'o<id>' (the organization's hash tag).
import { randomBytes } from 'node:crypto';
import { REALISTIC_POLICY } from '../setup.ts';
import type { AdmitPlan, BudgetSpec, SettleSpec, SlotSpec, WindowSpec } from '../../src/policy/counter-store.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** as the engine: BUCKETS_PER_WINDOW buckets per window */
const BUCKETS = 60;
/** the engine's lease lifetime: TOLLGATE_UPSTREAM_TIMEOUT_MS (default 600 s) + 60 s */
const SLOT_TTL_MS = 660_000;

/**
 * One chat request of the benchmark (bench/lib/scenarios.ts: ~60 prompt tokens, max_tokens 256,
 * gpt-4o-mini): the engine reserves the upper bound and settles to what the answer used.
 */
export const REQUEST = { tokenBound: 316, reserveMicro: 163, actualTokens: 180, actualMicro: 80 };

const usd = (x: number) => Math.round(x * 1e6);
const window = (key: string, ms: number, limit: number, cost: number): WindowSpec => ({ key, windowMs: ms, bucketMs: ms / BUCKETS, limit, cost });

export interface Tenant {
  id: number;
  shard: string;
  /** the engine's per-policy-set template: the same object for every plan of this tenant */
  template: object;
  requestWindows: WindowSpec[];
  budgetKeys: string[];
}

function monthKey(now: number): { key: string; end: number } {
  const d = new Date(now);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return { key: 'm' + new Date(start).toISOString().slice(0, 7), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

export function tenant(id: number, now: number): Tenant {
  const p = REALISTIC_POLICY;
  const period = monthKey(now).key;
  return {
    id,
    shard: `o${id}`,
    template: {},
    // request windows are the template's own specs in the engine (cost 1, shared between requests)
    requestWindows: [window(`rl:key:${id}:rpm`, MINUTE, p.key.rpm, 1), window(`rl:team:${id}:rpm`, MINUTE, p.team.rpm, 1), window(`rl:team:${id}:rpd`, DAY, p.team.rpd, 1)],
    budgetKeys: [`bg:key:${id}:${period}`, `bg:member:${id}:${id}:${period}`, `bg:team:${id}:${period}`],
  };
}

const LEASE_PREFIX = randomBytes(4).toString('hex') + ':';
let leases = 0;

export function admitPlan(t: Tenant, now: number): AdmitPlan {
  const p = REALISTIC_POLICY;
  const [keyRpm, teamRpm, teamRpd] = t.requestWindows as [WindowSpec, WindowSpec, WindowSpec];
  const windows = [keyRpm, window(`rl:key:${t.id}:tpm`, MINUTE, p.key.tpm, REQUEST.tokenBound), teamRpm, teamRpd, window(`rl:team:${t.id}:tpm`, MINUTE, p.team.tpm, REQUEST.tokenBound)];
  const slots: SlotSpec[] = [{ key: `cc:key:${t.id}`, limit: p.key.max_parallel_requests, leaseId: LEASE_PREFIX + (++leases).toString(36), ttlMs: SLOT_TTL_MS }];
  const ttlMs = budgetTtl(now);
  const limits = [usd(p.key.max_budget_usd), usd(p.member.max_budget_usd), usd(p.team.max_budget_usd)];
  const budgets: BudgetSpec[] = t.budgetKeys.map((key, i) => ({ key, limitMicro: limits[i]!, reserveMicro: REQUEST.reserveMicro, hard: true, ttlMs }));
  return { now, shard: t.shard, template: t.template, windows, slots, budgets };
}

/** What the engine settles after the answer: token windows to the actual count, the slot, the budgets. */
export function settleSpec(plan: AdmitPlan): SettleSpec {
  const windows: SettleSpec['windows'] = [];
  for (const w of plan.windows) {
    if (w.cost === 1) continue;
    windows.push({ key: w.key, bucket: Math.floor(plan.now / w.bucketMs), bucketMs: w.bucketMs, windowMs: w.windowMs, delta: REQUEST.actualTokens - w.cost });
  }
  const budgets = plan.budgets.map((b) => ({ key: b.key, reservedMicro: b.reserveMicro, actualMicro: REQUEST.actualMicro, ttlMs: b.ttlMs }));
  return { shard: plan.shard, windows, slots: plan.slots, budgets };
}

/** As the engine's budgetTtl for a monthly period. */
export function budgetTtl(now: number): number {
  return monthKey(now).end - now + 2 * DAY;
}
