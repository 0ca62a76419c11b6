// Counters in Redis, for cluster mode: every replica admits against the same windows, slots and
// budgets. Admissions and settlements are BATCHED: the admissions and settlements this process
// issues for one shard in one event-loop turn go to Redis as ONE script call
// (redis-batch-lua.ts), which applies the settlements and then the admissions in order, each
// all-or-nothing — the outcome of running them one by one, at one round trip and one script
// invocation per turn instead of two per request. Each counter the batch touches is read and
// written once, and what does not change between requests of the same policies (keys, limits,
// window sizes) is sent once per batch.
//
//   request ─ admit(plan) ─┐                                          ┌─ outcome ─► request
//   request ─ admit(plan) ─┼─ queue[shard] ─ end of turn ─ EVALSHA BATCH ─┤
//   request ─ settle(spec) ┘   (one per shard)                        └─ applied ─► answer ends
//
// Every key carries its organization's hash tag (redis-keys.ts). On a single Redis one call carries
// every organization's operations of the turn; on Redis Cluster, where a script may only touch one
// slot, there is one call per organization (shard) of the turn.
//
// Admit and settle also keep this process's ledger on the shard (one more key per batch, no more
// round trips): what it holds, so that if it dies the other replicas release it (replica-ledger.ts).
//
// A settlement WITHIN its reservation (no actual above what admission reserved) is not waited for:
// it rides with the shard's next admissions, or goes on its own after settleDelayMs. Until then
// Redis holds more than was used (the reservation, the lease), never less, so every limit and
// budget stays on the safe side; and if this process dies first, its ledger's reservations are
// charged as spend (RELEASE_LEDGER), which covers the actual cost its log rows will show. At low
// rates this halves the round trips per request. A settlement beyond its reservation (an actual
// above the estimate) is sent this turn and the answer waits for it, as before. A client that keeps
// exactly its concurrency limit in flight across replicas could find, for those milliseconds, the
// lease of its previous request still held by another replica: an admission refused by a
// concurrency slot is asked again once, after twice the delay, before the refusal is given.
import { bucketOf, type AdmitPlan, type BudgetState, type CounterStore, type SettleSpec, type StoreOutcome, type WindowSpec, type WindowState } from './counter-store.ts';
import { BATCH } from './redis-batch-lua.ts';
import { INIT_BUDGET, PEEK } from './redis-lua.ts';
import { evalScript, script, type NestedReply, type Reply, type Script } from './redis-eval.ts';
import { counterKey, DEFAULT_SHARD, ledgerKey, shardsKey } from './redis-keys.ts';
import { leaseOwner, newInstanceId, ReplicaLedger, type ReplicaLedgerOptions } from './replica-ledger.ts';
import { closeRedis, pingRedis, type RedisClient } from '../redis.ts';

const SCRIPTS = { batch: script(BATCH), init: script(INIT_BUDGET), peek: script(PEEK) };

/** Most operations per script call: bounds the time one call holds Redis (and Lua's unpack limits). */
const MAX_BATCH = 128;

/** How long a settlement within its reservation waits for an admission to ride with. */
const SETTLE_DELAY_MS = 5;

export interface RedisCounterStoreOptions {
  prefix?: string;
  /** this process's id in the ledger (default: a new random one) */
  instance?: string;
  /** beat and release dead replicas (cluster replicas do; a store used alone in a test need not) */
  ledger?: Pick<ReplicaLedgerOptions, 'heartbeatMs' | 'onError' | 'onPresumedDead' | 'onReleased'>;
  /**
   * How long a settlement within its reservation may wait for the shard's next admissions
   * (default 5 ms); 0 sends every settlement in the turn it is made, and the answer waits for it.
   */
  settleDelayMs?: number;
  /** a settlement nobody waits for could not be applied (its reservation stays held) */
  onError?(err: unknown): void;
}

interface PendingAdmit { plan: AdmitPlan; resolve(o: StoreOutcome): void; reject(err: unknown): void; asked?: boolean }
interface PendingSettle { spec: SettleSpec; resolve(): void; reject(err: unknown): void }
/** One script call's worth: `later` holds settlements within their reservation, nobody waiting on them. */
interface Queue { admits: PendingAdmit[]; settles: PendingSettle[]; later: PendingSettle[] }

export class RedisCounterStore implements CounterStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  readonly instance: string;
  readonly ledger: ReplicaLedger | undefined;
  /** the shards this process has used: its ledgers live there (the ledger lists them again on every beat) */
  private readonly shards = new Set<string>();
  private queues = new Map<string, Queue>();
  private scheduled = false;
  private readonly settleDelayMs: number;
  private readonly onError: (err: unknown) => void;
  /** the timer that sends settlements no admission took along; it sends everything queued */
  private laterTimer: NodeJS.Timeout | undefined;
  /** script calls sent and not answered yet (close() waits for them) */
  private readonly inFlight = new Set<Promise<void>>();

  /** Redis Cluster: one script call per shard, not one for every shard of the turn. */
  private readonly perShard: boolean;

  /** Takes ownership of the connection: close() closes it. */
  constructor(redis: RedisClient, opts: RedisCounterStoreOptions = {}) {
    this.redis = redis;
    this.perShard = redis.isCluster;
    this.prefix = opts.prefix ?? 'tg:';
    this.instance = opts.instance ?? newInstanceId();
    this.settleDelayMs = opts.settleDelayMs ?? SETTLE_DELAY_MS;
    this.onError = opts.onError ?? (() => {});
    if (opts.ledger) {
      this.ledger = new ReplicaLedger(redis, { ...opts.ledger, prefix: this.prefix, instance: this.instance, shards: this.shards });
      this.ledger.start();
    }
  }

  admit(plan: AdmitPlan): Promise<StoreOutcome> {
    return new Promise((resolve, reject) => {
      this.queue(plan.shard).admits.push({ plan, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Beyond its reservation, it goes with this turn's batch, like an admission, and the answer ends
   * only once Redis has applied it (pipeline.ts): a process killed at any moment never leaves the
   * shared counter below the spend its log will show. Within its reservation it is applied later
   * (see the top of this file) and nobody waits: returns undefined.
   */
  settle(spec: SettleSpec): Promise<void> | undefined {
    if (spec.windows.length + spec.slots.length + spec.budgets.length === 0) return undefined;
    if (this.settleDelayMs > 0 && withinReservation(spec)) {
      this.queue(spec.shard).later.push({ spec, resolve: noop, reject: this.onError });
      this.laterTimer ??= setTimeout(this.flushAll, this.settleDelayMs);
      return undefined;
    }
    return new Promise((resolve, reject) => {
      this.queue(spec.shard).settles.push({ spec, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /**
   * The queue of the script call an operation goes in: one per shard on Redis Cluster (a script
   * may only touch one slot there), one for everything on a single Redis.
   */
  private queue(shard = DEFAULT_SHARD): Queue {
    if (!this.shards.has(shard)) {
      // Listed before its first batch, so that a release of this replica finds its ledger there.
      this.shards.add(shard);
      this.redis.sadd(shardsKey(this.prefix, this.instance), shard).catch(() => this.shards.delete(shard));
    }
    const group = this.perShard ? shard : '';
    let q = this.queues.get(group);
    if (!q) {
      q = { admits: [], settles: [], later: [] };
      this.queues.set(group, q);
    }
    return q;
  }

  /**
   * Sends every queued operation: one script call per queue (per MAX_BATCH operations). A queue
   * holding only settlements within their reservation waits for an admission, or for the timer
   * (`all`).
   */
  private readonly flush = (all = false): void => {
    this.scheduled = false;
    const queues = this.queues;
    this.queues = new Map();
    let waiting = false;
    for (const [group, q] of queues) {
      if (!all && q.admits.length + q.settles.length === 0) {
        this.queues.set(group, q);
        waiting = true;
        continue;
      }
      const settles = q.later.length === 0 ? q.settles : q.later.concat(q.settles);
      let a = 0;
      let s = 0;
      while (a < q.admits.length || s < settles.length) {
        const these = settles.slice(s, s + MAX_BATCH);
        s += these.length;
        const admits = q.admits.slice(a, a + MAX_BATCH - these.length);
        a += admits.length;
        const sent = this.send(admits, these);
        this.inFlight.add(sent);
        void sent.finally(() => this.inFlight.delete(sent));
      }
    }
    // Every waiting settlement went with an admission: no call (and no wake-up) on their account.
    if (!waiting && this.laterTimer) this.cancelLater();
  };

  /** Sends everything queued, settlements waiting for an admission included. */
  private readonly flushAll = (): void => {
    this.cancelLater();
    this.flush(true);
  };

  private cancelLater(): void {
    clearTimeout(this.laterTimer);
    this.laterTimer = undefined;
  }

  private async send(admits: PendingAdmit[], settles: PendingSettle[]): Promise<void> {
    let replies: NestedReply;
    try {
      const { keys, args } = encodeBatch(this.prefix, this.instance, admits, settles);
      replies = await evalScript<NestedReply>(this.redis, SCRIPTS.batch, keys, args);
    } catch (err) {
      for (const p of admits) p.reject(err);
      for (const p of settles) p.reject(err);
      return;
    }
    for (const p of settles) p.resolve();
    for (let i = 0; i < admits.length; i++) {
      const p = admits[i]!;
      try {
        const outcome = decodeOutcome(p.plan, replies[i]!);
        if (!outcome.ok && outcome.kind === 'slot' && this.settleDelayMs > 0 && !p.asked) {
          p.asked = true;
          setTimeout(() => this.requeue(p), 2 * this.settleDelayMs);
        } else {
          p.resolve(outcome);
        }
      } catch (err) {
        p.reject(err);
      }
    }
  }

  /** An admission asked again (see the top of this file). */
  private requeue(p: PendingAdmit): void {
    this.queue(p.plan.shard).admits.push(p);
    this.schedule();
  }

  async initBudget(key: string, spentMicro: number, ttlMs: number, _now?: number, shard = DEFAULT_SHARD): Promise<void> {
    await evalScript(this.redis, SCRIPTS.init, [counterKey(this.prefix, shard, key)], [spentMicro, ttlMs]);
  }

  /** What it reads includes every settlement made before it: those waiting for an admission go first, on the same connection. */
  async peek(windows: Array<Omit<WindowSpec, 'limit'>>, slots: string[], budgets: string[], now: number, shard = DEFAULT_SHARD) {
    if (this.laterTimer) this.flushAll();
    const keys = [...windows.map((w) => w.key), ...slots, ...budgets].map((k) => counterKey(this.prefix, shard, k));
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

  /** Sends what is still queued, waits for it, releases what the ledger still holds, closes. */
  async close(): Promise<void> {
    this.flushAll();
    await Promise.allSettled([...this.inFlight]);
    await this.ledger?.stop();
    await closeRedis(this.redis);
  }

  private run(s: Script, keys: string[], args: Array<string | number>): Promise<Reply> {
    return evalScript(this.redis, s, keys, args);
  }
}

const noop = (): void => {};

/** Whether what Redis holds for the request (reservations, token charges) covers its actual use. */
function withinReservation(spec: SettleSpec): boolean {
  for (const b of spec.budgets) if (b.actualMicro > b.reservedMicro) return false;
  for (const w of spec.windows) if (w.delta > 0) return false;
  return true;
}

/**
 * The BATCH script's KEYS and ARGV (layout in redis-batch-lua.ts). Keys are sent once each and named by
 * their index; plans from the same template share one template entry while their budget keys
 * (which change with the period) are the same.
 */
function encodeBatch(prefix: string, instance: string, admits: PendingAdmit[], settles: PendingSettle[]): { keys: string[]; args: Array<string | number> } {
  const keys: string[] = [];
  const mine = leaseOwner(instance);
  const index = new Map<string, number>();
  const add = (full: string): number => {
    let i = index.get(full);
    if (i === undefined) {
      i = keys.push(full);
      index.set(full, i);
    }
    return i;
  };
  const templates: Array<string | number> = [];
  const seen = new Map<object, { at: number; plan: AdmitPlan }>();
  let nTemplates = 0;
  const templateOf = (plan: AdmitPlan): number => {
    const known = plan.template && seen.get(plan.template);
    if (known && sameShape(known.plan, plan)) return known.at;
    const at = ++nTemplates;
    if (plan.template && !known) seen.set(plan.template, { at, plan });
    const shard = plan.shard ?? DEFAULT_SHARD;
    const k = (key: string) => add(counterKey(prefix, shard, key));
    templates.push(add(ledgerKey(prefix, shard, instance)), plan.windows.length, plan.slots.length, plan.budgets.length);
    for (const w of plan.windows) templates.push(k(w.key), Math.round(w.windowMs / w.bucketMs), w.bucketMs, w.limit);
    for (const s of plan.slots) templates.push(k(s.key), s.limit, s.ttlMs);
    for (const b of plan.budgets) templates.push(k(b.key), b.limitMicro, b.hard ? 1 : 0);
    return at;
  };

  const ops: Array<string | number> = [settles.length];
  for (const { spec } of settles) {
    const shard = spec.shard ?? DEFAULT_SHARD;
    const k = (key: string) => add(counterKey(prefix, shard, key));
    ops.push(add(ledgerKey(prefix, shard, instance)), spec.windows.length, spec.slots.length, spec.budgets.length);
    for (const w of spec.windows) ops.push(k(w.key), Math.round(w.windowMs / w.bucketMs), w.bucket, w.delta);
    for (const s of spec.slots) ops.push(k(s.key), mine + s.leaseId);
    for (const b of spec.budgets) ops.push(k(b.key), b.reservedMicro, b.actualMicro);
  }
  ops.push(admits.length);
  let newest = 0;
  for (const { plan } of admits) {
    if (plan.now > newest) newest = plan.now;
    ops.push(templateOf(plan), plan.now);
    for (const w of plan.windows) ops.push(w.cost);
    for (const b of plan.budgets) ops.push(b.reserveMicro);
    for (const s of plan.slots) ops.push(mine + s.leaseId);
  }
  // Everything but the first two travels as one JSON array: serializing it natively and decoding it
  // in one C call (cjson) costs both sides far less than a Redis argument per value.
  const body: Array<string | number> = [nTemplates];
  for (const t of templates) body.push(t);
  for (const o of ops) body.push(o);
  return { keys, args: [newest || Date.now(), mine, JSON.stringify(body)] };
}

/** Whether two plans of one template have the same counters and limits (a new period changes budget keys). */
function sameShape(a: AdmitPlan, b: AdmitPlan): boolean {
  if (a.budgets.length !== b.budgets.length || a.slots.length !== b.slots.length || a.windows.length !== b.windows.length) return false;
  for (let i = 0; i < a.budgets.length; i++) if (a.budgets[i]!.key !== b.budgets[i]!.key || a.budgets[i]!.limitMicro !== b.budgets[i]!.limitMicro) return false;
  for (let i = 0; i < a.slots.length; i++) if (a.slots[i]!.ttlMs !== b.slots[i]!.ttlMs) return false;
  return true;
}

function decodeOutcome(plan: AdmitPlan, r: Reply): StoreOutcome {
  if (r[0] === 1) {
    const windows: WindowState[] = new Array(plan.windows.length);
    for (let i = 0; i < windows.length; i++) windows[i] = { used: Number(r[1 + 2 * i]), resetMs: Number(r[2 + 2 * i]) };
    const at = 1 + 2 * plan.windows.length;
    const budgets: BudgetState[] = new Array(plan.budgets.length);
    for (let i = 0; i < budgets.length; i++) budgets[i] = { spentMicro: Number(r[at + 2 * i]), reservedMicro: Number(r[at + 1 + 2 * i]) };
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
