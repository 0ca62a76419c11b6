// `npm run bench:scale`: Tollgate's store at organization scale (issue #5). Loads 1,000,000 keys,
// 10,000 teams (10 members each) and 10,000,000 request-log rows with their matching daily spend
// rollups into PostgreSQL, with the schema of src/db/migrate.ts, using set-based SQL
// (generate_series). The keys, by id g: created one a minute up to now; 70% used in the last 90
// days; 30% expire within a year; 2% revoked, 1% disabled; 5% owned by 100 service accounts
// (500 each); 10% in one large team (team 1); tags "prod" (33%), "ci"+"batch" (33%), "pci"
// (0.01%); half have a description ("Workload <md5>"). Then measures:
//   - a cold key lookup (loadKeyContext: what a cache miss costs), p50/p99 over 1,000 distinct keys
//   - a team's spend read from the rollups (spendSummary), over 200 teams
//   - key listing pages (listKeyPage, what GET /api/keys runs), first page and a deep page, by
//     OFFSET and by keyset; then every filter × sort a UI offers (bench/lib/listing-scale.ts),
//     first page and a deep cursor page
//   - warm requests through a Tollgate process on the loaded database vs an empty one (with a
//     watchdog: statements running > 1 s in pg_stat_activity are recorded, and the run is abandoned
//     after 120 s), the first request's latency, and the admin key listing over HTTP
//     (GET /api/keys first page, ?offset=, ?after=)
//   - the usage API's main groupings over usage_rollups (bench/lib/usage-scale.ts; migration
//     0015's backfill fills them from the loaded log rows, as the flushes would have)
//   - memory after 1,000,000 distinct keys were seen (the key cache must stay bounded)
// Writes bench/results/scale.json.
//
//   node bench/scale.ts [--keys=1000000] [--teams=10000] [--logs=10000000] [--sqlite] [--no-warm]
//                       [--no-listings] [--listing-reps=20] [--no-usage] [--no-postgres] [--out=scale.json]
// PostgreSQL: TOLLGATE_BENCH_PG_URL (a server URL; a fresh database is created on it), else a
// throwaway server via test/support/services.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Database } from '../src/db/types.ts';
import { openDb, type Db } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { generateKey, hashSecret } from '../src/keys/key-format.ts';
import { loadKeyContext } from '../src/keys/key-context.ts';
import { OrgAccessCache } from '../src/access/org-access.ts';
import { spendSummary } from '../src/usage/spend.repository.ts';
import { spentInPeriod } from '../src/policy/policies.repository.ts';
import { listKeyPage, monthOf, type KeyListing } from '../src/keys/key-listing.ts';
import { measureListings, type ListingResult, type ListingShape } from './lib/listing-scale.ts';
import { measureUsage, type UsageResult } from './lib/usage-scale.ts';
import { measureLogs, type LogsResult } from './lib/logs-scale.ts';
import { summarize, type Summary } from './lib/stats.ts';
import { ROOT, startTollgate, startUpstream } from './lib/targets.ts';
import { startChild } from './lib/proc.ts';
import type { LoadResult } from './lib/load-types.ts';
import { BIG_TEAM, LOADED_AT, loadPostgres, loadSqlite, migrateLoaded } from './lib/scale-load.ts';

const arg = (name: string, dflt: number) => {
  const v = process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return v === undefined ? dflt : Number(v.replace(/_/g, ''));
};
const N = { keys: arg('keys', 1_000_000), teams: arg('teams', 10_000), logs: arg('logs', 10_000_000), membersPerTeam: 10, realKeys: 1000, days: 90, serviceAccounts: 100 };
N.realKeys = Math.min(N.realKeys, N.keys);
const users = () => N.teams * N.membersPerTeam;
const withSqlite = process.argv.includes('--sqlite');
const withWarm = !process.argv.includes('--no-warm');
const withListings = !process.argv.includes('--no-listings');
/** --no-postgres: SQLite alone (with --sqlite), e.g. to re-measure it; the PostgreSQL checks are then skipped */
const withPostgres = !process.argv.includes('--no-postgres');
/** timed runs of each listing combination's first and deep page */
const listingReps = arg('listing-reps', 20);
/** --no-usage: skip the usage API's groupings (bench/lib/usage-scale.ts) */
const withUsage = !process.argv.includes('--no-usage');
/** --no-logs: skip the request log listings (bench/lib/logs-scale.ts) */
const withLogs = !process.argv.includes('--no-logs');

const say = (s: string) => process.stdout.write(s + '\n');
const ms = (t0: number) => Math.round(performance.now() - t0);

// ---- loading ----

/** Real secrets (so authenticate can find them), spread evenly over the key ids. */
const secrets = Array.from({ length: N.realKeys }, () => generateKey());
const stride = Math.floor(N.keys / N.realKeys);
const realHashes = secrets.map(hashSecret);
const realKeyId = (i: number) => (i + 1) * stride;

const AT = new Date().toISOString();

// ---- measuring ----

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<Summary> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return summarize(out);
}

const fmt = (s: Summary) => `p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms, max ${s.max.toFixed(3)} ms (n=${s.count})`;

async function measureQueries(db: Db): Promise<Record<string, Summary | string | ListingResult[] | UsageResult[] | LogsResult[]>> {
  const k = db.kysely;
  const now = Date.now();
  const out: Record<string, Summary | string | ListingResult[] | UsageResult[] | LogsResult[]> = {};
  // Every real key exactly once: nothing is cached in Tollgate but each org's access rules, loaded
  // once per organization (as a fresh process would do).
  const orgAccess = new OrgAccessCache(k);
  const order = secrets.map((_, i) => i).sort(() => Math.random() - 0.5);
  let missing = 0;
  out.coldKeyLookup = await timed(order.length, async (i) => {
    const ctx = await loadKeyContext(k, orgAccess, realHashes[order[i]!]!);
    if (!ctx) missing++;
  });
  if (missing) out.coldKeyLookupMissing = `${missing} of the real keys were not found`;
  say(`  cold key lookup (loadKeyContext): ${fmt(out.coldKeyLookup)}`);
  out.unknownKeyLookup = await timed(200, () => loadKeyContext(k, orgAccess, hashSecret(generateKey())));
  say(`  unknown key lookup: ${fmt(out.unknownKeyLookup)}`);
  const team = (i: number) => 1 + ((i * 7919) % N.teams);
  await spendSummary(k, { teamId: team(9999) }, now);
  out.teamSpend = await timed(200, (i) => spendSummary(k, { teamId: team(i) }, now));
  say(`  team spend (spendSummary, rollups): ${fmt(out.teamSpend)}`);
  out.keySpend = await timed(20, (i) => spendSummary(k, { keyIds: [realKeyId(i % N.realKeys)] }, now));
  say(`  key spend: ${fmt(out.keySpend)}`);
  out.userSpend = await timed(100, (i) => spendSummary(k, { userId: 1 + ((i * 7919) % users()) }, now));
  say(`  member spend: ${fmt(out.userSpend)}`);
  out.orgSpend = await timed(3, () => spendSummary(k, { orgId: 1 }, now));
  say(`  whole-org spend (every rollup row): ${fmt(out.orgSpend)}`);
  // An organization budget's counter rebuild (after a start or a Redis loss): all time, and this month.
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  out.orgBudgetTotal = await timed(5, () => spentInPeriod(k, 'org:1', 0, null));
  out.orgBudgetMonth = await timed(5, () => spentInPeriod(k, 'org:1', monthStart, null));
  say(`  org budget rebuild (org_day_rollups), all time: ${fmt(out.orgBudgetTotal)}; this month: ${fmt(out.orgBudgetMonth)}`);
  // The listing GET /api/keys runs (listKeyPage): default filters (live keys), creation order.
  const page = (extra: Partial<KeyListing>) =>
    listKeyPage(db, { orgId: 1, statuses: ['active', 'disabled'], tags: [], sort: { key: 'created_at', desc: false }, offset: 0, limit: 50, month: monthOf(now), ...extra });
  out.listKeysFirstPage = await timed(50, () => page({}));
  say(`  key listing, first page of 50: ${fmt(out.listKeysFirstPage)}`);
  out.listKeysTeamPage = await timed(100, (i) => page({ teamId: team(i) }));
  say(`  key listing of a team (50): ${fmt(out.listKeysTeamPage)}`);
  const deep = Math.floor(N.keys / 2);
  out.listKeysDeepPage = await timed(10, () => page({ offset: deep }));
  say(`  key listing, page at offset ${deep.toLocaleString('en')}: ${fmt(out.listKeysDeepPage)}`);
  out.listKeysDeepKeyset = await timed(50, (i) => page({ after: { value: null, id: deep + i * 1000 } }));
  say(`  key listing, page after id ${deep.toLocaleString('en')} (keyset): ${fmt(out.listKeysDeepKeyset)}`);
  out.listKeysTeamDeepKeyset = await timed(50, (i) => page({ teamId: team(i), after: { value: null, id: deep } }));
  say(`  key listing of a team, page after id ${deep.toLocaleString('en')} (keyset): ${fmt(out.listKeysTeamDeepKeyset)}`);
  if (withListings) {
    const shape: ListingShape = { keys: N.keys, at: Date.parse(AT), team: team(7), bigTeam: BIG_TEAM, user: 1 + ((7 * 7919) % users()), serviceAccount: 3 };
    say('  key listings, every filter × sort (50 per page; p50 / p99 ms):');
    out.listings = await measureListings(db, shape, listingReps, say);
  }
  if (withUsage) {
    say('  usage API (GET /api/usage without HTTP; usage_rollups from migration 0015; p50 / p99 ms):');
    out.usage = await measureUsage(db, { at: now, team: team(7), bigTeam: BIG_TEAM, user: 1 + ((7 * 7919) % users()) }, 20, say);
  }
  if (withLogs) {
    say('  request log listings (GET /api/logs without HTTP; 50 per page; first / deep page p50 / p99 ms):');
    out.logs = await measureLogs(db, { at: now, days: N.days, team: team(7), bigTeam: BIG_TEAM, key: realKeyId(7), user: 1 + ((7 * 7919) % users()) }, 20, say);
  }
  return out;
}

/** Memory of a process that has seen 1M distinct keys, in a child so RSS is its own. */
function keyCacheMemory(): unknown {
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(ROOT, 'bench/lib/key-cache-memory.ts'), String(1_000_000)], { encoding: 'utf8', maxBuffer: 10_000_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

interface WarmResult {
  load?: LoadResult;
  /** set when the measured run did not finish within the watchdog's limit */
  abandoned?: string;
  /** the first /v1 request after setup: includes every on-demand load (key context, policies, budget counters) */
  firstRequestMs: number;
  /** statements seen running for more than 1 s in pg_stat_activity during the run */
  slowStatements: Array<{ seconds: number; query: string }>;
  http?: Record<string, Summary>;
}

async function warmRequests(databaseUrl: string, label: string): Promise<WarmResult> {
  const upstream = await startUpstream();
  const slow = new Map<string, number>();
  const watch = new pg.Client({ connectionString: databaseUrl });
  await watch.connect();
  const poll = setInterval(() => {
    watch
      .query(`select extract(epoch from now() - query_start)::float as s, query from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and now() - query_start > interval '1 second'`)
      .then((r) => {
        for (const row of r.rows as Array<{ s: number; query: string }>) slow.set(row.query.slice(0, 400), Math.max(slow.get(row.query.slice(0, 400)) ?? 0, row.s));
      })
      .catch(() => {});
  }, 1000);
  try {
    const t = await startTollgate({ name: `scale-${label}`, upstream: upstream.baseUrl, env: { TOLLGATE_DATABASE_URL: databaseUrl } });
    try {
      const url = `${t.baseUrl}/v1/chat/completions`;
      const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 32 });
      const f0 = performance.now();
      const first = await fetch(url, { method: 'POST', headers: { authorization: t.auth!, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(120_000) });
      await first.arrayBuffer();
      const firstRequestMs = performance.now() - f0;
      say(`  first request, ${label}: ${first.status} in ${firstRequestMs.toFixed(1)} ms`);
      const loadgen = async (rate: number, durationMs: number) => {
        const spec = { mode: 'open', url, headers: { authorization: t.auth! }, body, rate, durationMs: durationMs + 1000, warmupMs: 1000 };
        const child = startChild('loadgen', process.execPath, [path.join(ROOT, 'bench/loadgen.ts'), JSON.stringify(spec)]);
        const limit = new Promise<string>((resolve) => setTimeout(() => resolve(`did not finish within ${(durationMs + 120_000) / 1000} s`), durationMs + 120_000).unref());
        const r = await Promise.race([child.ready, limit]);
        if (typeof r === 'string') {
          await child.stop('SIGKILL', 1000);
          return r;
        }
        return r as unknown as LoadResult;
      };
      const out: WarmResult = { firstRequestMs, slowStatements: [] };
      const w = await loadgen(500, 2000);
      const r = typeof w === 'string' ? w : await loadgen(1000, 8000);
      if (typeof r === 'string') {
        out.abandoned = r;
        say(`  warm requests at 1,000/s, ${label}: ABANDONED, ${r}`);
      } else {
        out.load = r;
        say(`  warm requests at 1,000/s, ${label}: p50 ${r.latency.p50.toFixed(3)} ms, p99 ${r.latency.p99.toFixed(3)} ms, p99.9 ${r.latency.p999.toFixed(3)} ms, ${r.errors} errors`);
      }
      // The admin key listing over HTTP (org 1 is the loaded organization; Tollgate adopts the first org).
      const get = (q: string) => async () => {
        const res = await fetch(`${t.baseUrl}/api/keys?${q}`, { headers: { 'x-admin-key': t.adminKey! }, signal: AbortSignal.timeout(60_000) });
        const j = (await res.json()) as { data?: unknown[] };
        if (res.status !== 200 || !Array.isArray(j.data)) throw new Error(`GET /api/keys?${q} → ${res.status}: ${JSON.stringify(j).slice(0, 200)}`);
      };
      const deep = Math.floor(N.keys / 2);
      try {
        out.http = {
          firstPage: await timed(30, () => get('limit=50')()),
          offsetDeep: await timed(10, () => get(`limit=50&offset=${deep}`)()),
          afterDeep: await timed(30, (i) => get(`limit=50&after=${deep + i * 1000}`)()),
        };
        say(`  GET /api/keys first page: ${fmt(out.http.firstPage!)}; ?offset=${deep}: ${fmt(out.http.offsetDeep!)}; ?after=${deep}: ${fmt(out.http.afterDeep!)}`);
        // A few of the filter × sort combinations, and a page reached by next_cursor.
        const combos: Record<string, string> = {
          spendTop: 'sort=-spend',
          expiringSearch: 'q=key-12&sort=expires_at',
          disabledTagRecent: 'tag=prod&status=disabled&sort=-last_used_at',
        };
        for (const [name, q] of Object.entries(combos)) out.http[name] = await timed(30, () => get(`limit=50&${q}`)());
        const first = await fetch(`${t.baseUrl}/api/keys?limit=50&sort=-spend`, { headers: { 'x-admin-key': t.adminKey! } });
        const cursor = ((await first.json()) as { next_cursor?: string }).next_cursor;
        if (cursor) out.http.spendNextPage = await timed(30, () => get(`limit=50&sort=-spend&cursor=${cursor}`)());
        say(`  GET /api/keys ${Object.entries(combos).map(([n, q]) => `?${q}: ${fmt(out.http![n]!)}`).join('; ')}${out.http.spendNextPage ? `; ?sort=-spend&cursor=(page 2): ${fmt(out.http.spendNextPage)}` : ''}`);
      } catch (err) {
        say(`  GET /api/keys: ${(err as Error).message}`);
      }
      out.slowStatements = [...slow].map(([query, seconds]) => ({ seconds: Math.round(seconds * 10) / 10, query }));
      for (const x of out.slowStatements) say(`  slow statement (${x.seconds} s): ${x.query.replace(/\s+/g, ' ').slice(0, 300)}`);
      return out;
    } finally {
      await t.stop();
    }
  } finally {
    clearInterval(poll);
    await watch.end();
    await upstream.stop();
  }
}

// ---- main ----

interface PgHandle { serverUrl: string; createDatabase(name: string): Promise<string>; stop(): Promise<void> }

async function postgres(): Promise<PgHandle> {
  const env = process.env.TOLLGATE_BENCH_PG_URL;
  const create = async (serverUrl: string, name: string) => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(`drop database if exists "${name}"`);
      await c.query(`create database "${name}" template template0`);
    } finally {
      await c.end();
    }
    const u = new URL(serverUrl);
    u.pathname = '/' + name;
    return u.toString();
  };
  if (env) return { serverUrl: env, createDatabase: (n) => create(env, n), stop: async () => {} };
  const modulePath = path.join(ROOT, 'test/support/services.ts');
  const services = (await import(modulePath)) as { pgAvailable(): boolean; startPostgres(): Promise<{ url: string; stop(): Promise<void> }> };
  if (!services.pgAvailable()) throw new Error('PostgreSQL is not installed: set TOLLGATE_BENCH_PG_URL or TOLLGATE_PG_BIN');
  const server = await services.startPostgres();
  return { serverUrl: server.url, createDatabase: (n) => create(server.url, n), stop: () => server.stop() };
}

const started = Date.now();
say(`Scale: ${N.keys.toLocaleString('en')} keys, ${N.teams.toLocaleString('en')} teams, ${users().toLocaleString('en')} users, ${N.logs.toLocaleString('en')} log rows`);
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cpus: os.availableParallelism(), counts: { ...N, users: users() } };
if (withPostgres) {
  const server = await postgres();
  try {
    say('\n[postgres] loading');
    const url = await server.createDatabase(`bench_scale_${process.pid}`);
    const db = openDb(url);
    try {
      await migrate(db, LOADED_AT);
      const t0 = performance.now();
      await loadPostgres(url, N, { hashes: realHashes, idOf: realKeyId }, AT, say);
      const migrated = await migrateLoaded(db, say);
      const loadMs = ms(t0);
      const size = await sql<{ size: string }>`select pg_size_pretty(pg_database_size(current_database())) as size`.execute(db.kysely);
      say(`  loaded in ${(loadMs / 1000).toFixed(1)} s; database size ${size.rows[0]?.size}`);
      say('\n[postgres] queries');
      results.postgres = { loadSeconds: loadMs / 1000, databaseSize: size.rows[0]?.size, migrated, ...(await measureQueries(db)) };
    } finally {
      await db.close();
    }
    if (withWarm) {
      say('\n[postgres] warm requests through Tollgate: loaded database vs empty');
      const empty = await server.createDatabase(`bench_empty_${process.pid}`);
      const emptyR = await warmRequests(empty, 'empty database');
      const loadedR = await warmRequests(url, 'loaded database');
      results.warmRequests = {
        empty: emptyR.load?.latency,
        loaded: loadedR.load?.latency,
        errors: { empty: emptyR.load?.errors, loaded: loadedR.load?.errors },
        abandoned: { empty: emptyR.abandoned, loaded: loadedR.abandoned },
        firstRequestMs: { empty: emptyR.firstRequestMs, loaded: loadedR.firstRequestMs },
        slowStatements: { empty: emptyR.slowStatements, loaded: loadedR.slowStatements },
        httpKeyListing: { empty: emptyR.http, loaded: loadedR.http },
      };
    }
  } finally {
    await server.stop();
  }
}

if (withSqlite) {
  say('\n[sqlite] loading');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-scale-'));
  const db = openDb(`sqlite:${path.join(dir, 'scale.db')}`);
  try {
    await migrate(db, LOADED_AT);
    const t0 = performance.now();
    await loadSqlite(db.kysely, N, { hashes: realHashes, idOf: realKeyId }, AT, say);
    const migrated = await migrateLoaded(db, say);
    const loadMs = ms(t0);
    say(`  loaded in ${(loadMs / 1000).toFixed(1)} s`);
    say('\n[sqlite] queries');
    results.sqlite = { loadSeconds: loadMs / 1000, migrated, ...(await measureQueries(db)) };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

say('\n[memory] 1,000,000 distinct keys seen by one process');
results.keyCacheMemory = keyCacheMemory();
say(`  ${JSON.stringify(results.keyCacheMemory)}`);

// The targets of the issue, on PostgreSQL (none without it).
const p = (results.postgres ?? {}) as Record<string, Summary>;
const w = results.warmRequests as { empty?: Summary; loaded?: Summary; abandoned: { loaded?: string } } | undefined;
const checks = !results.postgres ? [] : [
  { target: 'cold key lookup on PostgreSQL < 2 ms (p99)', value: `${p.coldKeyLookup!.p99.toFixed(3)} ms`, pass: p.coldKeyLookup!.p99 < 2 },
  { target: 'team spend read (rollups) < 50 ms (p99)', value: `${p.teamSpend!.p99.toFixed(3)} ms`, pass: p.teamSpend!.p99 < 50 },
  { target: 'key listing first page < 100 ms (p99)', value: `${p.listKeysFirstPage!.p99.toFixed(3)} ms`, pass: p.listKeysFirstPage!.p99 < 100 },
  { target: `key listing deep page (offset ${Math.floor(N.keys / 2).toLocaleString('en')}) < 100 ms (p99)`, value: `${p.listKeysDeepPage!.p99.toFixed(3)} ms`, pass: p.listKeysDeepPage!.p99 < 100 },
  { target: `key listing deep page by keyset (after id ${Math.floor(N.keys / 2).toLocaleString('en')}) < 100 ms (p99)`, value: `${p.listKeysDeepKeyset!.p99.toFixed(3)} ms`, pass: p.listKeysDeepKeyset!.p99 < 100 },
  ...(p.listings
    ? [(() => {
        const all = p.listings as unknown as ListingResult[];
        const worst = (r: ListingResult) => Math.max(r.first.p99, r.deep.p99);
        const over = all.filter((r) => worst(r) >= 100);
        const top = [...all].sort((a, b) => worst(b) - worst(a))[0]!;
        return {
          target: `every key listing filter × sort, first and deep page < 100 ms (p99; ${all.length} combinations)`,
          value: over.length === 0 ? `slowest ${top.filter} ${top.sort}: ${worst(top).toFixed(1)} ms` : `${over.length} over: ${over.map((r) => `${r.filter} ${r.sort} ${worst(r).toFixed(0)} ms`).join('; ')}`,
          pass: over.length === 0,
        };
      })()]
    : []),
  ...(p.usage
    ? [(() => {
        // The large team (10% of the keys by key) is reported, not held to the target: see docs/observability.md.
        // So is ranking every key of a range (the spend explorer's "by key" chart): it sums every
        // key's rollups; the Overview's top keys read the key listing's spend sort instead
        // (measured with the key listing filters × sorts above). See docs/benchmarks.md.
        const all = (p.usage as unknown as UsageResult[]).filter((r) => !r.name.includes('large team') && !r.name.startsWith('top 10 keys'));
        const over = all.filter((r) => r.timing.p99 >= 100);
        const top = [...all].sort((a, b) => b.timing.p99 - a.timing.p99)[0]!;
        return {
          target: `usage API main groupings < 100 ms (p99; ${all.length} queries)`,
          value: over.length === 0 ? `slowest ${top.name}: ${top.timing.p99.toFixed(1)} ms` : `${over.length} over: ${over.map((r) => `${r.name} ${r.timing.p99.toFixed(0)} ms`).join('; ')}`,
          pass: over.length === 0,
        };
      })()]
    : []),
  ...(w
    ? [
        w.empty && w.loaded
          ? { target: 'warm requests unaffected by the data (p99 within 1 ms of an empty database)', value: `${(w.loaded.p99 - w.empty.p99).toFixed(3)} ms (${w.empty.p99.toFixed(3)} → ${w.loaded.p99.toFixed(3)})`, pass: w.loaded.p99 - w.empty.p99 <= 1 }
          : { target: 'warm requests unaffected by the data', value: `not measured: ${w.abandoned.loaded ?? 'the empty-database run failed'}`, pass: false },
      ]
    : []),
  (() => {
    const m = results.keyCacheMemory as { bounded: { rssMB: number; cacheSize: number; maxEntries: number } };
    return { target: 'key cache bounded after 1M keys seen', value: `${m.bounded.cacheSize.toLocaleString('en')} entries (max ${m.bounded.maxEntries.toLocaleString('en')}), RSS ${m.bounded.rssMB} MB`, pass: m.bounded.cacheSize <= m.bounded.maxEntries };
  })(),
];
results.checks = checks;
say('');
for (const c of checks) say(`${c.pass ? 'PASS' : 'FAIL'}  ${c.target}: ${c.value}`);
results.elapsedSeconds = Math.round((Date.now() - started) / 1000);
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
const outName = process.argv.find((a) => a.startsWith('--out='))?.slice(6) ?? 'scale.json';
const outFile = path.resolve(ROOT, 'bench/results', outName); // a bare name lands in bench/results/
writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
say(`\nwrote ${path.relative(process.cwd(), outFile)} (${results.elapsedSeconds} s)`);
process.exit(0);
