// Bounded LRU of KeyContexts by secret hash, plus a short-lived negative cache for unknown hashes
// (so a flood of well-formed but unknown keys does not become a flood of queries).
// Entries are dropped at once by invalidation events (key, team, org, all).
import type { Invalidation } from '../cache/invalidator.ts';
import type { KeyContext } from './key-context.ts';

export class KeyCache {
  private readonly entries = new Map<string, KeyContext>();
  private readonly unknown = new Map<string, number>();
  private readonly max: number;
  private readonly negativeTtlMs: number;
  /** Bumped by every invalidation: a load that started before one must not be cached. */
  generation = 0;

  constructor(max: number, negativeTtlMs: number) {
    this.max = max;
    this.negativeTtlMs = negativeTtlMs;
  }

  get(hash: string): KeyContext | undefined {
    const ctx = this.entries.get(hash);
    if (ctx) {
      // Refresh recency: Map iteration order is insertion order, so re-insert moves it last.
      this.entries.delete(hash);
      this.entries.set(hash, ctx);
    }
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
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  setUnknown(hash: string, now: number): void {
    if (this.negativeTtlMs <= 0) return;
    this.unknown.set(hash, now + this.negativeTtlMs);
    if (this.unknown.size > this.max) this.unknown.delete(this.unknown.keys().next().value!);
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
    for (const [hash, ctx] of this.entries) {
      const hit =
        (event.kind === 'key' && ctx.keyId === event.keyId) ||
        (event.kind === 'team' && ctx.teamId === event.teamId) ||
        (event.kind === 'org' && ctx.orgId === event.orgId);
      if (hit) this.entries.delete(hash);
    }
  }
}
