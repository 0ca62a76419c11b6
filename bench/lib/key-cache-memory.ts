// Memory of a process after N distinct keys were seen (issue #5: "Record RSS with 1M keys seen;
// the cache must be bounded"). Each key goes through what authenticate() does on a miss: a format
// check, a SHA-256, a cache lookup and a cache fill with a KeyContext shaped like the database's;
// half as many unknown keys go through the negative cache. Then the same contexts in an unbounded
// Map, for comparison. Run with --expose-gc (scale.ts does); prints one JSON line.
//   node --expose-gc bench/lib/key-cache-memory.ts [N=1000000]
import { KeyCache } from '../../src/keys/key-cache.ts';
import { OPEN_ACCESS, type KeyContext } from '../../src/keys/key-context.ts';
import { generateKey, hashSecret, isWellFormedKey } from '../../src/keys/key-format.ts';
import { loadConfig } from '../../src/config.ts';

const n = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
const snapshot = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed) };
};

const ctx = (i: number): KeyContext => ({
  keyId: i,
  lineageId: i,
  orgId: 1,
  teamId: 1 + (i % 10_000),
  userId: 1 + (i % 100_000),
  serviceAccountId: null,
  name: `key-${i}`,
  status: 'active',
  expiresAtMs: null,
  ...OPEN_ACCESS,
});

const config = loadConfig({});
const base = snapshot();
const cache = new KeyCache(config.keyCacheSize, config.negativeCacheSeconds * 1000);
const t0 = performance.now();
const now = Date.now();
for (let i = 1; i <= n; i++) {
  const secret = generateKey();
  if (!isWellFormedKey(secret)) throw new Error('generated a malformed key');
  const hash = hashSecret(secret);
  if (!cache.get(hash) && !cache.isKnownUnknown(hash, now)) cache.set(hash, ctx(i));
}
for (let i = 1; i <= n / 2; i++) {
  const hash = hashSecret(generateKey());
  if (!cache.get(hash) && !cache.isKnownUnknown(hash, now)) cache.setUnknown(hash, now);
}
const elapsed = performance.now() - t0;
const bounded = { ...snapshot(), cacheSize: cache.size, maxEntries: config.keyCacheSize, seen: n, unknownSeen: n / 2, seconds: Math.round(elapsed / 100) / 10 };

// For comparison: what the same contexts cost with no bound.
const unbounded = new Map<string, KeyContext>();
for (let i = 1; i <= n; i++) unbounded.set(hashSecret(`x${i}`), ctx(i));
const after = snapshot();
process.stdout.write(
  JSON.stringify({ baseline: base, bounded, unboundedForComparison: { entries: unbounded.size, heapUsedMB: after.heapUsedMB, rssMB: after.rssMB, bytesPerEntry: Math.round(((after.heapUsedMB - bounded.heapUsedMB) * 1048576) / n) } }) + '\n',
);
