// The counter store: where rate windows, concurrency slots and budget counters live.
// MemoryCounterStore (embedded, one process) and RedisCounterStore (cluster, one Lua script) both
// implement this and pass the same contract suite (test/counter-store.contract.ts).
//
// admit() is atomic and all-or-nothing: either every window, slot and budget in the plan has room
// and all of them are charged, or nothing is charged and the first refusal is reported.

export interface WindowSpec {
  key: string;
  windowMs: number;
  bucketMs: number;
  limit: number;
  /** 1 for request windows; the token upper bound for token windows */
  cost: number;
}

export interface SlotSpec {
  key: string;
  limit: number;
  /** unique per request, so a slot is released exactly once */
  leaseId: string;
  /** a lease a crashed replica never released expires after this long */
  ttlMs: number;
}

export interface BudgetSpec {
  /** includes the period, e.g. "bg:team:3:m2026-03" */
  key: string;
  limitMicro: number;
  reserveMicro: number;
  /** hard: refuse when spent + reserved + reserve > limit; soft: always admit (alerts only) */
  hard: boolean;
  /** counter lifetime (the period's remaining length plus a margin) */
  ttlMs: number;
}

export interface AdmitPlan {
  now: number;
  /**
   * The organization's shard (redis-keys.ts shardOf): a shared store keeps every key of the plan
   * on it (one hash slot on Redis Cluster). Absent: DEFAULT_SHARD.
   */
  shard?: string;
  /**
   * The same object for every plan built from the same policies (the engine's template): a shared
   * store sends what does not change between such plans (keys, limits, window sizes) once per
   * batch. Only an identity: never read.
   */
  template?: object;
  windows: WindowSpec[];
  slots: SlotSpec[];
  budgets: BudgetSpec[];
}

export interface WindowState {
  /** sum in the window after this request was charged (or, when refused, before) */
  used: number;
  /** ms until enough of the window has expired to admit a request of this cost */
  resetMs: number;
}

export interface BudgetState {
  spentMicro: number;
  reservedMicro: number;
}

export type StoreOutcome =
  | { ok: true; windows: WindowState[]; budgets: BudgetState[] }
  | { ok: false; kind: 'window'; index: number; state: WindowState }
  | { ok: false; kind: 'slot'; index: number; inFlight: number }
  | { ok: false; kind: 'budget'; index: number; state: BudgetState }
  /** these budget counters are not loaded yet: load them (initBudget) and admit again */
  | { ok: false; kind: 'uninitialized'; budgetKeys: string[] };

export interface SettleSpec {
  /** the shard of the plan it settles */
  shard?: string;
  /** token windows: replace the reserved cost by the actual one, in the bucket charged at admission */
  windows: Array<{ key: string; bucket: number; bucketMs: number; windowMs: number; delta: number }>;
  slots: Array<{ key: string; leaseId: string }>;
  budgets: Array<{ key: string; reservedMicro: number; actualMicro: number; ttlMs: number }>;
}

export interface CounterStore {
  /** In-process stores answer synchronously; shared ones with a promise. */
  admit(plan: AdmitPlan): StoreOutcome | Promise<StoreOutcome>;
  /** A shared store's promise resolves once the settlement is applied (the answer ends after it). */
  settle(spec: SettleSpec): void | Promise<void>;
  /** Sets a budget counter's spent amount if it is not loaded yet (another replica may have). */
  initBudget(key: string, spentMicro: number, ttlMs: number, now: number, shard?: string): Promise<void>;
  /** Current state, for explain endpoints. Budgets not loaded read as undefined. */
  peek(windows: Array<Omit<WindowSpec, 'limit'>>, slots: string[], budgets: string[], now: number, shard?: string): Promise<{ windows: WindowState[]; slots: number[]; budgets: Array<BudgetState | undefined> }>;
  /** Whether a shared store answers (for /readyz); absent for in-process stores. */
  ping?(): Promise<boolean>;
  close(): Promise<void>;
}

/** The bucket a moment falls in. */
export const bucketOf = (now: number, bucketMs: number): number => Math.floor(now / bucketMs);
