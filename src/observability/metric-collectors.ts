// The series read from the rest of Tollgate when /metrics is scraped (prom-client collect()
// callbacks): the request log queue, the key cache, requests in flight, the database and Redis
// (pinged), and the remaining budgets (read from the database, cached).
import { sql } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MetricSources, MetricsConfig } from './metrics.ts';
import { budgetSnapshot, type BudgetSnapshot } from './metric-budgets.ts';

const PING_TIMEOUT_MS = 1000;
/** a budget reading slower than this shows no budget series in that scrape (well inside a scrape timeout) */
const BUDGET_TIMEOUT_MS = 3000;

export function registerCollectors(registry: Registry, src: () => MetricSources, cfg: MetricsConfig): void {
  const registers = [registry];
  new Gauge({ name: 'tollgate_log_queue_depth', help: 'Request log rows waiting to be written to the database', registers, collect() {
    this.set(src().logWriter.pending);
  } });
  // The log writer keeps its own running totals; a counter reports them as they are.
  const total = (name: string, help: string, read: (s: MetricSources) => number) => new Counter({ name, help, registers, collect() {
    this.reset();
    this.inc(read(src()));
  } });
  total('tollgate_log_rows_dropped_total', 'Request log rows dropped because the queue was full (TOLLGATE_LOG_QUEUE_MAX) while the database was unreachable', (s) => s.logWriter.dropped);
  total('tollgate_log_rows_written_total', 'Request log rows written to the database', (s) => s.logWriter.written);
  total('tollgate_log_flush_failures_total', 'Failed request log flushes (retried)', (s) => s.logWriter.failures);
  new Counter({ name: 'tollgate_key_cache_lookups_total', help: 'API key cache lookups by result (hit, miss)', labelNames: ['result'], registers, collect() {
    const cache = src().keyCache;
    this.reset();
    this.inc({ result: 'hit' }, cache.hits);
    this.inc({ result: 'miss' }, cache.misses);
  } });
  new Gauge({ name: 'tollgate_key_cache_entries', help: 'API keys in the key cache', registers, collect() {
    this.set(src().keyCache.size);
  } });
  new Gauge({ name: 'tollgate_requests_in_flight', help: '/v1 requests inside the pipeline on this replica', registers, collect() {
    this.set(src().inFlight.size);
  } });
  const ping = pinger(src);
  new Gauge({ name: 'tollgate_dependency_up', help: 'Whether a dependency answered a ping within 1 s at scrape time (database; redis in cluster mode)', labelNames: ['dependency'], registers, async collect() {
    const up = await ping();
    this.set({ dependency: 'database' }, up.database ? 1 : 0);
    if (up.redis !== undefined) this.set({ dependency: 'redis' }, up.redis ? 1 : 0);
  } });
  budgetGauges(registers, budgetReader(src, cfg));
}

function budgetGauges(registers: Registry[], read: () => Promise<BudgetSnapshot | null>): void {
  const usd = (micro: number) => micro / 1e6;
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge<string>, s: BudgetSnapshot) => void) => new Gauge({ name, help, labelNames, registers, async collect() {
    const s = await read();
    // A failed reading shows no series rather than stale ones.
    this.reset();
    if (s) fill(this, s);
  } });
  const teamLabels = (id: number) => ({ team: String(id) });
  const keyLabels = (id: number, team: number | null) => ({ key: String(id), team: team === null ? 'none' : String(team) });
  gauge('tollgate_remaining_team_budget_usd', "A team's budget left in its current period (USD; negative once a soft budget is overspent)", ['team'], (g, s) => {
    for (const t of s.teams) g.set(teamLabels(t.id), usd(t.limitMicro - t.spentMicro));
  });
  gauge('tollgate_team_budget_usd', "A team's budget per period (USD)", ['team'], (g, s) => {
    for (const t of s.teams) g.set(teamLabels(t.id), usd(t.limitMicro));
  });
  gauge('tollgate_remaining_key_budget_usd', "A key's budget left in its current period (USD); key = the first key of its rotation lineage", ['key', 'team'], (g, s) => {
    for (const k of s.keys) g.set(keyLabels(k.id, k.teamId), usd(k.limitMicro - k.spentMicro));
  });
  gauge('tollgate_key_budget_usd', "A key's budget per period (USD)", ['key', 'team'], (g, s) => {
    for (const k of s.keys) g.set(keyLabels(k.id, k.teamId), usd(k.limitMicro));
  });
  gauge('tollgate_budget_series_truncated', 'Whether more teams or keys have a budget than TOLLGATE_METRICS_BUDGET_SERIES lets the budget gauges show (1: some are left out)', ['scope'], (g, s) => {
    g.set({ scope: 'team' }, s.truncated.team ? 1 : 0);
    g.set({ scope: 'key' }, s.truncated.key ? 1 : 0);
  });
}

/** Budgets and spend, read at most once per budgetCacheMs however many scrapes (and gauges) ask. */
function budgetReader(src: () => MetricSources, cfg: MetricsConfig): () => Promise<BudgetSnapshot | null> {
  let last: { at: number; reading: Promise<BudgetSnapshot | null> } | undefined;
  return () => {
    const at = performance.now();
    if (last && at - last.at < cfg.budgetCacheMs) return last.reading;
    const s = src();
    const reading = within(budgetSnapshot(s.db.kysely, s.clock.now(), cfg.budgetSeries), BUDGET_TIMEOUT_MS, null);
    last = { at, reading };
    return reading;
  };
}

/** Pings the database (and Redis in cluster mode); concurrent scrapes share one ping. */
function pinger(src: () => MetricSources): () => Promise<{ database: boolean; redis: boolean | undefined }> {
  let pinging: Promise<{ database: boolean; redis: boolean | undefined }> | undefined;
  return () => (pinging ??= (async () => {
    const s = src();
    const database = within(sql`select 1`.execute(s.db.kysely).then(() => true), PING_TIMEOUT_MS, false);
    const redis = s.config.redisUrl ? within(Promise.all([s.counters.ping?.() ?? true, s.invalidator.ping?.() ?? true]).then(([a, b]) => a && b), PING_TIMEOUT_MS, false) : undefined;
    return { database: await database, redis: redis === undefined ? undefined : await redis };
  })().finally(() => (pinging = undefined)));
}

/** What p resolves to within ms; the fallback if it fails or takes longer. */
function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => (timer = setTimeout(resolve, ms, fallback)));
  return Promise.race([p.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}
