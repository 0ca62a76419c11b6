// Bounded cache of KeyContexts by secret hash, plus a short-lived negative cache for unknown hashes
// (so a flood of well-formed but unknown keys does not become a flood of queries).
// Entries are dropped at once by invalidation events (key, team, org, all).
import type { Invalidation } from '../cache/invalidator.ts';
import { BoundedCache } from '../cache/bounded-cache.ts';
import type { KeyContext } from './key-context.ts';

export class KeyCache {
  private readonly entries: BoundedCache<string, KeyContext>;
  private readonly unknown: BoundedCache<string, number>;
  private readonly negativeTtlMs: number;
  /** Bumped by every invalidation: a load that started before one must not be cached. */
  generation = 0;
  /** lookups that found / did not find a key (the hit rate at /metrics) */
  hits = 0;
  misses = 0;

  constructor(max: number, negativeTtlMs: number) {
    this.entries = new BoundedCache(max);
    this.unknown = new BoundedCache(max);
    this.negativeTtlMs = negativeTtlMs;
  }

  get(hash: string): KeyContext | undefined {
    const ctx = this.entries.get(hash);
    if (ctx === undefined) this.misses++;
    else this.hits++;
    return ctx;
  }

  isKnownUnknown(hash: string, now: number): boolean {
    const until = this.unknown.get(hash);
    if (until === undefined) return false;
    if (until > now) return true;
    this.unknown.delete(hash);
    return false;
  }

  set(hash: string, ctx: KeyContext): void {
    this.entries.set(hash, ctx);
  }

  setUnknown(hash: string, now: number): void {
    if (this.negativeTtlMs > 0) this.unknown.set(hash, now + this.negativeTtlMs);
  }

  get size(): number {
    return this.entries.size;
  }

  invalidate(event: Invalidation): void {
    this.generation++;
    if (event.kind === 'all') {
      this.entries.clear();
      this.unknown.clear();
      return;
    }
    if (event.kind === 'routes' || event.kind === 'policy') return;
    // A new key's hash may be in the negative cache (someone tried it early); forget all unknowns.
    if (event.kind === 'key') this.unknown.clear();
    this.entries.deleteWhere(
      (ctx) =>
        (event.kind === 'key' && ctx.keyId === event.keyId) ||
        (event.kind === 'team' && ctx.teamId === event.teamId) ||
        ((event.kind === 'org' || event.kind === 'access') && ctx.orgId === event.orgId),
    );
  }
}
