import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checksum, displayPrefix, generateKey, hashSecret, isWellFormedKey, KEY_LENGTH, digestsEqual } from '../src/keys/key-format.ts';

test('generated keys have the sk-tg- format with a valid checksum', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const key = generateKey();
    assert.match(key, /^sk-tg-[0-9A-Za-z]{38}$/);
    assert.equal(key.length, KEY_LENGTH);
    assert.ok(isWellFormedKey(key));
    assert.equal(key.slice(-6), checksum(key.slice(6, 38)));
    seen.add(key);
  }
  assert.equal(seen.size, 500, 'keys are unique');
});

test('a mistyped key fails the checksum before any lookup', () => {
  const key = generateKey();
  const pos = 10;
  const swapped = key.slice(0, pos) + (key[pos] === 'a' ? 'b' : 'a') + key.slice(pos + 1);
  assert.equal(isWellFormedKey(swapped), false);
  assert.equal(isWellFormedKey(key.slice(0, -1)), false, 'truncated');
  assert.equal(isWellFormedKey(key + 'x'), false, 'too long');
  assert.equal(isWellFormedKey(key.replace('sk-tg-', 'sk-xx-')), false, 'wrong prefix');
  assert.equal(isWellFormedKey(''), false);
});

test('only the SHA-256 hash is derived for storage; the display prefix cannot be used as a key', () => {
  const key = generateKey();
  const hash = hashSecret(key);
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.notEqual(hash, hashSecret(generateKey()));
  assert.ok(digestsEqual(hash, hashSecret(key)));
  assert.ok(!digestsEqual(hash, hashSecret(generateKey())));
  const prefix = displayPrefix(key);
  assert.equal(prefix, key.slice(0, 12) + '...');
  assert.equal(isWellFormedKey(prefix), false);
});
