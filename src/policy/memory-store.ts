// Counters in process memory, for embedded mode. JavaScript is single-threaded and admit() has no
// await between check and charge, so check-and-reserve across all levels is atomic.
import { bucketOf, type AdmitPlan, type BudgetState, type CounterStore, type SettleSpec, type StoreOutcome, type WindowSpec, type WindowState } from './counter-store.ts';

interface Window { buckets: Map<number, number>; expiresAt: number }
interface BudgetCounter { spent: number; reserved: number; expiresAt: number }

/** Sum of the live buckets and the time until enough of them expire to fit `cost` under `limit`. */
export function windowState(buckets: Map<number, number>, now: number, bucketMs: number, windowMs: number, cost: number, limit: number): WindowState {
  const n = Math.round(windowMs / bucketMs);
  const current = bucketOf(now, bucketMs);
  let used = 0;
  const live: Array<[number, number]> = [];
  for (const [b, count] of buckets) {
    if (b > current - n) {
      used += count;
      if (count > 0) live.push([b, count]);
    } else buckets.delete(b);
  }
  live.sort((a, b) => a[0] - b[0]);
  const mustFree = Math.max(used + cost - limit, live.length ? 1 : 0);
  let freed = 0;
  let resetMs = 0;
  for (const [b, count] of live) {
    freed += count;
    resetMs = (b + n) * bucketMs - now;
    if (freed >= mustFree) break;
  }
  return { used, resetMs };
}

export class MemoryCounterStore implements CounterStore {
  private readonly windows = new Map<string, Window>();
  private readonly slots = new Map<string, Map<string, number>>();
  private readonly budgets = new Map<string, BudgetCounter>();
  private sweepAt = 0;

  async admit(plan: AdmitPlan): Promise<StoreOutcome> {
    const { now } = plan;
    this.sweep(now);
    const missing = plan.budgets.filter((b) => !this.liveBudget(b.key, now)).map((b) => b.key);
    if (missing.length) return { ok: false, kind: 'uninitialized', budgetKeys: missing };

    const states: WindowState[] = [];
    for (let i = 0; i < plan.windows.length; i++) {
      const w = plan.windows[i]!;
      const state = windowState(this.window(w, now).buckets, now, w.bucketMs, w.windowMs, w.cost, w.limit);
      if (state.used + w.cost > w.limit) return { ok: false, kind: 'window', index: i, state };
      states.push(state);
    }
    for (let i = 0; i < plan.slots.length; i++) {
      const s = plan.slots[i]!;
      const inFlight = this.leases(s.key, now).size;
      if (inFlight + 1 > s.limit) return { ok: false, kind: 'slot', index: i, inFlight };
    }
    for (let i = 0; i < plan.budgets.length; i++) {
      const b = plan.budgets[i]!;
      const c = this.budgets.get(b.key)!;
      if (b.hard && c.spent + c.reserved + b.reserveMicro > b.limitMicro) return { ok: false, kind: 'budget', index: i, state: { spentMicro: c.spent, reservedMicro: c.reserved } };
    }

    // Every level has room: charge them all.
    for (let i = 0; i < plan.windows.length; i++) {
      const w = plan.windows[i]!;
      const win = this.window(w, now);
      const b = bucketOf(now, w.bucketMs);
      win.buckets.set(b, (win.buckets.get(b) ?? 0) + w.cost);
      win.expiresAt = now + w.windowMs + w.bucketMs;
      states[i]!.used += w.cost;
    }
    for (const s of plan.slots) this.leases(s.key, now).set(s.leaseId, now + s.ttlMs);
    const budgets: BudgetState[] = plan.budgets.map((b) => {
      const c = this.budgets.get(b.key)!;
      c.reserved += b.reserveMicro;
      c.expiresAt = Math.max(c.expiresAt, now + b.ttlMs);
      return { spentMicro: c.spent, reservedMicro: c.reserved };
    });
    return { ok: true, windows: states, budgets };
  }

  async settle(spec: SettleSpec): Promise<void> {
    for (const w of spec.windows) {
      const win = this.windows.get(w.key);
      const count = win?.buckets.get(w.bucket);
      if (win && count !== undefined) win.buckets.set(w.bucket, Math.max(0, count + w.delta));
    }
    for (const s of spec.slots) this.slots.get(s.key)?.delete(s.leaseId);
    for (const b of spec.budgets) {
      const c = this.budgets.get(b.key);
      // A counter that expired meanwhile is rebuilt from the rollups, which include this request.
      if (!c) continue;
      c.reserved = Math.max(0, c.reserved - b.reservedMicro);
      c.spent += b.actualMicro;
    }
  }

  async initBudget(key: string, spentMicro: number, ttlMs: number, now: number): Promise<void> {
    if (!this.liveBudget(key, now)) this.budgets.set(key, { spent: spentMicro, reserved: 0, expiresAt: now + ttlMs });
  }

  async peek(windows: Array<Omit<WindowSpec, 'limit'>>, slots: string[], budgets: string[], now: number) {
    return {
      windows: windows.map((w) => {
        const win = this.windows.get(w.key);
        return win ? windowState(win.buckets, now, w.bucketMs, w.windowMs, 0, Number.MAX_SAFE_INTEGER) : { used: 0, resetMs: 0 };
      }),
      slots: slots.map((k) => this.leases(k, now).size),
      budgets: budgets.map((k) => {
        const c = this.liveBudget(k, now);
        return c ? { spentMicro: c.spent, reservedMicro: c.reserved } : undefined;
      }),
    };
  }

  async close(): Promise<void> {}

  private window(w: WindowSpec, now: number): Window {
    let win = this.windows.get(w.key);
    if (!win) this.windows.set(w.key, (win = { buckets: new Map(), expiresAt: now + w.windowMs + w.bucketMs }));
    return win;
  }

  private leases(key: string, now: number): Map<string, number> {
    let m = this.slots.get(key);
    if (!m) this.slots.set(key, (m = new Map()));
    for (const [id, until] of m) if (until <= now) m.delete(id);
    return m;
  }

  private liveBudget(key: string, now: number): BudgetCounter | undefined {
    const c = this.budgets.get(key);
    if (c && c.expiresAt <= now && c.reserved === 0) {
      this.budgets.delete(key);
      return undefined;
    }
    return c;
  }

  /** Drops idle windows and leases now and then, so memory follows live keys, not all keys ever seen. */
  private sweep(now: number): void {
    if (now < this.sweepAt) return;
    this.sweepAt = now + 10_000;
    for (const [k, w] of this.windows) if (w.expiresAt <= now) this.windows.delete(k);
    for (const [k, m] of this.slots) if (m.size === 0) this.slots.delete(k);
    for (const k of this.budgets.keys()) this.liveBudget(k, now);
  }
}
