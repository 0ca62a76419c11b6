// Counters in process memory, for embedded mode. JavaScript is single-threaded and admit() has no
// await between check and charge, so check-and-reserve across all levels is atomic.
//
// With a window rebuild (policy/window-rebuild.ts), a rate window this process does not hold yet,
// and whose span reaches back before this process started, is loaded with what earlier processes
// admitted in it before its first admission here — so windows survive restarts, graceful or
// kill -9. A plan that needs one waits for it (one load per window, shared); a plan whose windows
// are all held is answered synchronously, as before. Once a window's span starts after the start,
// a new window is simply empty: nothing is loaded.
import { bucketOf, type AdmitPlan, type BudgetState, type CounterStore, type SettleSpec, type StoreOutcome, type WindowSpec, type WindowState } from './counter-store.ts';
import type { WindowRebuild } from './window-rebuild.ts';

interface BudgetCounter { spent: number; reserved: number; expiresAt: number }

/**
 * One sliding window: a ring of `n` buckets with a running sum. Moving to a newer bucket expires
 * the buckets that fell out (amortized O(1)); reading the reset time scans at most n slots.
 */
export class Ring {
  readonly n: number;
  readonly bucketMs: number;
  private readonly ids: Float64Array;
  private readonly counts: Float64Array;
  private last = -Infinity;
  /** a lower bound of the oldest non-empty bucket: the reset scan starts here, not at the window's start */
  private firstHint = -Infinity;
  sum = 0;
  expiresAt = 0;

  constructor(windowMs: number, bucketMs: number) {
    this.n = Math.round(windowMs / bucketMs);
    this.bucketMs = bucketMs;
    this.ids = new Float64Array(this.n).fill(-1);
    this.counts = new Float64Array(this.n);
  }

  /** Moves the window to the bucket of `now`, expiring what fell out of it. */
  advance(now: number): void {
    const c = bucketOf(now, this.bucketMs);
    if (c <= this.last) return;
    const from = Math.max(this.last + 1, c - this.n + 1) - this.n;
    for (let b = from; b <= c - this.n; b++) this.drop(b);
    if (c - this.last >= this.n) {
      this.counts.fill(0);
      this.ids.fill(-1);
      this.sum = 0;
    }
    this.last = c;
  }

  private drop(b: number): void {
    const slot = ((b % this.n) + this.n) % this.n;
    if (this.ids[slot] === b) {
      this.sum -= this.counts[slot]!;
      this.counts[slot] = 0;
      this.ids[slot] = -1;
    }
  }

  /** Adds to the bucket of `now` (or of an admission still inside the window). */
  add(bucket: number, amount: number): void {
    if (bucket <= this.last - this.n) return; // already out of the window
    const slot = bucket % this.n;
    if (bucket < this.firstHint) this.firstHint = bucket;
    if (this.ids[slot] !== bucket) {
      this.ids[slot] = bucket;
      this.counts[slot] = 0;
    }
    const next = Math.max(0, this.counts[slot]! + amount);
    this.sum += next - this.counts[slot]!;
    this.counts[slot] = next;
  }

  /** The state for a request of `cost` under `limit`: used, and ms until enough has expired. */
  state(now: number, cost: number, limit: number): WindowState {
    const mustFree = Math.max(this.sum + cost - limit, this.sum > 0 ? 1 : 0);
    let freed = 0;
    let resetMs = 0;
    let oldest = -1;
    for (let b = Math.max(this.firstHint, this.last - this.n + 1); b <= this.last && freed < mustFree; b++) {
      const slot = b % this.n;
      if (this.ids[slot] !== b || this.counts[slot] === 0) continue;
      if (oldest === -1) oldest = b;
      freed += this.counts[slot]!;
      resetMs = (b + this.n) * this.bucketMs - now;
    }
    // Every bucket before `oldest` in the window is empty, and add() lowers the hint when needed.
    if (oldest !== -1) this.firstHint = oldest;
    return { used: this.sum, resetMs };
  }
}

export interface MemoryStoreOptions {
  /** loads what earlier processes admitted in a window this process does not hold */
  rebuild?: WindowRebuild;
}

export class MemoryCounterStore implements CounterStore {
  private readonly windows = new Map<string, Ring>();
  private readonly slots = new Map<string, Map<string, number>>();
  private readonly budgets = new Map<string, BudgetCounter>();
  private readonly rebuilder: WindowRebuild | undefined;
  private readonly loading = new Map<string, Promise<void>>();
  private sweepAt = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.rebuilder = opts.rebuild;
  }

  admit(plan: AdmitPlan): StoreOutcome | Promise<StoreOutcome> {
    return this.admitNow(plan, this.rebuilder !== undefined);
  }

  /** A window not held whose span reaches back before this process started (only then can the database add to it). */
  private mustLoad(w: Omit<WindowSpec, 'limit'>, now: number): boolean {
    if (!this.rebuilder || this.windows.has(w.key)) return false;
    const n = Math.round(w.windowMs / w.bucketMs);
    return (bucketOf(now, w.bucketMs) - n + 1) * w.bucketMs < this.rebuilder.since;
  }

  /** Loads the plan's windows that must be, then admits (synchronously, so still atomically). */
  private async loadThenAdmit(plan: AdmitPlan): Promise<StoreOutcome> {
    await Promise.all(plan.windows.filter((w) => this.mustLoad(w, plan.now)).map((w) => this.rebuild(w, plan.now)));
    return this.admitNow(plan, false);
  }

  /** One load per window at a time; the ring goes in only if none appeared meanwhile. */
  private rebuild(w: Omit<WindowSpec, 'limit'>, now: number): Promise<void> {
    let load = this.loading.get(w.key);
    if (!load) {
      load = this.rebuilder!.load(w, now)
        .then((buckets) => {
          if (this.windows.has(w.key)) return;
          const ring = new Ring(w.windowMs, w.bucketMs);
          ring.advance(now);
          const current = bucketOf(now, w.bucketMs);
          for (const [b, amount] of buckets) ring.add(Math.min(b, current), amount);
          ring.expiresAt = now + w.windowMs + w.bucketMs;
          this.windows.set(w.key, ring);
        })
        .finally(() => this.loading.delete(w.key));
      this.loading.set(w.key, load);
    }
    return load;
  }

  private admitNow(plan: AdmitPlan, mayLoad: boolean): StoreOutcome | Promise<StoreOutcome> {
    const { now } = plan;
    this.sweep(now);
    // Each counter is looked up once and kept for the check and the charge.
    const counters: BudgetCounter[] = [];
    let missing: string[] | undefined;
    for (const b of plan.budgets) {
      const c = this.liveBudget(b.key, now);
      if (c) counters.push(c);
      else (missing ??= []).push(b.key);
    }
    if (missing) return { ok: false, kind: 'uninitialized', budgetKeys: missing };

    const rings: Ring[] = [];
    const states: WindowState[] = [];
    for (let i = 0; i < plan.windows.length; i++) {
      const w = plan.windows[i]!;
      const ring = this.window(w, now, mayLoad);
      if (!ring) return this.loadThenAdmit(plan);
      const state = ring.state(now, w.cost, w.limit);
      if (state.used + w.cost > w.limit) return { ok: false, kind: 'window', index: i, state };
      rings.push(ring);
      states.push(state);
    }
    const leases: Array<Map<string, number>> = [];
    for (let i = 0; i < plan.slots.length; i++) {
      const s = plan.slots[i]!;
      const m = this.leases(s.key);
      // Leases of requests that never settled (a bug, a crash) expire: look for them only when full.
      const inFlight = m.size + 1 > s.limit ? this.expireLeases(s.key, now) : m.size;
      if (inFlight + 1 > s.limit) return { ok: false, kind: 'slot', index: i, inFlight };
      leases.push(m);
    }
    for (let i = 0; i < plan.budgets.length; i++) {
      const b = plan.budgets[i]!;
      const c = counters[i]!;
      if (b.hard && c.spent + c.reserved + b.reserveMicro > b.limitMicro) return { ok: false, kind: 'budget', index: i, state: { spentMicro: c.spent, reservedMicro: c.reserved } };
    }

    // Every level has room: charge them all.
    for (let i = 0; i < plan.windows.length; i++) {
      const w = plan.windows[i]!;
      rings[i]!.add(bucketOf(now, w.bucketMs), w.cost);
      rings[i]!.expiresAt = now + w.windowMs + w.bucketMs;
      states[i]!.used += w.cost;
    }
    for (let i = 0; i < plan.slots.length; i++) leases[i]!.set(plan.slots[i]!.leaseId, now + plan.slots[i]!.ttlMs);
    const budgets: BudgetState[] = [];
    for (let i = 0; i < plan.budgets.length; i++) {
      const b = plan.budgets[i]!;
      const c = counters[i]!;
      c.reserved += b.reserveMicro;
      if (c.expiresAt < now + b.ttlMs) c.expiresAt = now + b.ttlMs;
      budgets.push({ spentMicro: c.spent, reservedMicro: c.reserved });
    }
    return { ok: true, windows: states, budgets };
  }

  settle(spec: SettleSpec): void {
    for (const w of spec.windows) {
      this.windows.get(w.key)?.add(w.bucket, w.delta);
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
    await Promise.all(windows.filter((w) => this.mustLoad(w, now)).map((w) => this.rebuild(w, now)));
    return {
      windows: windows.map((w) => {
        const win = this.windows.get(w.key);
        if (!win) return { used: 0, resetMs: 0 };
        win.advance(now);
        return win.state(now, 0, Number.MAX_SAFE_INTEGER);
      }),
      slots: slots.map((k) => this.expireLeases(k, now)),
      budgets: budgets.map((k) => {
        const c = this.liveBudget(k, now);
        return c ? { spentMicro: c.spent, reservedMicro: c.reserved } : undefined;
      }),
    };
  }

  async close(): Promise<void> {}

  /** The window's ring, moved to now; undefined when it is not held and must be loaded first. */
  private window(w: WindowSpec, now: number, mayLoad: boolean): Ring | undefined {
    let win = this.windows.get(w.key);
    if (!win || win.n !== Math.round(w.windowMs / w.bucketMs)) {
      if (mayLoad && this.mustLoad(w, now)) return undefined;
      win = new Ring(w.windowMs, w.bucketMs);
      win.expiresAt = now + w.windowMs + w.bucketMs;
      this.windows.set(w.key, win);
    }
    win.advance(now);
    return win;
  }

  private leases(key: string): Map<string, number> {
    let m = this.slots.get(key);
    if (!m) this.slots.set(key, (m = new Map()));
    return m;
  }

  private expireLeases(key: string, now: number): number {
    const m = this.leases(key);
    for (const [id, until] of m) if (until <= now) m.delete(id);
    return m.size;
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
    for (const [k, m] of this.slots) if (this.expireLeases(k, now) === 0) this.slots.delete(k);
    for (const k of this.budgets.keys()) this.liveBudget(k, now);
  }
}
