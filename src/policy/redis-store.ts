// Counters in Redis, for cluster mode: every replica admits against the same windows, slots and
// budgets. Each operation is ONE round trip: a Lua script (redis-lua.ts) run by EVALSHA, falling
// back to EVAL when Redis does not know the script yet (first use, or after a restart).
//
// All keys of a plan go to one script, so on Redis Cluster they would have to share a hash slot
// (a prefix with a hash tag, e.g. "{tg}:"); a single Redis / Valkey (with replicas) is the
// supported deployment. See docs/production.md.
//
// Admit and settle also keep this process's ledger (one more key per script call, no more round
// trips): what it holds, so that if it dies the other replicas give it back (replica-ledger.ts).
import type { Redis } from 'ioredis';
import { bucketOf, type AdmitPlan, type BudgetState, type CounterStore, type SettleSpec, type StoreOutcome, type WindowSpec, type WindowState } from './counter-store.ts';
import { ADMIT, INIT_BUDGET, PEEK, SETTLE } from './redis-lua.ts';
import { evalScript, script, type Reply, type Script } from './redis-eval.ts';
import { ledgerKey, newInstanceId, ReplicaLedger, type ReplicaLedgerOptions } from './replica-ledger.ts';
import { closeRedis, pingRedis } from '../redis.ts';

const SCRIPTS = { admit: script(ADMIT), settle: script(SETTLE), init: script(INIT_BUDGET), peek: script(PEEK) };

export interface RedisCounterStoreOptions {
  prefix?: string;
  /** this process's id in the ledger (default: a new random one) */
  instance?: string;
  /** beat and release dead replicas (cluster replicas do; a store used alone in a test need not) */
  ledger?: Pick<ReplicaLedgerOptions, 'heartbeatMs' | 'onError' | 'onPresumedDead' | 'onReleased'>;
}

export class RedisCounterStore implements CounterStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  readonly instance: string;
  private readonly ledgerKey: string;
  readonly ledger: ReplicaLedger | undefined;

  /** Takes ownership of the connection: close() closes it. */
  constructor(redis: Redis, opts: RedisCounterStoreOptions = {}) {
    this.redis = redis;
    this.prefix = opts.prefix ?? 'tg:';
    this.instance = opts.instance ?? newInstanceId();
    this.ledgerKey = ledgerKey(this.instance);
    if (opts.ledger) {
      this.ledger = new ReplicaLedger(redis, { ...opts.ledger, prefix: this.prefix, instance: this.instance });
      this.ledger.start();
    }
  }

  async admit(plan: AdmitPlan): Promise<StoreOutcome> {
    const keys = [...plan.windows.map((w) => w.key), ...plan.slots.map((s) => s.key), ...plan.budgets.map((b) => b.key), this.ledgerKey];
    const args: Array<string | number> = [plan.now, plan.windows.length, plan.slots.length, plan.budgets.length];
    for (const w of plan.windows) args.push(w.windowMs, w.bucketMs, w.limit, w.cost, bucketOf(plan.now, w.bucketMs));
    for (const s of plan.slots) args.push(s.limit, s.leaseId, plan.now + s.ttlMs, s.ttlMs);
    for (const b of plan.budgets) args.push(b.limitMicro, b.reserveMicro, b.hard ? 1 : 0, b.ttlMs);
    const r = await this.run(SCRIPTS.admit, keys, args);
    if (r[0] === 1) {
      const n = (i: number) => Number(r[i]);
      const windows: WindowState[] = plan.windows.map((_, i) => ({ used: n(1 + 2 * i), resetMs: n(2 + 2 * i) }));
      const at = 1 + 2 * plan.windows.length;
      const budgets: BudgetState[] = plan.budgets.map((_, i) => ({ spentMicro: n(at + 2 * i), reservedMicro: n(at + 1 + 2 * i) }));
      return { ok: true, windows, budgets };
    }
    const index = Number(r[2]);
    switch (r[1]) {
      case 'u':
        return { ok: false, kind: 'uninitialized', budgetKeys: r.slice(2).map((i) => plan.budgets[Number(i)]!.key) };
      case 'w':
        return { ok: false, kind: 'window', index, state: { used: Number(r[3]), resetMs: Number(r[4]) } };
      case 's':
        return { ok: false, kind: 'slot', index, inFlight: Number(r[3]) };
      case 'b':
        return { ok: false, kind: 'budget', index, state: { spentMicro: Number(r[3]), reservedMicro: Number(r[4]) } };
      default:
        throw new Error(`unexpected admit reply from Redis: ${JSON.stringify(r)}`);
    }
  }

  /**
   * Settlements are not on any request's critical path: those issued in the same tick are merged
   * into one script call (the settle script applies its entries in order, repeated keys included),
   * which halves the commands per request under load.
   */
  settle(spec: SettleSpec): Promise<void> {
    if (spec.windows.length + spec.slots.length + spec.budgets.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pendingSettles.push({ spec, resolve, reject });
      if (this.pendingSettles.length === 1) setImmediate(() => this.flushSettles());
    });
  }

  private pendingSettles: Array<{ spec: SettleSpec; resolve(): void; reject(err: unknown): void }> = [];
  /** settle scripts sent and not answered yet (close() waits for them) */
  private readonly flushing = new Set<Promise<void>>();

  private flushSettles(): void {
    const all = this.pendingSettles;
    this.pendingSettles = [];
    for (let i = 0; i < all.length; i += 64) {
      const group = all.slice(i, i + 64);
      const merged: SettleSpec = { windows: [], slots: [], budgets: [] };
      for (const { spec } of group) {
        merged.windows.push(...spec.windows);
        merged.slots.push(...spec.slots);
        merged.budgets.push(...spec.budgets);
      }
      const flushing = this.settleNow(merged).then(
        () => group.forEach((g) => g.resolve()),
        (err) => group.forEach((g) => g.reject(err)),
      );
      this.flushing.add(flushing);
      void flushing.finally(() => this.flushing.delete(flushing));
    }
  }

  private async settleNow(spec: SettleSpec): Promise<void> {
    const keys = [...spec.windows.map((w) => w.key), ...spec.slots.map((s) => s.key), ...spec.budgets.map((b) => b.key), this.ledgerKey];
    const args: Array<string | number> = [spec.windows.length, spec.slots.length, spec.budgets.length];
    for (const w of spec.windows) args.push(w.bucket, w.delta);
    for (const s of spec.slots) args.push(s.leaseId);
    for (const b of spec.budgets) args.push(b.reservedMicro, b.actualMicro);
    await this.run(SCRIPTS.settle, keys, args);
  }

  async initBudget(key: string, spentMicro: number, ttlMs: number): Promise<void> {
    await this.run(SCRIPTS.init, [key], [spentMicro, ttlMs]);
  }

  async peek(windows: Array<Omit<WindowSpec, 'limit'>>, slots: string[], budgets: string[], now: number) {
    const keys = [...windows.map((w) => w.key), ...slots, ...budgets];
    const args: Array<string | number> = [now, windows.length, slots.length, budgets.length];
    for (const w of windows) args.push(w.windowMs, w.bucketMs, bucketOf(now, w.bucketMs));
    const r = (await this.run(SCRIPTS.peek, keys, args)).map(Number);
    const at = 2 * windows.length;
    const bt = at + slots.length;
    return {
      windows: windows.map((_, i) => ({ used: r[2 * i]!, resetMs: r[2 * i + 1]! })),
      slots: slots.map((_, i) => r[at + i]!),
      budgets: budgets.map((_, i): BudgetState | undefined => (r[bt + 3 * i] === 1 ? { spentMicro: r[bt + 3 * i + 1]!, reservedMicro: r[bt + 3 * i + 2]! } : undefined)),
    };
  }

  ping(): Promise<boolean> {
    return pingRedis(this.redis);
  }

  /** Sends the settlements still queued, waits for them, releases what the ledger still holds, closes. */
  async close(): Promise<void> {
    if (this.pendingSettles.length) this.flushSettles();
    await Promise.allSettled([...this.flushing]);
    await this.ledger?.stop();
    await closeRedis(this.redis);
  }

  private run(s: Script, keys: string[], args: Array<string | number>): Promise<Reply> {
    return evalScript(this.redis, s, keys.map((k) => this.prefix + k), args);
  }
}
