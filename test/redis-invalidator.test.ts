// Cache invalidation across replicas over Redis pub/sub.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisInvalidator } from '../src/cache/redis-invalidator.ts';
import type { Invalidation } from '../src/cache/invalidator.ts';
import { openRedis, openSubscriber, waitReady } from '../src/redis.ts';
import { redisCommand, serviceSkip, startRedis, testRedisUrl } from './support/services.ts';

async function invalidator(url: string, channel: string) {
  const pub = openRedis({ url, timeoutMs: 500 });
  const sub = openSubscriber({ url, timeoutMs: 500 });
  const errors: unknown[] = [];
  const inv = new RedisInvalidator({ pub, sub, channel, onError: (e) => errors.push(e) });
  const seen: Invalidation[] = [];
  inv.subscribe((e) => seen.push(e));
  await waitReady(pub, 5000);
  await until(() => inv.ping());
  return { inv, seen, pub, errors };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<number> {
  const started = performance.now();
  while (!(await cond())) {
    if (performance.now() - started > ms) throw new Error('condition not met in time');
    await sleep(10);
  }
  return performance.now() - started;
}

describe('RedisInvalidator', { skip: serviceSkip('redis') }, () => {
  test('two replicas see each other\'s events within a second; their own exactly once', async () => {
    const channel = `tg-test:${randomUUID()}:invalidate`;
    const a = await invalidator(testRedisUrl()!, channel);
    const b = await invalidator(testRedisUrl()!, channel);
    try {
      await a.inv.publish({ kind: 'key', keyId: 7 });
      assert.deepEqual(a.seen, [{ kind: 'key', keyId: 7 }], 'delivered locally at once, before Redis');
      const took = await until(() => b.seen.length === 1, 1000);
      assert.deepEqual(b.seen, [{ kind: 'key', keyId: 7 }]);
      await b.inv.publish({ kind: 'policy', scope: 'team:3' });
      await until(() => a.seen.length === 2, 1000);
      assert.deepEqual(a.seen[1], { kind: 'policy', scope: 'team:3' });
      await sleep(100);
      assert.equal(a.seen.length, 2, 'A did not hear its own echo');
      assert.equal(b.seen.length, 2, 'B did not hear its own echo');
      assert.ok(took < 1000, `propagated in ${took.toFixed(1)} ms`);
    } finally {
      await a.inv.close();
      await b.inv.close();
    }
  });

  test('after a Redis restart subscribers drop all caches; an event whose publish failed is re-sent', async () => {
    const redis = await startRedis();
    const a = await invalidator(redis.url, 'tg:invalidate');
    const b = await invalidator(redis.url, 'tg:invalidate');
    try {
      await redis.restart({ flush: true });
      await until(() => b.seen.some((e) => e.kind === 'all'));
      await until(() => a.seen.some((e) => e.kind === 'all'));
      await until(() => b.inv.ping());
      await until(() => a.pub.status === 'ready', 5000);
      b.seen.length = 0;

      // Only A's publishing connection drops (B keeps listening): the event is re-sent, not lost.
      const id = String(await a.pub.client('ID'));
      await redisCommand(redis.port, ['CLIENT', 'KILL', 'ID', id]);
      await until(() => a.pub.status !== 'ready');
      const started = performance.now();
      await a.inv.publish({ kind: 'key', keyId: 42 }); // kept, never thrown
      assert.ok(performance.now() - started < 600, 'publish does not wait for Redis');
      assert.ok(a.errors.length >= 1, 'the failed send was reported');
      await until(() => b.seen.length > 0, 5000);
      assert.deepEqual(b.seen, [{ kind: 'key', keyId: 42 }], 'B received the re-sent event (and no full drop: it never lost Redis)');
    } finally {
      await a.inv.close();
      await b.inv.close();
      await redis.stop();
    }
  });
});
