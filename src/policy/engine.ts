// The limits engine: turns the levels that apply to a key into one atomic admission plan
// (rate windows, concurrency slots, budget reservations at every level), runs it on the counter
// store, and maps a refusal back to the exact rule and level that refused.
import { randomUUID } from 'node:crypto';
import type { Admission, AdmissionOutcome, AdmissionRequest, DenialCode, Level, RateHeaders, Ticket } from './admission.ts';
import { bucketOf, type AdmitPlan, type BudgetSpec, type BudgetState, type CounterStore, type SettleSpec, type SlotSpec, type StoreOutcome, type WindowSpec, type WindowState } from './counter-store.ts';
import { BUCKETS_PER_WINDOW, periodOf, WINDOW_NAMES, WINDOWS, type Budget, type LevelPolicy, type Period, type WindowName } from './policy.ts';
import type { PolicyCache } from './policy-cache.ts';
import type { Alerts } from './alerts.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import { shardOf } from './redis-keys.ts';
import { shareNote, shareWords } from './member-share.ts';

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

export function budgetTtl(period: Period, now: number): number {
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

  /**
   * Synchronous on the warm embedded path (policies cached, memory store, counters loaded): no
   * promise per request. A cold policy, a budget counter to load or the Redis store make it async.
   */
  admit(req: AdmissionRequest): AdmissionOutcome | Promise<AdmissionOutcome> {
    const levels = this.policies.cachedLevels(req.ctx);
    return levels ? this.admitWith(req, levels) : this.policies.levelsFor(req.ctx).then((l) => this.admitWith(req, l));
  }

  private admitWith(req: AdmissionRequest, levels: LevelPolicy[]): AdmissionOutcome | Promise<AdmissionOutcome> {
    const t = templateOf(levels);
    if (t.empty) return { ok: true, ticket: NO_OP, headers: {} };
    const { now } = req;
    if (req.costBoundMicro === undefined && t.hardBudget) {
      const l = t.hardBudget;
      const limit = microToUsd(l.policy.budget!.limitMicro);
      if (req.unbounded) {
        const why = `This request's cost has no upper bound (${req.unbounded.reason}), so the hard budget on this ${label(l.level)} cannot admit it.`;
        return this.deny('cost_unbounded', l.level, limit, null, why, {}, { param: req.unbounded.param });
      }
      return this.deny('budget_exceeded', l.level, limit, null, `The model \`${req.model}\` has no known price, so the hard budget on this ${label(l.level)} cannot admit it. Ask an admin to set its price.`);
    }
    // The plan: request windows and slots are the template's own specs; only what depends on this
    // request (token cost, reservation, period, lease) is built here.
    const windows: WindowSpec[] = new Array(t.windows.length);
    for (let i = 0; i < t.windows.length; i++) {
      const w = t.windows[i]!;
      windows[i] = w.tokens ? { key: w.spec.key, windowMs: w.spec.windowMs, bucketMs: w.spec.bucketMs, limit: w.spec.limit, cost: req.tokenBound } : w.spec;
    }
    const leaseId = t.slots.length ? LEASE_PREFIX + (++leaseCounter).toString(36) : '';
    const slots: SlotSpec[] = new Array(t.slots.length);
    for (let i = 0; i < t.slots.length; i++) slots[i] = { key: t.slots[i]!.key, limit: t.slots[i]!.limit, leaseId, ttlMs: this.opts.slotTtlMs };
    const budgets: BudgetSpec[] = new Array(t.budgets.length);
    const periods: Period[] = new Array(t.budgets.length);
    for (let i = 0; i < t.budgets.length; i++) {
      const b = t.budgets[i]!;
      const period = (periods[i] = periodOf(b.budget.period, now));
      budgets[i] = { key: budgetKey(b.compiled, period.key), limitMicro: b.budget.limitMicro, reserveMicro: req.costBoundMicro ?? 0, hard: b.budget.mode === 'hard', ttlMs: budgetTtl(period, now) };
    }
    const plan: AdmitPlan = { now, shard: (t.shard ??= shardOf(req.ctx.orgId)), template: t, windows, slots, budgets };
    let charged: StoreOutcome | Promise<StoreOutcome>;
    try {
      charged = this.charge(plan, t, periods, now);
    } catch (err) {
      return this.storeFailed(err, now);
    }
    if (charged instanceof Promise) return charged.then((o) => this.decide(req, o, plan, t, periods, now), (err: unknown) => this.storeFailed(err, now));
    return this.decide(req, charged, plan, t, periods, now);
  }

  private decide(req: AdmissionRequest, outcome: StoreOutcome, plan: AdmitPlan, t: Template, periods: Period[], now: number): AdmissionOutcome {
    if (!outcome.ok) return this.refusal(outcome, plan, t, periods, now);
    return { ok: true, ticket: new PlanTicket(this, req, plan, t, periods, outcome.budgets), headers: rateHeaders(t, outcome.windows) };
  }

  /** Redis down (or the rollups unreadable): fail closed by default, open if configured. */
  private storeFailed(err: unknown, now: number): AdmissionOutcome {
    this.storeDown(err);
    if (this.opts.failOpen) return { ok: true, ticket: NO_OP, headers: {} };
    return this.deny('service_unavailable', null, null, now + 1000, 'Limits and budgets cannot be checked right now (the counter store is unreachable); try again shortly.');
  }

  /** Replaces the reservation by the actual consumption, releases the slot, checks alert thresholds. */
  settle(req: AdmissionRequest, plan: AdmitPlan, t: Template, periods: Period[], admitted: BudgetState[], actual: { tokens: number; costMicro: number }): void | Promise<void> {
    const windows: SettleSpec['windows'] = [];
    for (let i = 0; i < plan.windows.length; i++) {
      const w = plan.windows[i]!;
      if (!t.windows[i]!.tokens || actual.tokens === w.cost) continue;
      windows.push({ key: w.key, bucket: bucketOf(plan.now, w.bucketMs), bucketMs: w.bucketMs, windowMs: w.windowMs, delta: actual.tokens - w.cost });
    }
    const slots: SettleSpec['slots'] = plan.slots;
    const budgets: SettleSpec['budgets'] = new Array(plan.budgets.length);
    for (let i = 0; i < plan.budgets.length; i++) {
      const b = plan.budgets[i]!;
      budgets[i] = { key: b.key, reservedMicro: b.reserveMicro, actualMicro: actual.costMicro, ttlMs: b.ttlMs };
    }
    let applied: Promise<void> | undefined;
    try {
      const settling = this.store.settle({ shard: plan.shard, windows, slots, budgets });
      if (settling) applied = settling.catch(this.opts.onError);
    } catch (err) {
      this.opts.onError(err);
    }
    this.checkAlerts(req, plan, t, periods, admitted, actual);
    return applied;
  }

  private checkAlerts(req: AdmissionRequest, plan: AdmitPlan, t: Template, periods: Period[], admitted: BudgetState[], actual: { costMicro: number }): void {
    for (let i = 0; i < t.budgets.length; i++) {
      const b = t.budgets[i]!;
      if (b.budget.thresholds.length === 0) continue;
      const spent = admitted[i]!.spentMicro + actual.costMicro;
      this.alerts.check(b.level.level, b.level.scope, { orgId: req.ctx.orgId, teamId: req.ctx.teamId }, b.budget, periods[i]!.key, spent, plan.now);
    }
  }

  /** The store's refusal, as the rule and level that refused, in words. */
  private refusal(outcome: Exclude<StoreOutcome, { ok: true }>, plan: AdmitPlan, t: Template, periods: Period[], now: number): AdmissionOutcome {
    switch (outcome.kind) {
      case 'uninitialized':
        return this.deny('service_unavailable', null, null, null, 'Budget counters could not be loaded; try again.');
      case 'window': {
        const w = t.windows[outcome.index]!;
        const limit = w.spec.limit;
        const unit = WINDOWS[w.name].kind;
        const headers: RateHeaders = unit === 'requests'
          ? { limitRequests: limit, remainingRequests: Math.max(0, limit - outcome.state.used), resetRequestsMs: outcome.state.resetMs }
          : { limitTokens: limit, remainingTokens: Math.max(0, limit - outcome.state.used), resetTokensMs: outcome.state.resetMs };
        const share = shareNote(w.level, w.name, limit);
        return this.deny('rate_limit_exceeded', w.level.level, limit, now + outcome.state.resetMs,
          `Rate limit reached for this ${label(w.level.level)}: ${limit} ${unit} per ${per(w.name)} (${w.name}), ${outcome.state.used} used. Retry in ${Math.ceil(outcome.state.resetMs / 1000)}s.${share ? shareWords(share) : ''}`,
          headers, share ? { window: w.name, member_share: share } : { window: w.name });
      }
      case 'slot': {
        const s = t.slots[outcome.index]!;
        return this.deny('concurrency_limit_exceeded', s.level.level, s.limit, now + 1000, `Too many requests in flight for this ${label(s.level.level)}: at most ${s.limit} at a time.`);
      }
      case 'budget': {
        const b = t.budgets[outcome.index]!;
        const spec = plan.budgets[outcome.index]!;
        const left = Math.max(0, spec.limitMicro - outcome.state.spentMicro - outcome.state.reservedMicro);
        return this.deny('budget_exceeded', b.level.level, microToUsd(spec.limitMicro), periods[outcome.index]!.end,
          `Budget exceeded for this ${label(b.level.level)}: $${microToUsd(spec.limitMicro)} per ${PERIOD_WORD[b.budget.period]}, $${microToUsd(outcome.state.spentMicro)} spent, $${microToUsd(left)} left; this request could cost up to $${microToUsd(spec.reserveMicro)}.`,
          {}, { budget_usd: microToUsd(spec.limitMicro), spent_usd: microToUsd(outcome.state.spentMicro), period: b.budget.period });
      }
    }
  }

  /** Runs the plan, loading budget counters the store does not hold yet (from the rollups). */
  private charge(plan: AdmitPlan, t: Template, periods: Period[], now: number): StoreOutcome | Promise<StoreOutcome> {
    const first = this.store.admit(plan);
    if (first instanceof Promise || (first.ok === false && first.kind === 'uninitialized')) return this.chargeLoading(first, plan, t, periods, now);
    return first;
  }

  private async chargeLoading(first: StoreOutcome | Promise<StoreOutcome>, plan: AdmitPlan, t: Template, periods: Period[], now: number): Promise<StoreOutcome> {
    let outcome = await first;
    for (let attempt = 0; outcome.ok === false && outcome.kind === 'uninitialized' && attempt < 3; attempt++) {
      await Promise.all(outcome.budgetKeys.map((key) => {
        const i = plan.budgets.findIndex((b) => b.key === key);
        return this.loadBudget(key, t.budgets[i]!.level.scope, periods[i]!, plan.budgets[i]!.ttlMs, now, plan.shard);
      }));
      outcome = await this.store.admit(plan);
    }
    return outcome;
  }

  /**
   * Loads one budget counter from the rollups. Single-flight: the requests that arrive together
   * for a cold counter (after a start, a Redis restart, a new period) share one query.
   */
  private loadBudget(key: string, scope: string, period: Period, ttlMs: number, now: number, shard: string | undefined): Promise<void> {
    let load = this.loading.get(key);
    if (!load) {
      load = (async () => {
        const spent = await this.opts.loadSpent(scope, period.start, period.end);
        await this.store.initBudget(key, spent, ttlMs, now, shard);
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

  private deny(code: DenialCode, level: Level | null, limit: number | null, resetAt: number | null, message: string, headers: RateHeaders = {}, details?: Record<string, unknown>): AdmissionOutcome {
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

/**
 * What a set of levels asks of every request, worked out once per set (the PolicyCache hands out
 * the same array while nothing changes): the windows with their specs (request windows' specs
 * are used as they are), the slots, the budgets, and the first hard budget (which an unpriced
 * model cannot pass).
 */
interface Template {
  empty: boolean;
  windows: Array<{ level: LevelPolicy; name: WindowName; tokens: boolean; spec: WindowSpec }>;
  slots: Array<{ level: LevelPolicy; limit: number; key: string }>;
  budgets: Array<{ level: LevelPolicy; budget: Budget; compiled: Compiled }>;
  hardBudget: LevelPolicy | undefined;
  /** the organization's shard in a shared store (a set of levels belongs to one organization) */
  shard?: string;
}

const templates = new WeakMap<LevelPolicy[], Template>();

function templateOf(levels: LevelPolicy[]): Template {
  let t = templates.get(levels);
  if (t) return t;
  t = { empty: true, windows: [], slots: [], budgets: [], hardBudget: undefined };
  for (const l of levels) {
    const c = compile(l);
    if (c.empty) continue;
    t.empty = false;
    for (const w of c.windows) t.windows.push({ level: l, name: w.name, tokens: w.tokens, spec: { key: w.key, windowMs: w.windowMs, bucketMs: w.bucketMs, limit: w.limit, cost: 1 } });
    if (l.policy.maxParallel != null) t.slots.push({ level: l, limit: l.policy.maxParallel, key: c.slotKey });
    const budget = l.policy.budget;
    if (budget) {
      t.budgets.push({ level: l, budget, compiled: c });
      if (budget.mode === 'hard') t.hardBudget ??= l;
    }
  }
  templates.set(levels, t);
  return t;
}

/** The tightest request window and the tightest token window, for x-ratelimit-* headers. */
function rateHeaders(t: Template, states: WindowState[]): RateHeaders {
  const h: RateHeaders = {};
  let bestReq = Infinity;
  let bestTok = Infinity;
  for (let i = 0; i < t.windows.length; i++) {
    const w = t.windows[i]!;
    const st = states[i];
    const remaining = w.spec.limit - (st?.used ?? 0);
    if (!w.tokens) {
      if (remaining >= bestReq) continue;
      bestReq = remaining;
      h.limitRequests = w.spec.limit;
      h.remainingRequests = remaining;
      h.resetRequestsMs = st?.resetMs ?? 0;
    } else if (remaining < bestTok) {
      bestTok = remaining;
      h.limitTokens = w.spec.limit;
      h.remainingTokens = remaining;
      h.resetTokensMs = st?.resetMs ?? 0;
    }
  }
  return h;
}

/** An admitted request's ticket: settles once. */
class PlanTicket implements Ticket {
  private settled = false;
  private readonly engine: LimitsEngine;
  private readonly req: AdmissionRequest;
  private readonly plan: AdmitPlan;
  private readonly t: Template;
  private readonly periods: Period[];
  private readonly admitted: BudgetState[];

  constructor(engine: LimitsEngine, req: AdmissionRequest, plan: AdmitPlan, t: Template, periods: Period[], admitted: BudgetState[]) {
    this.engine = engine;
    this.req = req;
    this.plan = plan;
    this.t = t;
    this.periods = periods;
    this.admitted = admitted;
  }

  settle(actual: { tokens: number; costMicro: number }): void | Promise<void> {
    if (this.settled) return;
    this.settled = true;
    return this.engine.settle(this.req, this.plan, this.t, this.periods, this.admitted, actual);
  }
}
