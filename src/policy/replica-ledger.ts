// Cluster mode: what a replica that dies holds is given back by the others, without an operator.
//
// Every admission records in its replica's ledger on the shard (`<prefix>{<shard>}:rep:<instance>`,
// written by the BATCH script itself, see redis-batch-lua.ts) the leases and reservations it took; settle
// removes them. Each replica beats (`<prefix>alive:<instance>`, expiring after 3 beats, and
// membership of `<prefix>replicas`), lists the shards it has ledgers on (`<prefix>shards:<instance>`)
// and, on every beat, looks for members whose alive key is gone: for each, one RELEASE_LEDGER
// script per shard gives its leases and reservations back, then the replica is forgotten. Release
// is idempotent (replicas racing to release the same one release it once).
//
//   replica A ── beat every H ─► alive:A (PX 3H)        A is SIGKILLed: alive:A expires ≤ 3H later
//   replica B ── beat + sweep every H ─► replicas ∖ alive ─► RELEASE_LEDGER({shard}:rep:A) per shard
//
// Each of these is a one-key command or a script on one shard's keys, as Redis Cluster requires.
// So a dead replica's slots are back within 4 heartbeats (8 s by default), and its reservations are
// charged as spend: they cover what it had in flight and the settlements it had not sent yet (see
// docs/production.md, "Crashes").
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis.ts';
import { RELEASE_LEDGER } from './redis-lua.ts';
import { evalScript, script, type Reply } from './redis-eval.ts';
import { aliveKey, ledgerKey, replicasKey, shardsKey } from './redis-keys.ts';

const SCRIPTS = { release: script(RELEASE_LEDGER) };

export interface ReplicaLedgerOptions {
  prefix: string;
  /** this process; random per start, so a restarted replica is a new one and releases the old */
  instance: string;
  /** beat and sweep interval; a replica silent for 3 of them is presumed dead */
  heartbeatMs: number;
  /** the shards this replica has (or may have) a ledger on: the counter store's own list, read on every beat */
  shards: ReadonlySet<string>;
  onError(err: unknown): void;
  /** this replica's own alive key had expired (an event loop stalled ≥ 3 beats): it was presumed dead */
  onPresumedDead?(): void;
  /** another replica was released: how many leases and reservations it held, and the micro-USD of reservations charged */
  onReleased?(instance: string, entries: number, chargedMicro: number): void;
}

/** A fresh instance id: unique among the replicas that ever share a Redis. */
export const newInstanceId = (): string => randomBytes(8).toString('hex');

/** The prefix of a replica's lease members in the slot sets: how a release tells its leases apart. */
export const leaseOwner = (instance: string): string => `${instance}:`;

export class ReplicaLedger {
  private readonly redis: RedisClient;
  private readonly opts: ReplicaLedgerOptions;
  private timer: NodeJS.Timeout | undefined;
  private beats = 0;
  private sweeping = false;
  private readonly onReady = () => void this.beat();

  constructor(redis: RedisClient, opts: ReplicaLedgerOptions) {
    this.redis = redis;
    this.opts = opts;
  }

  /**
   * Beats at once (and whenever the connection becomes ready, so the first beat goes out before
   * any admission on it), then every heartbeatMs.
   */
  start(): void {
    if (this.timer) return;
    this.redis.on('ready', this.onReady);
    if (this.redis.status === 'ready') void this.beat();
    this.timer = setInterval(() => void this.tick(), this.opts.heartbeatMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    await this.beat();
    await this.sweep().catch(this.opts.onError);
  }

  async beat(): Promise<void> {
    try {
      const { prefix, instance } = this.opts;
      // SET … GET: whether the alive key was still there (null: first beat, or presumed dead and released meanwhile).
      const was = await this.redis.set(aliveKey(prefix, instance), '1', 'PX', 3 * this.opts.heartbeatMs, 'GET');
      await this.redis.sadd(replicasKey(prefix), instance);
      // Listed again on every beat: a release (presumed dead) deleted the list; a failed SADD is retried.
      if (this.opts.shards.size > 0) await this.redis.sadd(shardsKey(prefix, instance), ...this.opts.shards);
      if (this.beats++ > 0 && was === null) this.opts.onPresumedDead?.();
    } catch (err) {
      this.opts.onError(err);
    }
  }

  /** Releases every replica whose alive key is gone; returns their instance ids. */
  async sweep(): Promise<string[]> {
    if (this.sweeping) return [];
    this.sweeping = true;
    try {
      const { prefix } = this.opts;
      const members = (await this.redis.smembers(replicasKey(prefix))).filter((m) => m !== this.opts.instance);
      const alive = await Promise.all(members.map((m) => this.redis.exists(aliveKey(prefix, m))));
      const released: string[] = [];
      for (const [i, m] of members.entries()) {
        if (alive[i] !== 0) continue;
        const { entries, chargedMicro } = await this.release(m, await this.redis.smembers(shardsKey(prefix, m)));
        await this.redis.del(shardsKey(prefix, m));
        await this.redis.srem(replicasKey(prefix), m);
        released.push(m);
        this.opts.onReleased?.(m, entries, chargedMicro);
      }
      return released;
    } finally {
      this.sweeping = false;
    }
  }

  /** RELEASE_LEDGER for one instance on each of its shards: the entries released, the reservations charged. */
  private async release(instance: string, shards: Iterable<string>): Promise<{ entries: number; chargedMicro: number }> {
    let entries = 0;
    let chargedMicro = 0;
    for (const shard of shards) {
      const r = await evalScript<Reply>(this.redis, SCRIPTS.release, [ledgerKey(this.opts.prefix, shard, instance)], [leaseOwner(instance)]);
      entries += Number(r[0]);
      chargedMicro += Number(r[1]);
    }
    return { entries, chargedMicro };
  }

  /** A clean shutdown (after in-flight requests settled): stop beating, release whatever is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.redis.off('ready', this.onReady);
    if (this.redis.status !== 'ready') return;
    const { prefix, instance } = this.opts;
    try {
      await this.release(instance, this.opts.shards);
      await this.redis.del(aliveKey(prefix, instance));
      await this.redis.del(shardsKey(prefix, instance));
      await this.redis.srem(replicasKey(prefix), instance);
    } catch (err) {
      this.opts.onError(err);
    }
  }
}
