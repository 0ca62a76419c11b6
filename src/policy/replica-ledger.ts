// Cluster mode: what a replica that dies holds is given back by the others, without an operator.
//
// Every admission records in its replica's ledger (`<prefix>rep:<instance>`, written by the ADMIT
// script itself, see redis-lua.ts) the leases and reservations it took; settle removes them. Each
// replica beats (`<prefix>alive:<instance>`, expiring after 3 beats, and membership of
// `<prefix>replicas`) and, on every beat, looks for members whose alive key is gone: for each, one
// RELEASE script gives its leases and reservations back and forgets it, atomically and idempotently
// (replicas racing to release the same one release it once).
//
//   replica A ── beat every H ─► alive:A (PX 3H)        A is SIGKILLed: alive:A expires ≤ 3H later
//   replica B ── beat + sweep every H ─► replicas ∖ alive ─► RELEASE(A): ZREM leases, reserved −= ledger
//
// So a dead replica's slots and reservations are back within 4 heartbeats (8 s by default). What
// it cannot give back is the cost of what it had in flight: see docs/production.md, "Crashes".
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BEAT, RELEASE } from './redis-lua.ts';
import { evalScript, script } from './redis-eval.ts';

const SCRIPTS = { beat: script(BEAT), release: script(RELEASE) };

export interface ReplicaLedgerOptions {
  prefix: string;
  /** this process; random per start, so a restarted replica is a new one and releases the old */
  instance: string;
  /** beat and sweep interval; a replica silent for 3 of them is presumed dead */
  heartbeatMs: number;
  onError(err: unknown): void;
  /** this replica's own alive key had expired (an event loop stalled ≥ 3 beats): it was presumed dead */
  onPresumedDead?(): void;
  /** another replica was released: how many leases and reservations it held */
  onReleased?(instance: string, entries: number): void;
}

/** A fresh instance id: unique among the replicas that ever share a Redis. */
export const newInstanceId = (): string => randomBytes(8).toString('hex');

/** The ledger key of an instance, without the store's prefix (the counter store adds it). */
export const ledgerKey = (instance: string): string => `rep:${instance}`;

export class ReplicaLedger {
  private readonly redis: Redis;
  private readonly opts: ReplicaLedgerOptions;
  private timer: NodeJS.Timeout | undefined;
  private beats = 0;
  private sweeping = false;
  private readonly onReady = () => void this.beat();

  constructor(redis: Redis, opts: ReplicaLedgerOptions) {
    this.redis = redis;
    this.opts = opts;
  }

  private key(name: string, instance = this.opts.instance): string {
    return `${this.opts.prefix}${name}:${instance}`;
  }

  /**
   * Beats at once (and whenever the connection becomes ready, so the first beat goes out before
   * any admission on it: commands on one connection run in order), then every heartbeatMs.
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
      const was = Number(await evalScript(this.redis, SCRIPTS.beat, [this.key('alive'), this.opts.prefix + 'replicas'], [3 * this.opts.heartbeatMs, this.opts.instance]));
      if (this.beats++ > 0 && was === 0) this.opts.onPresumedDead?.();
    } catch (err) {
      this.opts.onError(err);
    }
  }

  /** Releases every replica whose alive key is gone; returns their instance ids. */
  async sweep(): Promise<string[]> {
    if (this.sweeping) return [];
    this.sweeping = true;
    try {
      const members = (await this.redis.smembers(this.opts.prefix + 'replicas')).filter((m) => m !== this.opts.instance);
      const alive = await Promise.all(members.map((m) => this.redis.exists(this.key('alive', m))));
      const released: string[] = [];
      for (const [i, m] of members.entries()) {
        if (alive[i] !== 0) continue;
        const entries = await this.release(m, false);
        if (entries < 0) continue;
        released.push(m);
        this.opts.onReleased?.(m, entries);
      }
      return released;
    } finally {
      this.sweeping = false;
    }
  }

  /** RELEASE for one instance: -1 if it turned out alive (unless forced), else the entries released. */
  private async release(instance: string, force: boolean): Promise<number> {
    const keys = [this.key('alive', instance), this.opts.prefix + ledgerKey(instance), this.opts.prefix + 'replicas'];
    return Number(await evalScript(this.redis, SCRIPTS.release, keys, [instance, force ? 1 : 0]));
  }

  /** A clean shutdown (after in-flight requests settled): stop beating, release whatever is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.redis.off('ready', this.onReady);
    if (this.redis.status !== 'ready') return;
    await this.release(this.opts.instance, true).catch(this.opts.onError);
  }
}
