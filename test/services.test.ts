// Smoke test of the test infrastructure itself: the run's shared PostgreSQL and Redis work, and a
// private Redis can be restarted empty (the shared one is never restarted: other files use it).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Redis } from 'ioredis';
import { redisAvailable, serviceSkip, servicesRequired, startRedis, testPostgresUrl, testRedisUrl } from './support/services.ts';

describe('postgres', { skip: serviceSkip('postgres') }, () => {
  test('a fresh database answers select 1 and is empty', async () => {
    const url = await testPostgresUrl();
    assert.ok(url, 'no PostgreSQL for this run');
    const other = await testPostgresUrl();
    assert.notEqual(url, other, 'each call gets its own database');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('select 1 as one');
      assert.deepEqual(rows, [{ one: 1 }]);
      const tables = await client.query(`select count(*)::int as n from information_schema.tables where table_schema = 'public'`);
      assert.equal(tables.rows[0].n, 0);
    } finally {
      await client.end();
    }
  });
});

describe('redis', { skip: serviceSkip('redis') }, () => {
  test('the shared Redis answers PING', async () => {
    const url = testRedisUrl();
    assert.ok(url, 'no Redis for this run');
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try { assert.equal(await redis.ping(), 'PONG'); } finally { redis.disconnect(); }
  });
});

const ownRedisSkip = redisAvailable() || servicesRequired() ? false : 'redis-server not installed';
describe('a private Redis restart', { skip: ownRedisSkip }, () => {
  test('restart keeps data without flush, and comes back empty with flush', async (t) => {
    const server = await startRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 20 });
    t.after(async () => { redis.disconnect(); await server.stop(); });
    await redis.set('tollgate:test:k', 'v');
    await server.restart();
    assert.equal(await redis.get('tollgate:test:k'), 'v', 'ioredis reconnects and the data survived');
    await server.restart({ flush: true });
    assert.equal(await redis.get('tollgate:test:k'), null);
    assert.equal(await redis.dbsize(), 0);
  });
});
