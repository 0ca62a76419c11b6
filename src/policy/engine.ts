// The limits engine: turns the levels that apply to a key into one atomic admission plan
// (rate windows, concurrency slots, budget reservations at every level), runs it on the counter
// store, and maps a refusal back to the exact rule and level that refused.
import { randomUUID } from 'node:crypto';
import type { Admission, AdmissionOutcome, AdmissionRequest, Level, RateHeaders, Ticket } from './admission.ts';
import { bucketOf, type AdmitPlan, type BudgetSpec, type CounterStore, type SettleSpec, type StoreOutcome, type WindowSpec } from './counter-store.ts';
import { BUCKETS_PER_WINDOW, periodOf, WINDOW_NAMES, WINDOWS, type Budget, type LevelPolicy, type WindowName } from './policy.ts';
import type { PolicyCache } from './policy-cache.ts';
import type { Alerts } from './alerts.ts';
import { microToUsd } from '../usage/spend.repository.ts';

const DAY = 86_400_000;
const NO_OP: Ticket = { settle() {} };

export interface EngineOptions {
  /** how long a concurrency lease lives if its replica dies before releasing it */
  slotTtlMs: number;
  /** loads a budget counter's spend for a period (flushes pending logs first) */
  loadSpent(scope: string, start: number, end: number | null): Promise<number>;
  onError(err: unknown): void;
  /** the counter store is unreachable: admit without limits (true) or refuse with 503 (false) */
  failOpen?: boolean;
  /** told when the store fails, at most once per STORE_WARN_MS, with how many failures it skipped */
  onStoreDown?(err: unknown, failOpen: boolean, suppressed: number): void;
}

const STORE_WARN_MS = 10_000;

interface PlannedWindow { level: LevelPolicy; name: WindowName; spec: WindowSpec }
interface PlannedBudget { level: LevelPolicy; budget: Budget; period: ReturnType<typeof periodOf>; spec: BudgetSpec }

export function budgetTtl(period: ReturnType<typeof periodOf>, now: number): number {
  return (period.end === null ? 400 * DAY : period.end - now) + 2 * DAY;
}

export class LimitsEngine implements Admission {
  private readonly store: CounterStore;
  private readonly policies: PolicyCache;
  private readonly alerts: Alerts;
  private readonly opts: EngineOptions;
  private warnedAt = -Infinity;
  private suppressed = 0;
  private readonly loading = new Map<string, Promise<void>>();

  constructor(store: CounterStore, policies: PolicyCache, alerts: Alerts, opts: EngineOptions) {
    this.store = store;
    this.policies = policies;
    this.alerts = alerts;
    this.opts = opts;
  }

  async admit(req: AdmissionRequest): Promise<AdmissionOutcome> {
    const levels = await this.policies.levelsFor(req.ctx);
    const { now } = req;
    const windows: PlannedWindow[] = [];
    const budgets: PlannedBudget[] = [];
    const slots: Array<{ level: LevelPolicy; limit: number }> = [];
    for (const l of levels) {
      const c = compile(l);
      if (c.empty) continue;
      const p = l.policy;
      for (const w of c.windows) windows.push({ level: l, name: w.name, spec: { key: w.key, windowMs: w.windowMs, bucketMs: w.bucketMs, limit: w.limit, cost: w.tokens ? req.tokenBound : 1 } });
      if (p.maxParallel != null) slots.push({ level: l, limit: p.maxParallel });
      if (p.budget) {
        if (req.costBoundMicro === undefined && p.budget.mode === 'hard') {
          return this.deny('budget_exceeded', l.level, microToUsd(p.budget.limitMicro), null, `The model \`${req.model}\` has no known price, so the hard budget on this ${label(l.level)} cannot admit it. Ask an admin to set its price.`);
        }
        const period = periodOf(p.budget.period, now);
        const spec = { key: budgetKey(c, period.key), limitMicro: p.budget.limitMicro, reserveMicro: req.costBoundMicro ?? 0, hard: p.budget.mode === 'hard', ttlMs: budgetTtl(period, now) };
        budgets.push({ level: l, budget: p.budget, period, spec });
      }
    }
    if (windows.length === 0 && slots.length === 0 && budgets.length === 0) return { ok: true, ticket: NO_OP, headers: {} };

    const leaseId = slots.length ? LEASE_PREFIX + (++leaseCounter).toString(36) : '';
    const plan: AdmitPlan = {
      now,
      windows: windows.map((w) => w.spec),
      slots: slots.map((s) => ({ key: compile(s.level).slotKey, limit: s.limit, leaseId, ttlMs: this.opts.slotTtlMs })),
      budgets: budgets.map((b) => b.spec),
    };
    let outcome: StoreOutcome;
    try {
      outcome = await this.charge(plan, budgets, now);
    } catch (err) {
      // Redis down (or the rollups unreadable): fail closed by default, open if configured.
      this.storeDown(err);
      if (this.opts.failOpen) return { ok: true, ticket: NO_OP, headers: {} };
      return this.deny('service_unavailable', null, null, now + 1000, 'Limits and budgets cannot be checked right now (the counter store is unreachable); try again shortly.');
    }
    if (!outcome.ok) {
      switch (outcome.kind) {
        case 'uninitialized':
          return this.deny('service_unavailable', null, null, null, 'Budget counters could not be loaded; try again.');
        case 'window': {
          const w = windows[outcome.index]!;
          const unit = WINDOWS[w.name].kind;
          const headers: RateHeaders = unit === 'requests'
            ? { limitRequests: w.spec.limit, remainingRequests: Math.max(0, w.spec.limit - outcome.state.used), resetRequestsMs: outcome.state.resetMs }
            : { limitTokens: w.spec.limit, remainingTokens: Math.max(0, w.spec.limit - outcome.state.used), resetTokensMs: outcome.state.resetMs };
          return this.deny('rate_limit_exceeded', w.level.level, w.spec.limit, now + outcome.state.resetMs,
            `Rate limit reached for this ${label(w.level.level)}: ${w.spec.limit} ${unit} per ${per(w.name)} (${w.name}), ${outcome.state.used} used. Retry in ${Math.ceil(outcome.state.resetMs / 1000)}s.`, headers, { window: w.name });
        }
        case 'slot': {
          const s = slots[outcome.index]!;
          return this.deny('concurrency_limit_exceeded', s.level.level, s.limit, now + 1000, `Too many requests in flight for this ${label(s.level.level)}: at most ${s.limit} at a time.`);
        }
        case 'budget': {
          const b = budgets[outcome.index]!;
          const left = Math.max(0, b.spec.limitMicro - outcome.state.spentMicro - outcome.state.reservedMicro);
          return this.deny('budget_exceeded', b.level.level, microToUsd(b.spec.limitMicro), b.period.end,
            `Budget exceeded for this ${label(b.level.level)}: $${microToUsd(b.spec.limitMicro)} per ${PERIOD_WORD[b.budget.period]}, $${microToUsd(outcome.state.spentMicro)} spent, $${microToUsd(left)} left; this request could cost up to $${microToUsd(b.spec.reserveMicro)}.`,
            {}, { budget_usd: microToUsd(b.spec.limitMicro), spent_usd: microToUsd(outcome.state.spentMicro), period: b.budget.period });
        }
      }
    }

    const admitted = outcome;
    const headers = this.headers(windows, admitted.windows);
    let settled = false;
    const ticket: Ticket = {
      settle: (actual) => {
        if (settled) return;
        settled = true;
        const spec: SettleSpec = {
          windows: windows
            .filter((w) => WINDOWS[w.name].kind === 'tokens' && actual.tokens !== w.spec.cost)
            .map((w) => ({ key: w.spec.key, bucket: bucketOf(now, w.spec.bucketMs), bucketMs: w.spec.bucketMs, windowMs: w.spec.windowMs, delta: actual.tokens - w.spec.cost })),
          slots: plan.slots.map((s) => ({ key: s.key, leaseId })),
          budgets: budgets.map((b) => ({ key: b.spec.key, reservedMicro: b.spec.reserveMicro, actualMicro: actual.costMicro, ttlMs: b.spec.ttlMs })),
        };
        this.store.settle(spec).catch(this.opts.onError);
        budgets.forEach((b, i) => {
          if (b.budget.thresholds.length === 0) return;
          const spent = admitted.budgets[i]!.spentMicro + actual.costMicro;
          this.alerts.check(b.level.level, b.level.scope, { orgId: req.ctx.orgId, teamId: req.ctx.teamId }, b.budget, b.period.key, spent, now);
        });
      },
    };
    return { ok: true, ticket, headers };
  }

  /** Runs the plan, loading budget counters the store does not hold yet (from the rollups). */
  private async charge(plan: AdmitPlan, budgets: PlannedBudget[], now: number): Promise<StoreOutcome> {
    let outcome = await this.store.admit(plan);
    for (let attempt = 0; outcome.ok === false && outcome.kind === 'uninitialized' && attempt < 3; attempt++) {
      await Promise.all(outcome.budgetKeys.map((key) => this.loadBudget(key, budgets.find((x) => x.spec.key === key)!, now)));
      outcome = await this.store.admit(plan);
    }
    return outcome;
  }

  /**
   * Loads one budget counter from the rollups. Single-flight: the requests that arrive together
   * for a cold counter (after a start, a Redis restart, a new period) share one query.
   */
  private loadBudget(key: string, b: PlannedBudget, now: number): Promise<void> {
    let load = this.loading.get(key);
    if (!load) {
      load = (async () => {
        const spent = await this.opts.loadSpent(b.level.scope, b.period.start, b.period.end);
        await this.store.initBudget(key, spent, b.spec.ttlMs, now);
      })().finally(() => this.loading.delete(key));
      this.loading.set(key, load);
    }
    return load;
  }

  private storeDown(err: unknown): void {
    const t = performance.now();
    if (t - this.warnedAt < STORE_WARN_MS) {
      this.suppressed++;
      return;
    }
    this.opts.onStoreDown?.(err, this.opts.failOpen === true, this.suppressed);
    this.warnedAt = t;
    this.suppressed = 0;
  }

  /** The tightest request window and the tightest token window, for x-ratelimit-* headers. */
  private headers(windows: PlannedWindow[], states: Array<{ used: number; resetMs: number }>): RateHeaders {
    const h: RateHeaders = {};
    let bestReq = Infinity;
    let bestTok = Infinity;
    windows.forEach((w, i) => {
      const st = states[i];
      const used = st?.used ?? 0;
      const remaining = w.spec.limit - used;
      if (WINDOWS[w.name].kind === 'requests' && remaining < bestReq) {
        bestReq = remaining;
        Object.assign(h, { limitRequests: w.spec.limit, remainingRequests: remaining, resetRequestsMs: st?.resetMs ?? 0 });
      } else if (WINDOWS[w.name].kind === 'tokens' && remaining < bestTok) {
        bestTok = remaining;
        Object.assign(h, { limitTokens: w.spec.limit, remainingTokens: remaining, resetTokensMs: st?.resetMs ?? 0 });
      }
    });
    return h;
  }

  private deny(code: 'rate_limit_exceeded' | 'concurrency_limit_exceeded' | 'budget_exceeded' | 'service_unavailable', level: Level | null, limit: number | null, resetAt: number | null, message: string, headers: RateHeaders = {}, details?: Record<string, unknown>): AdmissionOutcome {
    return { ok: false, code, level, limit, resetAt, message, headers, ...(details ? { details } : {}) };
  }
}

interface Compiled {
  empty: boolean;
  windows: Array<{ name: WindowName; key: string; windowMs: number; bucketMs: number; limit: number; tokens: boolean }>;
  slotKey: string;
  budgetPrefix: string;
  /** the budget counter key of the last period seen: the same string object request after request */
  lastBudget?: { period: string; key: string };
}

function budgetKey(c: Compiled, period: string): string {
  if (c.lastBudget?.period !== period) c.lastBudget = { period, key: c.budgetPrefix + period };
  return c.lastBudget.key;
}

// Lease ids only need to be unique among the leases in flight: a per-process random prefix and a counter.
const LEASE_PREFIX = randomUUID().slice(0, 8) + ':';
let leaseCounter = 0;

// A level's counter keys and window specs, built once per cached policy rather than per request.
const compiled = new WeakMap<LevelPolicy, Compiled>();

function compile(l: LevelPolicy): Compiled {
  let c = compiled.get(l);
  if (c) return c;
  const p = l.policy;
  const windows = WINDOW_NAMES.filter((n) => p[n] != null).map((name) => ({
    name, key: `rl:${l.scope}:${name}`, windowMs: WINDOWS[name].ms, bucketMs: WINDOWS[name].ms / BUCKETS_PER_WINDOW, limit: p[name]!, tokens: WINDOWS[name].kind === 'tokens',
  }));
  c = { empty: windows.length === 0 && p.maxParallel == null && p.budget == null, windows, slotKey: `cc:${l.scope}`, budgetPrefix: `bg:${l.scope}:` };
  compiled.set(l, c);
  return c;
}

const PERIOD_WORD = { total: 'lifetime', daily: 'day', weekly: 'week', monthly: 'month' } as const;

function label(level: Level): string {
  return level === 'service_account' ? 'service account' : level;
}

function per(name: WindowName): string {
  return name.endsWith('m') ? 'minute' : name.endsWith('h') ? 'hour' : 'day';
}
