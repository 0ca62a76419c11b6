// Tollgate on a real Redis Cluster (3 masters + 3 replicas, started once for this file): the
// counter-store contract on a Cluster connection, two replicas holding a team RPM limit exactly and
// hearing each other's revocations over cluster pub/sub, and the SIGKILL of one master under load:
// the organization whose shard it held fails closed (or open, per TOLLGATE_FAIL_OPEN) until its
// replica is promoted, then recovers without a restart, while the other organizations never notice.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type Cluster } from 'ioredis';
import { counterStoreContract } from './support/counter-store-contract.ts';
import { clusterSkip, startRedisCluster, type RedisCluster } from './support/redis-cluster.ts';
import { serviceSkip } from './support/services.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { clusterEnv, startReplica, type Replica } from './support/replicas.ts';
import { RedisCounterStore } from '../src/policy/redis-store.ts';
import { shardOf } from '../src/policy/redis-keys.ts';
import type { AdmitPlan } from '../src/policy/counter-store.ts';
import { clusterNodes, openRedis, openSubscriber, waitReady } from '../src/redis.ts';
import { RedisInvalidator } from '../src/cache/redis-invalidator.ts';
import { loadConfig } from '../src/config.ts';
import type { Invalidation } from '../src/cache/invalidator.ts';

const ADMIN_KEY = `admin-${randomUUID()}`;
const UPSTREAM_KEY = `sk-upstream-${randomUUID()}`;
const LIMITS_DOWN = 'Limits and budgets cannot be checked right now (the counter store is unreachable); try again shortly.';
const T0 = Date.parse('2026-03-28T12:00:00.000Z');
const figures: Record<string, unknown> = {};

let cluster: RedisCluster;

/** every connection a test opened: a test that fails before close() must not keep the file alive */
const opened: Array<{ disconnect(): void }> = [];

async function clusterStore(prefix = `tg-test:${randomUUID()}:`): Promise<RedisCounterStore> {
  const redis = openRedis({ url: cluster.urls.join(','), timeoutMs: 2000, cluster: true }, { batched: true });
  opened.push(redis);
  assert.ok(await waitReady(redis, 5000), 'the Cluster connection is ready');
  return new RedisCounterStore(redis, { prefix });
}

type Outcome = { status: number; code?: string; message?: string; start: number; end: number };

async function chat(replica: Replica, key: string): Promise<Outcome> {
  const start = performance.now();
  try {
    const res = await fetch(replica.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: 12 }),
    });
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    return { status: res.status, code: body.error?.code, message: body.error?.message, start, end: performance.now() };
  } catch (err) {
    return { status: 0, message: (err as Error).message, start, end: performance.now() };
  }
}

async function until(what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (!(await cond())) {
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
  return performance.now() - started;
}

describe('TOLLGATE_REDIS_CLUSTER configuration', () => {
  const load = (env: Record<string, string>) => loadConfig({ TOLLGATE_DATA_DIR: '/tmp/tollgate-config-test', ...env });
  test('seed nodes separated by commas make a cluster; a malformed list stops start-up naming the variable and the entry, never a password', () => {
    const ok = load({ TOLLGATE_REDIS_URL: 'redis://10.0.0.1:6379, redis://10.0.0.2:6380', TOLLGATE_REDIS_CLUSTER: 'true' });
    assert.equal(ok.redisCluster, true);
    assert.throws(() => load({ TOLLGATE_REDIS_URL: 'redis://10.0.0.1:6379,redis://10.0.0.2:6379' }), /TOLLGATE_REDIS_URL lists several nodes: set TOLLGATE_REDIS_CLUSTER=true/);
    const password = `pw-${randomUUID()}`;
    assert.throws(() => load({ TOLLGATE_REDIS_URL: `redis://:${password}@10.0.0.1:6379,10.0.0.2:6379`, TOLLGATE_REDIS_CLUSTER: 'true' }), (err: Error) => {
      assert.match(err.message, /^TOLLGATE_REDIS_URL \(entry 2 of the comma-separated list\) must start with redis:\/\/ or rediss:\/\//);
      assert.ok(!err.message.includes(password), 'the password is not echoed');
      return true;
    });
    assert.throws(() => load({ TOLLGATE_REDIS_URL: 'redis://10.0.0.1:6379,', TOLLGATE_REDIS_CLUSTER: 'true' }), /entry 2/);
    assert.throws(() => load({ TOLLGATE_REDIS_CLUSTER: 'true' }), /TOLLGATE_REDIS_CLUSTER=true needs TOLLGATE_REDIS_URL/);
    assert.throws(() => load({ TOLLGATE_REDIS_URL: 'redis://10.0.0.1:6379,redis://10.0.0.2:6379/3', TOLLGATE_REDIS_CLUSTER: 'true' }), /TOLLGATE_REDIS_URL \(entry 2\) names a database: a Redis Cluster has only database 0/);
    assert.throws(() => load({ TOLLGATE_REDIS_URL: 'http://10.0.0.1:6379' }), /^.*TOLLGATE_REDIS_URL must start with redis:\/\/ or rediss:\/\//);
  });
});

describe('Tollgate on a Redis Cluster', { skip: clusterSkip() || serviceSkip('postgres') }, () => {
  before(async () => {
    const started = performance.now();
    cluster = await startRedisCluster();
    figures.clusterStartMs = Math.round(performance.now() - started);
  });
  after(async () => {
    console.log('redis-cluster figures:', JSON.stringify(figures));
    for (const c of opened) c.disconnect();
    await cluster?.stop();
  });

  describe('RedisCounterStore on a Cluster connection', () => {
    counterStoreContract('redis cluster', () => clusterStore());

    test('admissions for organizations on three different masters in one turn: each shard exact, one batch per shard', async () => {
      const store = await clusterStore();
      try {
        const masters = await cluster.masters();
        const orgs = new Map<number, number>(); // master port → org id
        for (let id = 1; orgs.size < masters.length && id < 1000; id++) {
          const m = await cluster.masterOf(shardOf(id));
          if (!orgs.has(m)) orgs.set(m, id);
        }
        assert.equal(orgs.size, 3, 'three organizations whose shards live on three masters');
        const N = 5;
        const run = randomUUID();
        const plan = (org: number): AdmitPlan => ({ now: T0, shard: shardOf(org), windows: [{ key: `t:${run}:rpm:${org}`, windowMs: 60_000, bucketMs: 1000, limit: N, cost: 1 }], slots: [], budgets: [] });
        const outcomes = await Promise.all([...orgs.values()].flatMap((org) => Array.from({ length: 2 * N }, () => store.admit(plan(org)).then((o) => ({ org, ok: o.ok })))));
        for (const org of orgs.values()) assert.equal(outcomes.filter((o) => o.org === org && o.ok).length, N, `exactly ${N} admitted for organization ${org}`);
      } finally {
        await store.close();
      }
    });
  });

  test('the invalidation subscriber hops to another node when its node dies, and says so (ready again)', async () => {
    // A replica node, so the masters are left alone — and not the replica of the first master,
    // which the failover test below needs to take over.
    const replicaPort = (await cluster.replicas()).find((r) => r.master !== cluster.ports[0])!.port;
    const url = [`redis://127.0.0.1:${replicaPort}`, ...cluster.urls.filter((u) => !u.endsWith(`:${replicaPort}`))].join(',');
    const channel = `tg-test:${randomUUID()}:invalidate`;
    const mk = () => {
      const pub = openRedis({ url, timeoutMs: 1000, cluster: true }) as Cluster;
      const sub = openSubscriber({ url, timeoutMs: 1000, cluster: true }, () => clusterNodes(pub));
      opened.push(pub, sub);
      const inv = new RedisInvalidator({ pub, sub, channel });
      const seen: Invalidation[] = [];
      inv.subscribe((e) => seen.push(e));
      return { pub, sub, inv, seen };
    };
    const a = mk();
    const b = mk();
    try {
      await until('both subscribed', 5000, async () => (await a.inv.ping()) && (await b.inv.ping()) && a.pub.status === 'ready');
      assert.equal((b.sub as unknown as { node?: string }).node, `127.0.0.1:${replicaPort}`, 'B listens on the first seed (a replica node)');
      await a.inv.publish({ kind: 'key', keyId: 1 });
      await until('B heard the first event', 1000, () => b.seen.length === 1);
      await cluster.killMaster(replicaPort); // a replica: no failover needed, only the subscriber's node is gone
      await until('B dropped its caches after losing its node', 5000, () => b.seen.some((e) => e.kind === 'all'));
      await until('B subscribed again', 5000, () => b.inv.ping());
      assert.notEqual((b.sub as unknown as { node?: string }).node, `127.0.0.1:${replicaPort}`, 'B moved to another node');
      await a.inv.publish({ kind: 'team', teamId: 9 });
      const took = await until('B heard the event published after the hop', 1000, () => b.seen.some((e) => e.kind === 'team'));
      figures.subscriberHopDeliveryMs = Math.round(took);
    } finally {
      await a.inv.close();
      await b.inv.close();
    }
  });

  describe('three Tollgate replicas on PostgreSQL and the cluster', () => {
    let a: Replica;
    let b: Replica;
    /** TOLLGATE_FAIL_OPEN=true */
    let open: Replica;
    let fake: FakeUpstream;
    /** three organizations whose shards live on three different masters */
    const orgs: Array<{ id: number; adminKey: string; master: number }> = [];

    const orgApi = async (r: Replica, key: string, method: string, p: string, body?: unknown) => {
      const res = await fetch(r.url + p, { method, headers: { 'x-admin-key': key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    /** A team in the organization with one key; an RPM limit so that every request needs the shard. */
    const teamKey = async (org: { adminKey: string }, name: string, rpm: number): Promise<{ teamId: number; key: string; keyId: number }> => {
      const team = (await orgApi(a, org.adminKey, 'POST', '/api/teams', { name })).body;
      const key = (await orgApi(a, org.adminKey, 'POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body;
      assert.equal((await orgApi(a, org.adminKey, 'PUT', `/api/teams/${team.id}/limits`, { rpm })).status, 200);
      return { teamId: team.id, key: key.key, keyId: key.id };
    };

    before(async () => {
      fake = await startFakeUpstream({ requireAuth: UPSTREAM_KEY });
      // Seeds: masters first, so every replica's invalidation subscriber listens on the first
      // master, the one killed below (its subscriber must hop too).
      const env = await clusterEnv(ADMIN_KEY, UPSTREAM_KEY, fake.baseUrl, { TOLLGATE_REDIS_URL: cluster.urls.join(','), TOLLGATE_REDIS_CLUSTER: 'true', TOLLGATE_LOG_FLUSH_MS: '50' });
      [a, b, open] = await Promise.all([startReplica('a', env, ADMIN_KEY), startReplica('b', env, ADMIN_KEY), startReplica('open', { ...env, TOLLGATE_FAIL_OPEN: 'true' }, ADMIN_KEY)]);
      const masters = await cluster.masters();
      for (let i = 0; orgs.length < masters.length; i++) {
        assert.ok(i < 40, 'organizations cover the three masters');
        const org = (await a.api('POST', '/api/orgs', { name: `Shard probe ${i}` })).body;
        const master = await cluster.masterOf(shardOf(org.id));
        if (orgs.some((o) => o.master === master)) continue;
        orgs.push({ id: org.id, adminKey: org.admin_key, master });
        // A new organization has no provider of its own: the fake upstream.
        const provider = await orgApi(a, org.admin_key, 'POST', '/api/providers', { name: 'fake', provider: 'openai', base_url: fake.baseUrl + '/v1', api_key: UPSTREAM_KEY, models: ['gpt-4o'] });
        assert.equal(provider.status, 201, JSON.stringify(provider.body));
      }
      // The organization on the first master (the first seed) is the one whose master dies.
      orgs.sort((x, y) => cluster.ports.indexOf(x.master) - cluster.ports.indexOf(y.master));
      figures.orgs = orgs.map((o) => ({ id: o.id, master: o.master }));
    });

    after(async () => {
      const codes = await Promise.all([a?.stop(), b?.stop(), open?.stop()]);
      await fake?.close();
      assert.deepEqual(codes, [0, 0, 0], `the replicas drained and exited cleanly:\n${a?.out()}\n${b?.out()}\n${open?.out()}`);
    });

    test('a team RPM limit of N admits exactly N requests spread across both replicas (one organization per master)', async () => {
      const N = 6;
      const results: Record<string, unknown> = {};
      for (const org of orgs) {
        const { key } = await teamKey(org, 'RPM', N);
        // Sequential, alternating replicas: the first N pass, half on each.
        const seq: Outcome[] = [];
        for (let i = 0; i < 2 * N; i++) seq.push(await chat(i % 2 ? b : a, key));
        assert.deepEqual(seq.map((o) => o.status), [...Array(N).fill(200), ...Array(N).fill(429)], JSON.stringify(seq.filter((o) => o.status !== 200 && o.status !== 429)));
        // All at once on both replicas, with a fresh team: still exactly N.
        const con = await teamKey(org, 'RPM concurrent', N);
        const outs = await Promise.all(Array.from({ length: 3 * N }, (_, i) => chat(i % 2 ? b : a, con.key)));
        assert.ok(outs.every((o) => o.status === 200 || (o.status === 429 && o.code === 'rate_limit_exceeded')), JSON.stringify(outs.filter((o) => o.status !== 200 && o.status !== 429)));
        results[`org${org.id}@${org.master}`] = outs.filter((o) => o.status === 200).length;
        assert.equal(outs.filter((o) => o.status === 200).length, N, `exactly ${N} admitted concurrently for organization ${org.id}`);
      }
      figures.rpmConcurrentAdmitted = results;
    });

    test('a key revoked on replica A is refused on replica B within a second (invalidation over the cluster)', async () => {
      figures.revocationMs = await revokeAndMeasure(orgs[1]!);
    });

    async function revokeAndMeasure(org: { adminKey: string }): Promise<number> {
      const { teamId, key, keyId } = await teamKey(org, `Revoke ${randomUUID().slice(0, 8)}`, 1000);
      for (let i = 0; i < 2; i++) assert.equal((await chat(b, key)).status, 200, 'warm in B\'s key cache');
      const revokedAt = performance.now();
      assert.equal((await orgApi(a, org.adminKey, 'DELETE', `/api/teams/${teamId}/keys/${keyId}`)).status, 200);
      let last: Outcome;
      for (;;) {
        last = await chat(b, key);
        if (last.status !== 200) break;
        assert.ok(performance.now() - revokedAt < 1000, 'B still admits the revoked key after a second');
      }
      assert.deepEqual([last.status, last.code], [403, 'key_revoked']);
      return Math.round(performance.now() - revokedAt);
    }

    test('SIGKILL of the master holding one organization\'s shard under load: that organization fails closed (open where configured) until the replica is promoted, then recovers; the others never fail', async () => {
      const [x, y, z] = orgs as [typeof orgs[0], typeof orgs[0], typeof orgs[0]];
      const keys = await Promise.all([x, y, z].map((o) => teamKey(o, 'Load', 1_000_000)));
      const streams: Array<{ name: string; replica: Replica; key: string; outs: Outcome[] }> = [
        { name: 'x', replica: a, key: keys[0]!.key, outs: [] },
        { name: 'y', replica: a, key: keys[1]!.key, outs: [] },
        { name: 'z', replica: a, key: keys[2]!.key, outs: [] },
        { name: 'y@b', replica: b, key: keys[1]!.key, outs: [] },
        { name: 'x@open', replica: open, key: keys[0]!.key, outs: [] },
      ];
      const xs = streams[0]!;
      let killedAt = 0;
      let downUntil = 0;
      let promotedAt = 0;
      let recoveredAt = 0;
      let stop = false;
      const load = streams.map(async (s) => {
        while (!stop) {
          s.outs.push(await chat(s.replica, s.key));
          await sleep(20);
        }
      });
      // For the record (docs/production.md, probes): what a replica's /readyz says meanwhile.
      const readyz: Array<{ at: number; status: number }> = [];
      load.push((async () => {
        while (!stop) {
          readyz.push({ at: performance.now(), status: (await fetch(a.url + '/readyz').then((r) => r.status, () => 0)) });
          await sleep(50);
        }
      })());
      try {
        // Steady state first: every stream has answered a few times (a cold replica's first request can
        // take longer than a fixed pause on a loaded machine).
        await until('every stream answered three times before the kill', 15_000, () => streams.every((s) => s.outs.length >= 3));
        for (const s of streams) assert.ok(s.outs.length > 0 && s.outs.every((o) => o.status === 200), `${s.name} succeeds before the kill: ${JSON.stringify(s.outs.find((o) => o.status !== 200))}`);

        // X's shard passes to one of its master's replicas: ask them directly, over open connections
        // (a poll takes about a millisecond, so the observed outage is the real one; spawning redis-cli
        // per node took long enough on a loaded machine to shrink the window to nothing).
        const heirs = (await cluster.replicas()).filter((r) => r.master === x.master).map((r) => {
          const c = new Redis({ port: r.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
          opened.push(c);
          return c;
        });
        assert.ok(heirs.length > 0, 'X\'s master has a replica');
        await Promise.all(heirs.map((c) => c.connect()));
        killedAt = performance.now();
        await cluster.killMaster(x.master);
        // `downUntil` is the start of the last poll in which no replica had taken over: the shard was
        // certainly unserved until then.
        downUntil = killedAt;
        try {
          for (;;) {
            const pollStart = performance.now();
            const roles = await Promise.all(heirs.map((c) => c.call('ROLE').then((r) => (r as unknown[])[0], () => undefined)));
            if (roles.includes('master')) { promotedAt = performance.now(); break; }
            downUntil = pollStart;
            assert.ok(pollStart - killedAt < 20_000, 'a replica was promoted within 20 s');
            await sleep(10);
          }
        } finally {
          for (const c of heirs) c.disconnect();
        }
        await cluster.waitFailover(x.master);
        // X recovers on the fail-closed replica without a restart.
        await until('organization X admitted again after the promotion', 10_000, () => xs.outs.some((o) => o.start > promotedAt && o.status === 200));
        recoveredAt = xs.outs.find((o) => o.start > promotedAt && o.status === 200)!.end;
        await sleep(500);
      } finally {
        stop = true; // a failed assertion must not leave the load running (the file would never end)
        await Promise.all(load);
      }

      const during = (s: typeof streams[0]) => s.outs.filter((o) => o.start > killedAt && o.end < downUntil);
      // Fail closed: every X request that began after the kill while no master served its shard, and
      // was answered before the promotion was seen, was refused with the limits-unavailable 503 —
      // none was admitted without its limits. (Its admission reached Redis at its start, within
      // milliseconds; Tollgate learns of the new master only through MOVED or its slot refresh.)
      const xDown = xs.outs.filter((o) => o.start > killedAt && o.start < downUntil && o.end < promotedAt);
      // At least one: how many fit depends on how long the outage lasts and how fast a refusal comes
      // back on a loaded machine (a request in flight at the kill can wait out the command timeout).
      assert.ok(xDown.length >= 1, `X sent requests during the outage (${xDown.length}; outage observed ${Math.round(downUntil - killedAt)} ms, X answers: ${JSON.stringify(xs.outs.filter((o) => o.end > killedAt).slice(0, 6).map((o) => [Math.round(o.start - killedAt), Math.round(o.end - killedAt), o.status]))})`);
      assert.deepEqual(new Set(xDown.map((o) => `${o.status} ${o.code} ${o.message}`)), new Set([`503 service_unavailable ${LIMITS_DOWN}`]));
      // X only ever answered 200 or that 503 (no hang, no other error).
      assert.ok(xs.outs.every((o) => o.status === 200 || (o.status === 503 && o.code === 'service_unavailable')), JSON.stringify(xs.outs.filter((o) => o.status !== 200 && o.status !== 503)));
      // Fail open where configured: the same organization's requests were admitted throughout.
      const openStream = streams[4]!;
      assert.ok(during(openStream).length >= 1, 'the fail-open replica served X during the outage');
      assert.ok(openStream.outs.every((o) => o.status === 200), `fail open: ${JSON.stringify(openStream.outs.filter((o) => o.status !== 200).slice(0, 3))}`);
      // The other organizations: not one request failed, in flight at the kill or not — their
      // shards' masters never went away (and the cluster keeps serving the slots it still covers).
      for (const s of streams.slice(1, 4)) {
        assert.ok(s.outs.every((o) => o.status === 200), `${s.name}: ${s.outs.filter((o) => o.status !== 200).length} of ${s.outs.length} failed: ${JSON.stringify(s.outs.filter((o) => o.status !== 200).slice(0, 3))}`);
      }
      // After recovery X succeeds again: the last requests all passed.
      assert.ok(xs.outs.slice(-5).every((o) => o.status === 200), JSON.stringify(xs.outs.slice(-5)));
      figures.failover = {
        outageObservedMs: Math.round(downUntil - killedAt),
        promotedAfterMs: Math.round(promotedAt - killedAt),
        xRecoveredAfterKillMs: Math.round(recoveredAt - killedAt),
        xRefused: xs.outs.filter((o) => o.status === 503).length,
        readyzNotReadyDuringOutage: `${readyz.filter((r) => r.at > killedAt && r.at < promotedAt && r.status !== 200).length} of ${readyz.filter((r) => r.at > killedAt && r.at < promotedAt).length}`,
        readyzNotReadyAfterPromotion: readyz.filter((r) => r.at >= promotedAt && r.status !== 200).length,
        requests: Object.fromEntries(streams.map((s) => [s.name, s.outs.length])),
      };
    });

    test('after the failover: revocations still reach the other replica within a second (subscribers moved off the dead node), /readyz ok again', async () => {
      figures.revocationAfterFailoverMs = await revokeAndMeasure(orgs[0]!);
      for (const r of [a, b]) {
        await until(`${r.name} ready again`, 10_000, async () => (await fetch(r.url + '/readyz')).status === 200);
      }
    });
  });
});

