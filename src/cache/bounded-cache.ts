// A bounded cache with O(1) get/set and approximate LRU eviction: two generations of at most
// max/2 entries. Hits in the old generation are promoted; when the young one fills up, the old one
// is dropped whole. Entries used within the last max/2 insertions always survive.
export class BoundedCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.set(key, o);
    }
    return o;
  }

  has(key: K): boolean {
    return this.young.has(key) || this.old.has(key);
  }

  set(key: K, value: V): void {
    this.young.set(key, value);
    this.old.delete(key);
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  /** Drops every entry the predicate selects (a scan: for rare admin-driven invalidations). */
  deleteWhere(pred: (value: V, key: K) => boolean): void {
    for (const m of [this.young, this.old]) for (const [k, v] of m) if (pred(v, k)) m.delete(k);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
