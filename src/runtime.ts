// Assembles a running Tollgate from a Config: store, migrations, bootstrap, caches, writer, app.
// main.ts and the CLI use it; so do tests (with a temp data dir, a fake clock, …).
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { openDb } from './db/connection.ts';
import { migrate } from './db/migrate.ts';
import { systemClock, type Clock } from './clock.ts';
import { loadVault } from './vault/crypto.ts';
import { KeyCache } from './keys/key-cache.ts';
import { Router } from './providers/router.ts';
import { PriceBook } from './usage/pricing.ts';
import { LogWriter } from './usage/log-writer.ts';
import { LocalInvalidator } from './cache/invalidator.ts';
import { MemoryCounterStore } from './policy/memory-store.ts';
import { PolicyCache } from './policy/policy-cache.ts';
import { Alerts } from './policy/alerts.ts';
import { LimitsEngine } from './policy/engine.ts';
import { spentInPeriod } from './policy/policies.repository.ts';
import type { CounterStore } from './policy/counter-store.ts';
import { bootstrap, type BootstrapResult } from './bootstrap.ts';
import { buildApp } from './app.ts';
import { closePools } from './providers/http-pool.ts';
import { InFlight } from './proxy/in-flight.ts';

export interface Runtime {
  deps: Deps;
  app: FastifyInstance;
  boot: BootstrapResult;
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
  const db = openDb(config.databaseUrl);
  await migrate(db);
  const { vault } = loadVault(config.encryptionKey, config.dataDir);
  const boot = await bootstrap(db.kysely, config, vault, clock.now());
  const prices = new PriceBook(config.pricing);
  const invalidator = new LocalInvalidator();
  const keyCache = new KeyCache(config.keyCacheSize, config.negativeCacheSeconds * 1000);
  const router = new Router(db.kysely, vault, prices);
  invalidator.subscribe((e) => keyCache.invalidate(e));
  invalidator.subscribe((e) => router.invalidate(e));
  let log: FastifyInstance['log'] | undefined;
  const logWriter = new LogWriter(db.kysely, {
    flushMs: config.logFlushMs,
    batchSize: config.logBatchSize,
    queueMax: config.logQueueMax,
    onError: (err) => log?.error({ err: (err as Error).message, pending: logWriter.pending, dropped: logWriter.dropped }, 'request log flush failed; will retry'),
  });
  logWriter.start();
  const onError = (what: string) => (err: unknown) => log?.error({ err: (err as Error).message }, what);
  const counters = options.counters ?? new MemoryCounterStore();
  const policies = new PolicyCache(db.kysely, config.keyCacheSize * 4);
  invalidator.subscribe((e) => policies.invalidate(e));
  const alerts = new Alerts(db.kysely, config.alertWebhooks, onError('budget alert delivery failed'));
  const loadSpent = async (scope: string, start: number, end: number | null) => {
    await logWriter.flush();
    return spentInPeriod(db.kysely, scope, start, end);
  };
  const slotTtlMs = config.upstreamTimeoutMs + 60_000;
  const admission = new LimitsEngine(counters, policies, alerts, { slotTtlMs, loadSpent, onError: onError('settling counters failed') });
  const deps: Deps = { config, db, clock, vault, keyCache, router, prices, logWriter, admission, policies, counters, alerts, loadSpent, invalidator, inFlight: new InFlight(), defaultOrgId: boot.defaultOrgId };
  const app = await buildApp(deps, { masterKeyHash: boot.masterKeyHash, ...(options.logger !== undefined ? { logger: options.logger } : {}) });
  log = app.log;
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await app.close();
      await deps.inFlight.drain();
      await alerts.drain();
      await logWriter.stop().catch(() => {});
      await invalidator.close();
      await counters.close();
      await closePools();
      await db.close();
    })());
  return { deps, app, boot, close };
}
