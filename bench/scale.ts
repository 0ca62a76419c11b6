// `npm run bench:scale`: Tollgate's store at organization scale (issue #5). Loads 1,000,000 keys,
// 10,000 teams (10 members each) and 10,000,000 request-log rows with their matching daily spend
// rollups into PostgreSQL, with the schema of src/db/migrate.ts, using set-based SQL
// (generate_series), then measures:
//   - a cold key lookup (loadKeyContext: what a cache miss costs), p50/p99 over 1,000 distinct keys
//   - a team's spend read from the rollups (spendSummary), over 200 teams
//   - key listing pages (listKeys), first page and a deep page, by OFFSET and by keyset (afterId)
//   - warm requests through a Tollgate process on the loaded database vs an empty one (with a
//     watchdog: statements running > 1 s in pg_stat_activity are recorded, and the run is abandoned
//     after 120 s), the first request's latency, and the admin key listing over HTTP
//     (GET /api/keys first page, ?offset=, ?after=)
//   - memory after 1,000,000 distinct keys were seen (the key cache must stay bounded)
// Writes bench/results/scale.json.
//
//   node bench/scale.ts [--keys=1000000] [--teams=10000] [--logs=10000000] [--sqlite] [--no-warm]
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
import { listKeys } from '../src/keys/keys.repository.ts';
import { summarize, type Summary } from './lib/stats.ts';
import { ROOT, startTollgate, startUpstream } from './lib/targets.ts';
import { startChild } from './lib/proc.ts';
import type { LoadResult } from './lib/load-types.ts';

const arg = (name: string, dflt: number) => {
  const v = process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return v === undefined ? dflt : Number(v.replace(/_/g, ''));
};
const N = { keys: arg('keys', 1_000_000), teams: arg('teams', 10_000), logs: arg('logs', 10_000_000), membersPerTeam: 10, realKeys: 1000, days: 90 };
N.realKeys = Math.min(N.realKeys, N.keys);
const users = () => N.teams * N.membersPerTeam;
const withSqlite = process.argv.includes('--sqlite');
const withWarm = !process.argv.includes('--no-warm');

const say = (s: string) => process.stdout.write(s + '\n');
const ms = (t0: number) => Math.round(performance.now() - t0);

// ---- loading ----

/** Real secrets (so authenticate can find them), spread evenly over the key ids. */
const secrets = Array.from({ length: N.realKeys }, () => generateKey());
const stride = Math.floor(N.keys / N.realKeys);
const realHashes = secrets.map(hashSecret);
const realKeyId = (i: number) => (i + 1) * stride;

const AT = new Date().toISOString();

async function loadPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const q = async (what: string, text: string, values: unknown[] = []) => {
    const t0 = performance.now();
    const r = await client.query(text, values);
    say(`  ${what}: ${r.rowCount ?? 0} rows in ${ms(t0)} ms`);
  };
  try {
    await client.query('SET synchronous_commit = off');
    await q('organization', `insert into organizations (name, slug, created_at, updated_at) values ('Scale', 'scale', $1, $1)`, [AT]);
    await q('teams', `insert into teams (org_id, name, slug, created_at, updated_at) select 1, 'team-' || g, 'team-' || g, $2, $2 from generate_series(1, $1::int) g`, [N.teams, AT]);
    await q('users', `insert into users (org_id, external_id, email, created_at, updated_at) select 1, 'user-' || g, 'user-' || g || '@example.com', $2, $2 from generate_series(1, $1::int) g`, [users(), AT]);
    // user u is a member of team ((u - 1) % teams) + 1
    await q('memberships', `insert into memberships (team_id, user_id, created_at, updated_at) select ((g - 1) % $2::int) + 1, g, $3, $3 from generate_series(1, $1::int) g`, [users(), N.teams, AT]);
    // key k belongs to team ((k - 1) % teams) + 1 and to one of that team's members
    const keyTeam = `((g - 1) % $2::int) + 1`;
    const keyUser = `${keyTeam} + $2::int * ((g / $2::int) % ${N.membersPerTeam})`;
    await q(
      'api_keys',
      `insert into api_keys (org_id, team_id, user_id, name, key_prefix, key_hash, status, created_at, updated_at)
       select 1, ${keyTeam}, ${keyUser}, 'key-' || g, 'sk-tg-' || substr(md5(g::text), 1, 6) || '...',
              case when g % $4::int = 0 and g / $4::int <= $5::int then ($3::text[])[g / $4::int] else encode(sha256(('bench-key-' || g)::bytea), 'hex') end,
              case when g % 50 = 0 then 'revoked' else 'active' end, $6, $6
       from generate_series(1, $1::int) g`,
      [N.keys, N.teams, realHashes, stride, N.realKeys, AT],
    );
    // Logs over the last N.days days; key spread by a multiplicative hash, team/user follow the key.
    const chunk = 2_000_000;
    for (let from = 1; from <= N.logs; from += chunk) {
      const to = Math.min(N.logs, from + chunk - 1);
      await q(
        `request_logs ${from.toLocaleString('en')}–${to.toLocaleString('en')}`,
        `insert into request_logs (request_id, created_at, org_id, team_id, user_id, key_id, endpoint, model, provider, status_code, streamed, tokens_in, tokens_out, cost_micro, latency_ms, client_ip)
         select md5(g::text), to_char(now() at time zone 'UTC' - (g % ($4::int * 86400)) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                1, ((k - 1) % $3::int) + 1, ((k - 1) % $3::int) + 1 + $3::int * ((k / $3::int) % ${N.membersPerTeam}), k,
                'chat/completions', case when g % 3 = 0 then 'gpt-4o' else 'gpt-4o-mini' end, 'openai', 200, g % 2, 100 + g % 500, 50 + g % 300,
                (100 + g % 500) * 15 / 100 + (50 + g % 300) * 60 / 100, 5 + g % 400, '10.0.0.1'
         from (select g, ((g::bigint * 2654435761) % $5::bigint) + 1 as k from generate_series($1::int, $2::int) g) s`,
        [from, to, N.teams, N.days, N.keys],
      );
    }
    await q(
      'spend_rollups (from the logs)',
      `insert into spend_rollups (day, key_id, model, org_id, team_id, user_id, requests, tokens_in, tokens_out, cost_micro, unpriced_requests)
       select substr(created_at, 1, 10), key_id, model, min(org_id), min(team_id), min(user_id), count(*), sum(tokens_in), sum(tokens_out), sum(cost_micro), 0
       from request_logs group by 1, 2, 3`,
    );
    await q(
      'org_day_rollups (from the rollups, as migration 0003 does)',
      `insert into org_day_rollups (org_id, day, requests, tokens_in, tokens_out, cost_micro, unpriced_requests)
       select org_id, day, sum(requests), sum(tokens_in), sum(tokens_out), sum(cost_micro), sum(unpriced_requests) from spend_rollups group by org_id, day`,
    );
    const t0 = performance.now();
    // A settled database, as in production: without this, autovacuum works through the fresh rows
    // during the measurements, on the same two cores.
    await client.query('vacuum analyze');
    say(`  vacuum analyze: ${ms(t0)} ms`);
  } finally {
    await client.end();
  }
}

async function loadSqlite(db: Kysely<Database>): Promise<void> {
  // No generate_series in SQLite: a recursive CTE counts instead; hashes are random blobs.
  const seq = (n: number) => sql`with recursive s(g) as (select 1 union all select g + 1 from s where g < ${n})`;
  const q = async (what: string, query: ReturnType<typeof sql>) => {
    const t0 = performance.now();
    const r = await query.execute(db);
    say(`  ${what}: ${r.numAffectedRows ?? 0} rows in ${ms(t0)} ms`);
  };
  await q('organization', sql`insert into organizations (name, slug, created_at, updated_at) values ('Scale', 'scale', ${AT}, ${AT})`);
  await q('teams', sql`${seq(N.teams)} insert into teams (org_id, name, slug, created_at, updated_at) select 1, 'team-' || g, 'team-' || g, ${AT}, ${AT} from s`);
  await q('users', sql`${seq(users())} insert into users (org_id, external_id, created_at, updated_at) select 1, 'user-' || g, ${AT}, ${AT} from s`);
  await q('memberships', sql`${seq(users())} insert into memberships (team_id, user_id, created_at, updated_at) select ((g - 1) % ${N.teams}) + 1, g, ${AT}, ${AT} from s`);
  await q(
    'api_keys',
    sql`${seq(N.keys)} insert into api_keys (org_id, team_id, user_id, name, key_prefix, key_hash, status, created_at, updated_at)
        select 1, ((g - 1) % ${N.teams}) + 1, ((g - 1) % ${N.teams}) + 1 + ${N.teams} * ((g / ${N.teams}) % ${N.membersPerTeam}), 'key-' || g, 'sk-tg-…', lower(hex(randomblob(32))),
               case when g % 50 = 0 then 'revoked' else 'active' end, ${AT}, ${AT} from s`,
  );
  const t0 = performance.now();
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < realHashes.length; i++) await trx.updateTable('api_keys').set({ key_hash: realHashes[i]! }).where('id', '=', realKeyId(i)).execute();
  });
  say(`  real keys: ${realHashes.length} in ${ms(t0)} ms`);
  await q(
    'request_logs',
    sql`${seq(N.logs)} insert into request_logs (request_id, created_at, org_id, team_id, user_id, key_id, endpoint, model, provider, status_code, streamed, tokens_in, tokens_out, cost_micro, latency_ms, client_ip)
        select lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (g % (${N.days} * 86400)) || ' seconds'), 1, ((k - 1) % ${N.teams}) + 1, ((k - 1) % ${N.teams}) + 1, k,
               'chat/completions', case when g % 3 = 0 then 'gpt-4o' else 'gpt-4o-mini' end, 'openai', 200, g % 2, 100 + g % 500, 50 + g % 300, 100, 5 + g % 400, '10.0.0.1'
        from (select g, ((g * 2654435761) % ${N.keys}) + 1 as k from s)`,
  );
  await q(
    'spend_rollups',
    sql`insert into spend_rollups (day, key_id, model, org_id, team_id, user_id, requests, tokens_in, tokens_out, cost_micro, unpriced_requests)
        select substr(created_at, 1, 10), key_id, model, min(org_id), min(team_id), min(user_id), count(*), sum(tokens_in), sum(tokens_out), sum(cost_micro), 0 from request_logs group by 1, 2, 3`,
  );
  await q('org_day_rollups', sql.raw(`insert into org_day_rollups (org_id, day, requests, tokens_in, tokens_out, cost_micro, unpriced_requests)
       select org_id, day, sum(requests), sum(tokens_in), sum(tokens_out), sum(cost_micro), sum(unpriced_requests) from spend_rollups group by org_id, day`));
  await sql`analyze`.execute(db);
}

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

async function measureQueries(db: Db): Promise<Record<string, Summary | string>> {
  const k = db.kysely;
  const now = Date.now();
  const out: Record<string, Summary | string> = {};
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
  out.listKeysFirstPage = await timed(50, () => listKeys(k, 1, {}, 50, 0));
  say(`  key listing, first page of 50: ${fmt(out.listKeysFirstPage)}`);
  out.listKeysTeamPage = await timed(100, (i) => listKeys(k, 1, { teamId: team(i) }, 50, 0));
  say(`  key listing of a team (50): ${fmt(out.listKeysTeamPage)}`);
  const deep = Math.floor(N.keys / 2);
  out.listKeysDeepPage = await timed(10, () => listKeys(k, 1, {}, 50, deep));
  say(`  key listing, page at offset ${deep.toLocaleString('en')}: ${fmt(out.listKeysDeepPage)}`);
  out.listKeysDeepKeyset = await timed(50, (i) => listKeys(k, 1, { afterId: deep + i * 1000 }, 50, 0));
  say(`  key listing, page after id ${deep.toLocaleString('en')} (keyset, afterId): ${fmt(out.listKeysDeepKeyset)}`);
  out.listKeysTeamDeepKeyset = await timed(50, (i) => listKeys(k, 1, { teamId: team(i), afterId: deep }, 50, 0));
  say(`  key listing of a team, page after id ${deep.toLocaleString('en')} (keyset): ${fmt(out.listKeysTeamDeepKeyset)}`);
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
const server = await postgres();
try {
  say('\n[postgres] loading');
  const url = await server.createDatabase(`bench_scale_${process.pid}`);
  const db = openDb(url);
  try {
    await migrate(db);
    const t0 = performance.now();
    await loadPostgres(url);
    const loadMs = ms(t0);
    const size = await sql<{ size: string }>`select pg_size_pretty(pg_database_size(current_database())) as size`.execute(db.kysely);
    say(`  loaded in ${(loadMs / 1000).toFixed(1)} s; database size ${size.rows[0]?.size}`);
    say('\n[postgres] queries');
    results.postgres = { loadSeconds: loadMs / 1000, databaseSize: size.rows[0]?.size, ...(await measureQueries(db)) };
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

if (withSqlite) {
  say('\n[sqlite] loading');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-scale-'));
  const db = openDb(`sqlite:${path.join(dir, 'scale.db')}`);
  try {
    await migrate(db);
    const t0 = performance.now();
    await loadSqlite(db.kysely);
    const loadMs = ms(t0);
    say(`  loaded in ${(loadMs / 1000).toFixed(1)} s`);
    say('\n[sqlite] queries');
    results.sqlite = { loadSeconds: loadMs / 1000, ...(await measureQueries(db)) };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

say('\n[memory] 1,000,000 distinct keys seen by one process');
results.keyCacheMemory = keyCacheMemory();
say(`  ${JSON.stringify(results.keyCacheMemory)}`);

// The targets of the issue, on PostgreSQL.
const p = results.postgres as Record<string, Summary>;
const w = results.warmRequests as { empty?: Summary; loaded?: Summary; abandoned: { loaded?: string } } | undefined;
const checks = [
  { target: 'cold key lookup on PostgreSQL < 2 ms (p99)', value: `${p.coldKeyLookup!.p99.toFixed(3)} ms`, pass: p.coldKeyLookup!.p99 < 2 },
  { target: 'team spend read (rollups) < 50 ms (p99)', value: `${p.teamSpend!.p99.toFixed(3)} ms`, pass: p.teamSpend!.p99 < 50 },
  { target: 'key listing first page < 100 ms (p99)', value: `${p.listKeysFirstPage!.p99.toFixed(3)} ms`, pass: p.listKeysFirstPage!.p99 < 100 },
  { target: `key listing deep page (offset ${Math.floor(N.keys / 2).toLocaleString('en')}) < 100 ms (p99)`, value: `${p.listKeysDeepPage!.p99.toFixed(3)} ms`, pass: p.listKeysDeepPage!.p99 < 100 },
  { target: `key listing deep page by keyset (after id ${Math.floor(N.keys / 2).toLocaleString('en')}) < 100 ms (p99)`, value: `${p.listKeysDeepKeyset!.p99.toFixed(3)} ms`, pass: p.listKeysDeepKeyset!.p99 < 100 },
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
