import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedCache } from '../src/cache/bounded-cache.ts';

test('the cache stays bounded, keeps recently used entries, and evicts the cold ones', () => {
  const c = new BoundedCache<number, string>(100);
  c.set(-1, 'hot');
  for (let i = 0; i < 10_000; i++) {
    c.set(i, `v${i}`);
    if (i % 10 === 0) assert.equal(c.get(-1), 'hot', 'an entry in use is never evicted');
    assert.ok(c.size <= 100);
  }
  assert.equal(c.get(0), undefined, 'a cold entry is gone');
  assert.equal(c.get(9_999), 'v9999');
  c.deleteWhere((v) => v === 'hot');
  assert.equal(c.get(-1), undefined);
});
