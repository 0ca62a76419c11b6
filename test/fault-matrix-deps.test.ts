// Fault matrix, dependency faults (issue 8, "Keep proving it"): PostgreSQL, then Redis, killed with
// SIGKILL under load and started again, under a Tollgate replica in cluster mode run as an operator
// runs it (`node src/main.ts`). The load goes on through the outage; afterwards every cell must hold
// what support/fault-checks.ts checks — every answered request logged exactly once with its status
// and cost (rows queued while the database was away included), rollups equal to the logs,
// reservations and slots released, the hard budget within its cap — and a new key works, with no
// operator involved.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import { serviceSkip, startPostgres, startRedis, type PgServer, type RedisServer } from './support/services.ts';
import { startReplica, type Replica } from './support/replicas.ts';
import { UPSTREAM_KEY } from './support/gateway.ts';
import { startFaultUpstream, type FaultUpstream } from './support/fault-upstream.ts';
import { drive, faultEnv, mix, times, type Shot } from './support/fault-load.ts';
import { cellKey, checkRecovery, openLogStore, verifyCell } from './support/fault-checks.ts';

const ADMIN_KEY = 'fault-matrix-admin-key-0123456789';
const MODELS = ['fault', 'fault_drip-10'];
/** About 2 s of load at 8 in flight: streams of 16 events 10 ms apart, and whole answers. */
const LOAD: Shot[] = mix(times(80, { model: 'fault_drip-10', client: 'sdk-stream', maxTokens: 16 }), times(80, { model: 'fault', client: 'fetch', maxTokens: 16 }));
/** Each request costs about 42 µ$: the cap stops the load about two thirds of the way through. */
const CAP_USD = 0.0045;

async function until(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// ---- PostgreSQL killed as a crash would kill it, and started again on its data and port ----

async function pgQuery<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  await client.connect();
  try { return (await client.query(text)).rows as T[]; } finally { await client.end().catch(() => {}); }
}

/** SIGKILL to the postmaster and every backend; returns how to start it again. */
async function killPostgres(url: string): Promise<{ dataDir: string; argv: string[] }> {
  const [{ data_directory: dataDir }] = await pgQuery<{ data_directory: string }>(url, 'show data_directory') as [{ data_directory: string }];
  const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  // postmaster.opts holds the command line it was started with: `postgres "-D" "…" "-p" "…" …`.
  const argv = [...fs.readFileSync(path.join(dataDir, 'postmaster.opts'), 'utf8').matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  const children = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(pid); } catch { return false; }
  }).map(Number);
  for (const p of [pid, ...children]) try { process.kill(p, 'SIGKILL'); } catch { /* already gone */ }
  await until('PostgreSQL to be gone', async () => !(await pgQuery(url, 'select 1').then(() => true, () => false)));
  return { dataDir, argv };
}

/** The same server again (crash recovery, then ready); the caller stops it. */
async function restartPostgres(url: string, dataDir: string, argv: string[]): Promise<ChildProcess> {
  const dir = path.dirname(dataDir);
  const { uid, gid } = fs.statSync(dataDir); // PostgreSQL runs as the owner of its data, never as root
  const log = fs.openSync(path.join(dir, 'postgres-restarted.log'), 'a');
  const child = spawn('/usr/lib/postgresql/15/bin/postgres', argv, { uid, gid, env: { PATH: process.env.PATH, LANG: 'C', HOME: dir }, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  // The crash guard of support/services.ts kills whatever pid this file names if the test run dies.
  fs.writeFileSync(path.join(dir, 'server.pid'), String(child.pid));
  process.once('exit', () => child.kill('SIGKILL'));
  await until('PostgreSQL to accept connections again', () => pgQuery(url, 'select 1').then(() => true));
  return child;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

/** SIGKILL to the Redis server (no persistence: it comes back empty, as after a crash). */
async function killRedis(redis: RedisServer): Promise<void> {
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  await client.connect();
  const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
  client.disconnect();
  process.kill(pid, 'SIGKILL');
}

describe('fault matrix: PostgreSQL and Redis killed and restarted under load (cluster mode)', { skip: serviceSkip('postgres') || serviceSkip('redis') }, () => {
  let pgServer: PgServer;
  let restarted: ChildProcess | undefined;
  let redis: RedisServer;
  let fault: FaultUpstream;
  let replica: Replica;
  let databaseUrl: string;
  before(async () => {
    [pgServer, redis, fault] = await Promise.all([startPostgres(), startRedis(), startFaultUpstream({ requireAuth: UPSTREAM_KEY, completionTokens: 4096 })]);
    databaseUrl = await pgServer.createDatabase();
    // The throwaway server runs with synchronous_commit off, which acknowledges a commit before its
    // WAL leaves PostgreSQL's memory: a SIGKILL would then lose commits Tollgate was told had
    // happened. Production servers keep it on; so does this database.
    await pgQuery(databaseUrl, `alter database "${new URL(databaseUrl).pathname.slice(1)}" set synchronous_commit = on`);
    replica = await startReplica('deps', {
      TOLLGATE_DATABASE_URL: databaseUrl, TOLLGATE_REDIS_URL: redis.url, TOLLGATE_REDIS_TIMEOUT_MS: '300', TOLLGATE_ADMIN_KEY: ADMIN_KEY,
      OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: fault.baseUrl + '/v1', TOLLGATE_LOG_FLUSH_MS: '50', ...faultEnv(MODELS),
    }, ADMIN_KEY);
  });
  after(async () => {
    await replica?.stop();
    await stopProcess(restarted);
    await pgServer?.stop();
    await redis?.stop();
    await fault?.close();
  });

  /** Runs the load, killing a quarter of the way through and reviving (what `kill` returns) at five eighths. */
  async function underLoad(name: string, kill: () => Promise<() => Promise<void>>) {
    const key = await cellKey(replica.api, name, CAP_USD, 16);
    const target = { url: replica.url, secret: key.secret, fault };
    const [warm] = await drive(target, [{ model: 'fault', client: 'fetch', maxTokens: 16 }], { concurrency: 1 }); // key, policies, budget counter cached
    let killed: Promise<() => Promise<void>> | undefined;
    let revived: Promise<void> | undefined;
    let down = false;
    /** statuses answered between the kill and the end of the restart */
    const whileDown: number[] = [];
    const outcomes = await drive(target, LOAD, {
      concurrency: 8,
      onDone: (o, done) => {
        if (down && o.answered) whileDown.push(o.status ?? 0);
        if (done === LOAD.length / 4) killed = kill().then((revive) => ((down = true), revive));
        if (done === (LOAD.length * 5) / 8) revived = killed!.then((revive) => revive()).then(() => void (down = false));
      },
    });
    await revived;
    await until('the replica to be ready again', async () => (await fetch(replica.url + '/readyz')).ok);
    const { problems, summary } = await verifyCell({ api: replica.api, store: openLogStore(databaseUrl), fault, key, outcomes: [warm!, ...outcomes] });
    problems.push(...(await checkRecovery(replica.api, replica.url, fault, openLogStore(databaseUrl))));
    return { problems, summary: `${summary}; answered while down: ${whileDown.length} (${whileDown.filter((s) => s === 200).length} × 200)`, outcomes, whileDown };
  }

  test('PostgreSQL SIGKILLed and restarted: warm keys keep being served, queued log rows land exactly once, spend and budget agree', async (t) => {
    const { problems, summary, whileDown } = await underLoad('postgres', async () => {
      const { dataDir, argv } = await killPostgres(databaseUrl);
      return async () => void (restarted = await restartPostgres(databaseUrl, dataDir, argv));
    });
    t.diagnostic(summary);
    assert.deepEqual(problems, [], summary);
    assert.ok(whileDown.includes(200), `the outage was under load: warm requests were served while PostgreSQL was down (${summary})`);
  });

  test('Redis SIGKILLed and restarted empty: budgeted requests refused with 503 while it is down, counters rebuilt from the database after', async (t) => {
    const { problems, summary, whileDown } = await underLoad('redis', async () => {
      await killRedis(redis);
      return () => redis.restart({ flush: true });
    });
    t.diagnostic(summary);
    assert.deepEqual(problems, [], summary);
    assert.ok(whileDown.includes(503), `the outage was under load: requests were refused with 503 while Redis was down (${summary})`);
  });
});
