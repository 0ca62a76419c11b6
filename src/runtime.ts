// Assembles a running Tollgate from a Config: store, migrations, bootstrap, caches, writer, app.
// main.ts and the CLI use it; so do tests (with a temp data dir, a fake clock, …).
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { openDb, type Db } from './db/connection.ts';
import { migrate } from './db/migrate.ts';
import { systemClock, type Clock } from './clock.ts';
import { loadVault, type Vault } from './vault/crypto.ts';
import { OrgAccessCache } from './access/org-access.ts';
import { KeyCache } from './keys/key-cache.ts';
import { Router } from './providers/router.ts';
import { PriceBook } from './usage/pricing.ts';
import { openDurableLog } from './usage/durable-log.ts';
import { LocalInvalidator, type Invalidator } from './cache/invalidator.ts';
import { RedisInvalidator } from './cache/redis-invalidator.ts';
import { MemoryCounterStore } from './policy/memory-store.ts';
import { windowRebuild } from './policy/window-rebuild.ts';
import { RedisCounterStore } from './policy/redis-store.ts';
import { clusterNodes, openRedis, openSubscriber, waitReady } from './redis.ts';
import { redactRedisUrl } from './redis-url.ts';
import type { Cluster } from 'ioredis';
import { PolicyCache } from './policy/policy-cache.ts';
import { Alerts } from './policy/alerts.ts';
import { LimitsEngine } from './policy/engine.ts';
import { spentInPeriod } from './policy/policies.repository.ts';
import type { CounterStore } from './policy/counter-store.ts';
import { bootstrap, type BootstrapResult } from './bootstrap.ts';
import { buildApp } from './app.ts';
import { closePools } from './providers/http-pool.ts';
import { InFlight } from './proxy/in-flight.ts';
import { AuthThrottle } from './proxy/auth-throttle.ts';
import { OrgSlots } from './proxy/org-slots.ts';
import { RotationScheduler } from './keys/rotation-scheduler.ts';
import { LogRetention } from './usage/log-retention.ts';
import { LogPartitionKeeper } from './usage/log-partitions.ts';
import { ProvisionedKeySweeper } from './provisioning/sweeper.ts';
import { guardedConnector } from './net/guarded-connector.ts';
import { createUpstreamGuard } from './net/ssrf.ts';
import type { RequestTracing } from './observability/tracing.ts';
import { Metrics } from './observability/metrics.ts';

export interface Runtime {
  deps: Deps;
  app: FastifyInstance;
  boot: BootstrapResult;
  /** scheduled key rotation and expiry reminders (tests call its tick(now)) */
  rotation: RotationScheduler;
  /** request log pruning by age, TOLLGATE_LOG_RETENTION_DAYS (tests call its tick()) */
  retention: LogRetention;
  /** PostgreSQL: creates request_logs' daily partitions ahead of time (tests call its tick()) */
  partitions: LogPartitionKeeper;
  /** deletes revoked and expired provisioned keys at their provider (tests call its tick()) */
  provisioning: ProvisionedKeySweeper;
  /** Stops accepting requests, drains in-flight ones, flushes logs, closes the store. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  clock?: Clock;
  /** replaces the counter store chosen from the config (tests) */
  counters?: CounterStore;
  logger?: boolean | object;
}

export async function startRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const clock = options.clock ?? systemClock;
  let log: FastifyInstance['log'] | undefined;
  const db = openDb(config.databaseUrl, { poolSize: config.databasePoolSize, checkpointInWorker: true, onError: (message) => log?.error(message) });
  await migrate(db);
  const { vault } = loadVault(config.encryptionKey, config.dataDir);
  const boot = await bootstrapOnce(db, config, vault, clock.now());
  const prices = new PriceBook(config.pricing);
  const shared = config.redisUrl
    ? await openShared(config, {
      warn: (what) => throttled((err) => log?.warn({ err: (err as Error).message }, what)),
      released: (replica, entries, chargedMicro) => log?.warn({ replica, entries, charged_usd: chargedMicro / 1e6 }, 'a replica stopped beating: its concurrency leases were released and its budget reservations (its requests in flight, its settlements not yet sent) charged as spend'),
    })
    : undefined;
  const invalidator = shared?.invalidator ?? new LocalInvalidator();
  const keyCache = new KeyCache(config.keyCacheSize, config.negativeCacheSeconds * 1000);
  const router = new Router(db.kysely, vault, prices, { clock, demo: config.demo, breaker: config.breaker });
  const orgAccess = new OrgAccessCache(db.kysely);
  invalidator.subscribe((e) => orgAccess.invalidate(e));
  invalidator.subscribe((e) => keyCache.invalidate(e));
  invalidator.subscribe((e) => router.invalidate(e));
  // Replays what a crashed run left in the journal before anything is rebuilt from the logs.
  const journalFailed = throttled((err) => log?.error({ err: (err as Error).message }, 'request log journal write failed; rows are kept in memory only'));
  const durableLog = await openDurableLog(db, config, {
    usageMinutes: !config.redisUrl,
    report: {
      flushFailed: (err, w) => log?.error({ err: (err as Error).message, pending: w.pending, dropped: w.dropped }, 'request log flush failed; will retry'),
      journalFailed,
      journalOverflow: (rows) => log?.error({ rows }, 'request log journal full (TOLLGATE_JOURNAL_MAX_MB) while the database is unreachable: its oldest rows were deleted'),
    },
  });
  const logWriter = durableLog.writer;
  const onError = (what: string) => (err: unknown) => log?.error({ err: (err as Error).message }, what);
  const counters = options.counters ?? shared?.counters ?? new MemoryCounterStore({ rebuild: await windowRebuild(db.kysely, clock.now()) });
  const policies = new PolicyCache(db.kysely, config.keyCacheSize * 4);
  invalidator.subscribe((e) => policies.invalidate(e));
  const alerts = new Alerts(db.kysely, config.alertWebhooks, onError('budget alert delivery failed'));
  const loadSpent = async (scope: string, start: number, end: number | null) => {
    await logWriter.flush();
    return spentInPeriod(db.kysely, scope, start, end);
  };
  const slotTtlMs = config.upstreamTimeoutMs + 60_000;
  const admission = new LimitsEngine(counters, policies, alerts, {
    slotTtlMs,
    loadSpent,
    onError: onError('settling counters failed'),
    failOpen: config.failOpen,
    onStoreDown: (err, failOpen, suppressed) =>
      log?.warn({ err: (err as Error).message, failOpen, suppressed }, failOpen ? 'counter store unreachable: admitting WITHOUT limits (TOLLGATE_FAIL_OPEN)' : 'counter store unreachable: refusing requests that need counters (503)'),
  });
  // The scrape-time collectors read the deps (log queue, key cache, database …) once they exist.
  const metrics = new Metrics(config.metrics, () => deps);
  // The OpenTelemetry SDK and its exporter (protobuf) are loaded only when tracing is on: with it
  // off they would add their load time to every start and nothing else.
  const tracing: RequestTracing | null = config.tracing
    ? (await import('./observability/tracing.ts')).startTracing(config.tracing, { onExportError: throttled((message) => log?.warn({ err: message }, 'trace export failed; those spans are dropped')) })
    : null;
  const deps: Deps = { config, db, clock, vault, keyCache, orgAccess, router, prices, logWriter, admission, policies, counters, alerts, loadSpent, invalidator, inFlight: new InFlight(), upstreamPool: { connections: config.upstreamConnections, connect: guardedConnector(createUpstreamGuard(config.upstreamAllow)) }, authThrottle: new AuthThrottle(config.authFailuresPerMinute), orgSlots: new OrgSlots(config.orgMaxParallelDefault), metrics, tracing, defaultOrgId: boot.defaultOrgId };
  const app = await buildApp(deps, { masterKeyHash: boot.masterKeyHash, ...(options.logger !== undefined ? { logger: options.logger } : {}) });
  log = app.log;
  const rotation = new RotationScheduler(deps, {
    checkMs: config.rotationCheckSeconds * 1000,
    reminderDays: config.keyExpiryReminderDays,
    sinks: config.keyWebhooks,
    onError: (what, err, keyId) => log?.error({ err: (err as Error).message, keyId }, what),
  });
  rotation.start();
  // Before the first request: a new installation has its day partitions (PostgreSQL only).
  const partitions = new LogPartitionKeeper(db, clock, {
    onResult: (r) => (r.created.length ? log?.info({ created: r.created, moved_rows: r.moved, ms: r.ms }, 'request log partitions created') : undefined),
    onError: onError('creating request log partitions failed; rows go to the default partition meanwhile, will retry'),
  });
  await partitions.start();
  const retention = new LogRetention(db, clock, {
    days: config.logRetentionDays,
    onResult: (r) => (r.skipped ? log?.debug({ ...r }, 'request log pruning left to another replica') : log?.info({ pruned_rows: r.pruned, batches: r.batches, partitions_dropped: r.partitionsDropped, cutoff: r.cutoff, ms: r.ms }, 'request logs pruned')),
    onError: onError('pruning request logs failed; will retry'),
  });
  retention.start();
  const provisioning = new ProvisionedKeySweeper(deps, { checkMs: 60_000, onError: (what, err, keyId) => log?.error({ err: (err as Error).message, provisionedKeyId: keyId }, what) });
  provisioning.start();
  if (durableLog.replay?.replayed || durableLog.replay?.bad) log.warn({ ...durableLog.replay }, 'request log journal replayed: rows answered by the previous run but not yet committed');
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      // Stop accepting and close idle keep-alive connections; in-flight requests (streams too) go on.
      deps.inFlight.closing = true;
      const closing = app.close();
      await deps.inFlight.drain();
      // Connections that never carried a request are not "idle" to Node and would otherwise hold
      // the close for the whole keep-alive timeout.
      app.server.closeAllConnections();
      await closing;
      await rotation.stop();
      await retention.stop();
      await partitions.stop();
      await provisioning.stop();
      await alerts.drain();
      await durableLog.close();
      // The drained requests' spans, after their log rows (a collector that is down waits one export timeout).
      await tracing?.shutdown();
      await invalidator.close();
      await counters.close();
      if (shared && shared.counters !== counters) await shared.counters.close();
      await closePools();
      await db.close();
    })());
  return { deps, app, boot, rotation, retention, partitions, provisioning, close };
}

/**
 * Replicas started together on a fresh PostgreSQL database would each create the default
 * organization (and the loser would crash on its unique slug): bootstrap one at a time, under a
 * transaction-scoped advisory lock (released at commit; safe behind PgBouncer in transaction mode).
 * SQLite has one process by construction.
 */
function bootstrapOnce(db: Db, config: Config, vault: Vault, now: number): Promise<BootstrapResult> {
  if (db.dialect !== 'postgres') return bootstrap(db.kysely, config, vault, now);
  return bootstrap(db.kysely, config, vault, now, async (trx) => {
    await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
  });
}
const BOOTSTRAP_LOCK = 0x746f6c6c; // "toll"

/**
 * Cluster mode: counters and cache invalidation in Redis. Three connections per replica: one for
 * the admission scripts, one to publish invalidations, one subscribed to them. Start-up waits a
 * little for Redis, then goes on regardless (not ready; ioredis keeps reconnecting).
 */
async function openShared(config: Config, report: { warn: (what: string) => (err: unknown) => void; released: (replica: string, entries: number, chargedMicro: number) => void }): Promise<{ counters: RedisCounterStore; invalidator: Invalidator }> {
  const { warn } = report;
  const conn = { url: config.redisUrl!, timeoutMs: config.redisTimeoutMs, cluster: config.redisCluster };
  const main = openRedis(conn, { batched: true });
  const counters = new RedisCounterStore(main, {
    prefix: config.redisPrefix,
    onError: warn('a settlement could not be applied in Redis: its reservation and lease stay held until this replica stops'),
    ledger: {
      heartbeatMs: config.replicaHeartbeatMs,
      onError: warn('replica heartbeat or release of dead replicas failed; will retry'),
      onPresumedDead: () => warn('this replica missed 3 heartbeats (TOLLGATE_REPLICA_HEARTBEAT_MS) and was presumed dead: the leases of its requests then in flight were released and their reservations charged as spend')(new Error('alive key expired')),
      onReleased: report.released,
    },
  });
  const pub = openRedis(conn);
  // On a cluster the subscriber hops between the nodes the publishing connection knows.
  const sub = openSubscriber(conn, config.redisCluster ? () => clusterNodes(pub as Cluster) : undefined);
  const invalidator = new RedisInvalidator({ pub, sub, channel: config.redisPrefix + 'invalidate', onError: warn('cache invalidation could not be published; will retry') });
  const wait = Math.max(2 * config.redisTimeoutMs, 2000);
  if (!(await waitReady(main, wait)) || !(await waitReady(sub, wait))) {
    process.emitWarning(`Redis at ${redactRedisUrl(config.redisUrl!)} is not reachable yet; /readyz reports unavailable until it is`);
  }
  return { counters, invalidator };
}

/** Calls fn at most once per 10 s. */
function throttled(fn: (err: unknown) => void): (err: unknown) => void {
  let at = -Infinity;
  return (err) => {
    if (performance.now() - at < 10_000) return;
    at = performance.now();
    fn(err);
  };
}
