// resolveClientIp and TOLLGATE_TRUST_PROXY (src/net/client-ip.ts): by default the socket peer and
// nothing a client writes in X-Forwarded-For; a hop count takes that many entries from the right;
// a list of proxy ranges walks right to left through trusted hops only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_PROXY, parseTrustProxy, resolveClientIp } from '../src/net/client-ip.ts';

test('parseTrustProxy: false, true, a hop count, a CIDR list; anything else names the bad entry', () => {
  for (const off of [undefined, '', false, 'false', '0', 0]) assert.deepEqual(parseTrustProxy(off), NO_PROXY, String(off));
  assert.deepEqual(parseTrustProxy(true), { kind: 'hops', hops: 1 });
  assert.deepEqual(parseTrustProxy('true'), { kind: 'hops', hops: 1 });
  assert.deepEqual(parseTrustProxy('2'), { kind: 'hops', hops: 2 });
  assert.deepEqual(parseTrustProxy(3), { kind: 'hops', hops: 3 });
  const ranges = parseTrustProxy(' 10.0.0.0/8, fd00::/8 ');
  assert.equal(ranges.kind, 'ranges');
  assert.deepEqual(ranges.kind === 'ranges' && ranges.text, ['10.0.0.0/8', 'fd00::/8']);
  assert.throws(() => parseTrustProxy('33'), /between 1 and 32/);
  assert.throws(() => parseTrustProxy('10.0.0.0/8,proxy.internal'), /"proxy.internal"/);
  assert.throws(() => parseTrustProxy('yes'), /"yes"/);
});

test('no trusted proxy: the socket peer, whatever X-Forwarded-For says', () => {
  assert.equal(resolveClientIp('127.0.0.1', '10.1.2.3', NO_PROXY), '127.0.0.1');
  assert.equal(resolveClientIp('::1', ['10.1.2.3', '2001:db8::1'], NO_PROXY), '::1');
  assert.equal(resolveClientIp('203.0.113.5', undefined, NO_PROXY), '203.0.113.5');
});

test('a hop count: the N-th address from the right; fewer entries: the left-most; junk ends the walk', () => {
  const one = parseTrustProxy('1');
  const two = parseTrustProxy('2');
  assert.equal(resolveClientIp('127.0.0.1', undefined, one), '127.0.0.1', 'no header: the peer');
  assert.equal(resolveClientIp('127.0.0.1', '198.51.100.7', one), '198.51.100.7');
  // A client prepending its own entry does not move what the trusted proxy appended.
  assert.equal(resolveClientIp('127.0.0.1', '10.0.0.1, 198.51.100.7', one), '198.51.100.7');
  assert.equal(resolveClientIp('127.0.0.1', '10.0.0.1, 198.51.100.7', two), '10.0.0.1');
  assert.equal(resolveClientIp('127.0.0.1', '2001:db8::5', two), '2001:db8::5', 'fewer entries than hops');
  assert.equal(resolveClientIp('127.0.0.1', ['10.0.0.1', '2001:db8::5'], one), '2001:db8::5', 'repeated headers are one list');
  assert.equal(resolveClientIp('127.0.0.1', 'not-an-ip', one), '127.0.0.1', 'not an address: the last trusted hop');
  assert.equal(resolveClientIp('127.0.0.1', '10.0.0.1, garbage', two), '127.0.0.1');
});

test('trusted proxy ranges: walk right to left while the hop is trusted; an untrusted peer ends it at once', () => {
  const trust = parseTrustProxy('127.0.0.0/8, 10.0.0.0/8, fd00::/8');
  assert.equal(resolveClientIp('127.0.0.1', '2001:db8::5', trust), '2001:db8::5');
  assert.equal(resolveClientIp('127.0.0.1', '198.51.100.1, 2001:db8::5, 10.0.0.9', trust), '2001:db8::5', 'the first untrusted from the right');
  assert.equal(resolveClientIp('127.0.0.1', '198.51.100.1, 10.0.0.8, 10.0.0.9', trust), '198.51.100.1');
  assert.equal(resolveClientIp('127.0.0.1', '10.0.0.8, 10.0.0.9', trust), '10.0.0.8', 'every hop trusted: the left-most');
  assert.equal(resolveClientIp('fd00::1', '203.0.113.9', trust), '203.0.113.9', 'an IPv6 proxy');
  assert.equal(resolveClientIp('::ffff:10.0.0.2', '203.0.113.9', trust), '203.0.113.9', 'an IPv4-mapped peer is judged as IPv4');
  assert.equal(resolveClientIp('198.51.100.50', '203.0.113.9', trust), '198.51.100.50', 'an untrusted peer: its header is ignored');
  assert.equal(resolveClientIp('127.0.0.1', '203.0.113.9, junk', trust), '127.0.0.1', 'junk ends the walk at the last trusted hop');
});
