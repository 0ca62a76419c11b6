// Cluster mode when Redis fails: counters are rebuilt from the database after Redis restarts empty
// (spend is rebuilt, not reset), requests that need counters are refused with 503 while it is down
// (or admitted without limits with TOLLGATE_FAIL_OPEN), /readyz says so, and all of it recovers by
// itself when Redis is back. And when PostgreSQL fails, warm keys keep working.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisCommand, serviceSkip, startPostgres, startRedis, type RedisServer } from './support/services.ts';
import { call, denial, startPricedGateway } from './support/priced.ts';
import type { Gateway } from './support/gateway.ts';

const skip = serviceSkip('postgres') || serviceSkip('redis');

async function readyz(gw: Gateway): Promise<{ status: number; body: any }> {
  const res = await fetch(gw.url + '/readyz');
  return { status: res.status, body: await res.json() };
}

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A team key with a hard $30/month budget: each "gpt-credits" request reserves and costs $6. */
async function budgetedKey(gw: Gateway, name: string) {
  const team = (await gw.api('POST', '/api/teams', { name })).body;
  const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body;
  assert.equal((await gw.api('PUT', `/api/keys/${key.id}/limits`, { max_budget_usd: 30, budget_period: 'monthly' })).status, 200);
  const free = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'no limits' })).body;
  return { team, client: gw.openai(key.key), unlimited: gw.openai(free.key) };
}

describe('cluster mode: Redis outage and restart', { skip }, () => {
  let redis: RedisServer;
  let gw: Gateway;
  before(async () => {
    redis = await startRedis();
    gw = await startPricedGateway({ dialect: 'postgres', env: { TOLLGATE_REDIS_URL: redis.url, TOLLGATE_REDIS_TIMEOUT_MS: '300' } });
  });
  after(async () => {
    await gw?.close();
    await redis?.stop();
  });

  test('a Redis that restarts empty rebuilds spend from the database: the budget still stops at its cap', async () => {
    const { team, client } = await budgetedKey(gw, 'Rebuilt');
    assert.deepEqual([await call(client), await call(client)], [200, 200], '$12 of $30 spent');
    assert.equal((await readyz(gw)).body.checks.redis, 'ok');

    await redis.restart({ flush: true });
    await until('readiness after the restart', async () => (await readyz(gw)).status === 200);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await call(client));
    assert.deepEqual(statuses, [200, 200, 200, 429, 429], '$12 rebuilt + 3 × $6 = $30; had spend been reset, 5 would pass');
    const refused = await denial(client);
    assert.equal(refused.error.code, 'budget_exceeded');
    assert.equal(refused.error.spent_usd, 30);
    const spend = (await gw.api('GET', `/api/teams/${team.id}/spend`)).body;
    assert.equal(spend.total.cost_usd, 30);
    assert.equal(spend.total.requests, 5, 'five admitted in all');
  });

  test('while Redis is down: budgeted requests get 503 service_unavailable at once, /readyz is 503; both recover by themselves', async () => {
    const { team, client, unlimited } = await budgetedKey(gw, 'Outage');
    assert.equal(await call(client), 200);

    await redisCommand(redis.port, ['SHUTDOWN', 'NOSAVE']).catch(() => '');
    await until('Redis to be seen down', async () => (await readyz(gw)).status === 503);
    const ready = await readyz(gw);
    assert.equal(ready.body.checks.redis, 'unreachable');
    assert.equal(ready.body.checks.database, 'ok');

    const refused = await denial(client);
    assert.equal(refused.status, 503);
    assert.equal(refused.error.code, 'service_unavailable');
    assert.equal(refused.error.type, 'server_error');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(await call(unlimited), 200, 'a key with no limits anywhere needs no counters and keeps working');

    // Bounded while down: nothing waits on Redis, nothing queues for it.
    const store = gw.runtime.deps.counters as unknown as { redis: { offlineQueue: { length: number }; commandQueue: { length: number } } };
    const started = performance.now();
    const burst = await Promise.all(Array.from({ length: 300 }, () => call(client)));
    const took = performance.now() - started;
    assert.ok(burst.every((s) => s === 503), 'every request in the burst was refused');
    // Not a speed target: a request that waited on Redis would hold its connection for the command
    // timeout and queue the burst behind it; a loaded CI machine answers 300 refusals in ~1-6 s.
    assert.ok(took < 20_000, `300 refusals took ${took.toFixed(0)} ms: none hung on Redis`);
    assert.equal(store.redis.commandQueue.length, 0, 'no command is waiting on the dead Redis');
    assert.equal(store.redis.offlineQueue.length, 0, 'the offline queue stays empty (disabled)');

    const explain = await gw.api('GET', `/api/teams/${team.id}/limits`);
    assert.equal(explain.status, 503, 'usage reads say the counters are unavailable, in the error shape');
    assert.equal(explain.body.error.code, 'service_unavailable');

    const logs = (await gw.api('GET', `/api/teams/${team.id}/logs?limit=5`)).body;
    assert.ok(logs.data.some((l: any) => l.status_code === 503 && l.error_code === 'service_unavailable'), 'the refusal is logged as a 503');

    await redis.restart({ flush: true });
    await until('readiness after Redis returns', async () => (await readyz(gw)).status === 200);
    assert.equal(await call(client), 200, 'admitted again, with the budget rebuilt ($6 before the outage, $12 now)');
    assert.deepEqual([await call(client), await call(client), await call(client), await call(client)], [200, 200, 200, 429], 'up to $30, not beyond');
  });
});

describe('cluster mode: TOLLGATE_FAIL_OPEN', { skip }, () => {
  test('with fail-open, requests are admitted without limits while Redis is down', async () => {
    const redis = await startRedis();
    const gw = await startPricedGateway({ dialect: 'postgres', env: { TOLLGATE_REDIS_URL: redis.url, TOLLGATE_REDIS_TIMEOUT_MS: '300', TOLLGATE_FAIL_OPEN: 'true' } });
    try {
      const { client } = await budgetedKey(gw, 'Open');
      await redisCommand(redis.port, ['SHUTDOWN', 'NOSAVE']).catch(() => '');
      await until('Redis to be seen down', async () => (await readyz(gw)).status === 503);
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push(await call(client));
      assert.deepEqual(statuses, Array(7).fill(200), 'admitted past the $30 cap: fail-open trades limits for availability');
      await redis.restart({ flush: true });
      await until('readiness after Redis returns', async () => (await readyz(gw)).status === 200);
      assert.equal(await call(client), 429, 'the rebuilt counter holds the $42 spent while Redis was down');
    } finally {
      await gw.close();
      await redis.stop();
    }
  });
});

describe('cluster mode: PostgreSQL outage', { skip }, () => {
  test('warm keys (budgeted too) keep working; cold keys get 503; logs queue bounded, drops counted in /readyz', async () => {
    const pg = await startPostgres();
    const redis = await startRedis();
    const gw = await startPricedGateway({ env: { TOLLGATE_DATABASE_URL: await pg.createDatabase(), TOLLGATE_REDIS_URL: redis.url, TOLLGATE_LOG_QUEUE_MAX: '5' } });
    try {
      const { client, unlimited } = await budgetedKey(gw, 'DB outage');
      const team = (await gw.api('POST', '/api/teams', { name: 'Cold' })).body;
      const cold = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'never used' })).body.key);
      assert.deepEqual([await call(client), await call(unlimited)], [200, 200], 'warm: key, policies, routes and budget counter loaded');

      await pg.stop();
      await until('the database to be seen down', async () => (await readyz(gw)).status === 503);
      assert.equal((await readyz(gw)).body.checks.database, 'unreachable');
      assert.equal((await readyz(gw)).body.checks.redis, 'ok');
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await call(client));
      assert.deepEqual(statuses, [200, 200, 200, 200], 'the budgeted warm key still passes ($6 × 5 = $30)');
      assert.equal(await call(client), 429, 'and its budget still binds, from Redis');
      for (let i = 0; i < 5; i++) assert.equal(await call(unlimited), 200);
      assert.equal(await call(cold), 503, 'a key that was never cached cannot be checked: 503, not a crash');
      const checks = (await readyz(gw)).body.checks;
      assert.equal(checks.log_queue, '5', 'log rows wait, up to TOLLGATE_LOG_QUEUE_MAX');
      assert.ok(Number(checks.log_rows_dropped) >= 6, `the oldest beyond it are dropped and counted: ${JSON.stringify(checks)}`);
    } finally {
      await gw.close();
      await redis.stop();
    }
  });
});
