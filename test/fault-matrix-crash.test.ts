// Fault matrix, process fault (issue 8, "Keep proving it"): Tollgate (`node src/main.ts`, as an
// operator runs it) killed with SIGKILL in the middle of a load, then started again on the same data
// directory, embedded and in cluster mode. The log flushes once a second here, so without a journal
// the last second of answered requests would be gone. Every request a client got an answer for must
// be in the log exactly once and in the spend; a request cut by the kill may be logged at most once;
// the budget, rebuilt from the database on start, is never overshot; nothing stays reserved.
import { describe, test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ledgerKey } from '../src/policy/redis-keys.ts';
import { serviceSkip, testPostgresUrl, testRedisUrl } from './support/services.ts';
import { startReplica, type Replica } from './support/replicas.ts';
import { UPSTREAM_KEY } from './support/gateway.ts';
import { startFaultUpstream, type FaultUpstream } from './support/fault-upstream.ts';
import { drive, faultEnv, mix, times, type Shot } from './support/fault-load.ts';
import { awaitReleased, cellKey, checkRecovery, openLogStore, Problems, verifyCell, type Area } from './support/fault-checks.ts';

const ADMIN_KEY = 'fault-matrix-admin-key-0123456789';
const MODELS = ['fault', 'fault_drip-5'];
const load = (n: number): Shot[] => mix(times(n, { model: 'fault_drip-5', client: 'sdk-stream', maxTokens: 16 }), times(n, { model: 'fault', client: 'fetch', maxTokens: 16 }));
/** Killed after this many answers of the first 200 requests; 200 more after the restart. */
const KILL_AT = 100;
/** About 42 µ$ a request: the cap is reached about 50 requests after the restart. */
const CAP_USD = 0.0065;

type Mode = 'embedded' | 'cluster';

const skip = (mode: Mode) => (mode === 'cluster' ? serviceSkip('postgres') || serviceSkip('redis') : false);

/**
 * The key-level budget reservations held in the replicas' ledgers under `prefix` (read before
 * another replica starts: only the killed process's ledger is there, not yet released).
 */
async function heldByLedgers(prefix: string): Promise<number> {
  const redis = new Redis(testRedisUrl()!);
  try {
    let held = 0;
    for (const ledger of await redis.keys(ledgerKey(prefix, '*', '*'))) {
      for (const [field, micro] of Object.entries(await redis.hgetall(ledger))) if (field.includes(':bg:key:')) held += Number(micro);
    }
    return held;
  } finally {
    redis.disconnect();
  }
}

for (const mode of ['embedded', 'cluster'] as const) {
  describe(`fault matrix: Tollgate SIGKILLed under load and restarted (${mode})`, { skip: skip(mode) }, () => {
    let fault: FaultUpstream;
    let dataDir: string;
    let env: Record<string, string>;
    let databaseUrl: string;
    before(async () => {
      fault = await startFaultUpstream({ requireAuth: UPSTREAM_KEY, completionTokens: 4096 });
      dataDir = mkdtempSync(path.join(tmpdir(), 'tollgate-crash-'));
      databaseUrl = mode === 'cluster' ? (await testPostgresUrl())! : `sqlite:${path.join(dataDir, 'tollgate.db')}`;
      env = {
        TOLLGATE_DATA_DIR: dataDir, TOLLGATE_ADMIN_KEY: ADMIN_KEY, OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: fault.baseUrl + '/v1',
        TOLLGATE_LOG_FLUSH_MS: '1000', ...faultEnv(MODELS),
        // The restarted replica releases what the killed one held once it has missed 3 heartbeats.
        ...(mode === 'cluster' ? { TOLLGATE_DATABASE_URL: databaseUrl, TOLLGATE_REDIS_URL: testRedisUrl()!, TOLLGATE_REDIS_PREFIX: `fm${randomBytes(4).toString('hex')}:`, TOLLGATE_REPLICA_HEARTBEAT_MS: '500' } : {}),
      };
    });
    /** What the scenario left: the problems by area, a summary, and how recovery went. */
    let result: { areas: Record<Area, string[]>; summary: string; recovery: string[] };
    let first: Replica | undefined;
    let second: Replica | undefined;
    before(async () => {
      first = await startReplica(`crash-${mode}-1`, env, ADMIN_KEY);
      const key = await cellKey(first.api, `sigkill ${mode}`, CAP_USD, 16);
      let killed = false;
      const target = { url: first.url, secret: key.secret, fault };
      const untilKill = await drive(target, load(100), {
        concurrency: 16,
        stop: () => killed,
        onDone: (_o, done) => {
          if (done !== KILL_AT) return;
          killed = true;
          first!.child.kill('SIGKILL');
        },
      });
      assert.equal(await first.stop(), null, 'killed by the signal');
      const held = mode === 'cluster' ? await heldByLedgers(env.TOLLGATE_REDIS_PREFIX!) : 0;
      second = await startReplica(`crash-${mode}-2`, env, ADMIN_KEY);
      // Cluster: the load after the restart starts once the killed process's leases are released
      // (within 4 beats), so that it runs into the hard cap with the charged reservations counted.
      const release = new Problems();
      if (mode === 'cluster') await awaitReleased(release, second.api, key);
      const afterRestart = await drive({ ...target, url: second.url }, load(100), { concurrency: 16 });
      const store = openLogStore(databaseUrl);
      const { areas, summary } = await verifyCell({ api: second.api, store, fault, key, outcomes: [...untilKill, ...afterRestart], expect: { crash: true, crashLagRequests: mode === 'cluster' ? 16 : 0, crashHeldMicro: held } });
      const answered = untilKill.filter((o) => o.answered).length;
      areas.counters.unshift(...release.list('counters'));
      result = { areas, summary: `before the kill: ${untilKill.length} sent, ${answered} answered${mode === 'cluster' ? `, ${held} µ$ of the key's budget reserved by the killed process` : ''}; ${summary}`, recovery: await checkRecovery(second.api, second.url, fault, store) };
    });
    after(async () => {
      await second?.stop();
      if (first && first.child.exitCode === null && first.child.signalCode === null) await first.stop();
      await fault?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    test('no answered request is lost from the log or the spend; the budget holds across the restart; the restarted process serves', (t: TestContext) => {
      t.diagnostic(result.summary);
      assert.deepEqual([...result.areas.requests, ...result.recovery], [], result.summary);
    });

    test('the slots and reservations the killed process held are released, and the budget counter agrees with the rollups', () => {
      assert.deepEqual(result.areas.counters, [], result.summary);
    });
  });
}
