// The usage API at scale, for `npm run bench:scale`: the main groupings of GET /api/usage timed
// through usageJson / usageCsv (what the route runs, without HTTP) on the loaded database, whose
// usage_rollups were filled from the 10M log rows by migration 0015's backfill — the rows every
// log flush would have written. Each is timed whole: the page (1,000 groups) and the totals, the
// names of the page's ids; the CSV export every line of it; a top N (order=cost) the ranking of
// every group of the range and the N rows, as the dashboard's Overview asks it.
import type { Db } from '../../src/db/connection.ts';
import { parseGroupBy, usageRange, type Filters, type UsageOrder, type UsageQuery } from '../../src/usage/usage-query.ts';
import type { UsageScope } from '../../src/usage/usage-scope.ts';
import { decodeCursor, usageCsv, usageJson } from '../../src/usage/usage-report.ts';
import { summarize, type Summary } from './stats.ts';

export interface UsageShape {
  /** the loader's clock: logs span the days before it */
  at: number;
  /** a team of ~100 keys, the large team (10% of the keys), a member */
  team: number;
  bigTeam: number;
  user: number;
}

export interface UsageResult { name: string; timing: Summary; rows: number }

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function query(s: UsageShape, groupBy: string, range: { from?: string; to?: string }, filters: Filters = {}, scope: UsageScope = 'all'): UsageQuery {
  const { dims, grain } = parseGroupBy(groupBy);
  const { from, to } = usageRange({ format: 'json', limit: 1000, ...range }, grain, s.at);
  return { orgId: 1, dims, grain, from, to, filters, scope };
}

async function timed(n: number, fn: () => Promise<number>): Promise<{ times: number[]; rows: number }> {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    rows = await fn();
    times.push(performance.now() - t0);
    // A slow one is reported from 5 runs rather than holding up the benchmark.
    if (times[0]! > 1000 && i >= 4) break;
  }
  return { times, rows };
}

export async function measureUsage(db: Db, s: UsageShape, reps: number, say: (line: string) => void): Promise<UsageResult[]> {
  const k = db.kysely;
  const month = { from: day(s.at - 29 * DAY), to: day(s.at) };
  const lastWhole = new Date(Date.UTC(new Date(s.at).getUTCFullYear(), new Date(s.at).getUTCMonth() - 1, 1));
  const calendarMonth = { from: day(lastWhole.getTime()), to: day(Date.UTC(lastWhole.getUTCFullYear(), lastWhole.getUTCMonth() + 1, 0)) };
  const hour = Math.floor(s.at / 3_600_000) * 3_600_000;
  const twoDays = { from: new Date(hour - 47 * 3_600_000).toISOString(), to: new Date(hour + 3_600_000).toISOString() };
  const json = (q: UsageQuery, cursor?: string) => async () => (await usageJson(k, q, s.at, cursor === undefined ? undefined : decodeCursor(cursor, q), 1000)).data.length;
  const csv = (q: UsageQuery) => async () => {
    let lines = -1;
    for await (const chunk of usageCsv(k, q, s.at, undefined)) lines += chunk.split('\r\n').length - 1;
    return lines;
  };
  // The Overview's top lists: this calendar month so far (as the dashboard asks), ranked in SQL.
  const thisMonth = { from: day(Date.UTC(new Date(s.at).getUTCFullYear(), new Date(s.at).getUTCMonth(), 1)), to: day(s.at) };
  const top = (groupBy: string, range: { from: string; to: string }, order: UsageOrder, n: number) =>
    async () => (await usageJson(k, { ...query(s, groupBy, range), order }, s.at, undefined, n)).data.length;
  const teamDay = query(s, 'team,day', month);
  // page 2 of team × day: any later page costs the same (a keyset continuation)
  const second = (await usageJson(k, teamDay, s.at, undefined, 1000)).next_cursor ?? undefined;
  const cases: Array<[string, () => Promise<number>]> = [
    ['by team by day, 30 days (first page of 1,000)', json(teamDay)],
    ['by team by day, 30 days (next page, cursor)', json(teamDay, second)],
    ['by model, 30 days', json(query(s, 'model', month))],
    ['by day, 30 days', json(query(s, 'day', month))],
    ['by key for one team (~100 keys), 30 days', json(query(s, 'key', month, { teamId: s.team }))],
    ['by key for the large team (10% of keys), 30 days, first page', json(query(s, 'key', month, { teamId: s.bigTeam }))],
    ['by model and day for one member (their keys), 30 days', json(query(s, 'model,day', month, {}, { teams: [], userId: s.user }))],
    ['hourly, last 2 days', json(query(s, 'hour', twoDays))],
    ['hourly by model, last 2 days', json(query(s, 'hour,model', twoDays))],
    ['hourly for one team, last 2 days', json(query(s, 'hour', twoDays, { teamId: s.team }))],
    [`by team and model for ${calendarMonth.from.slice(0, 7)} (totals, first page)`, json(query(s, 'team,model', calendarMonth))],
    [`CSV by team and model for ${calendarMonth.from.slice(0, 7)} (every row)`, csv(query(s, 'team,model', calendarMonth))],
    [`top 10 keys by cost, this month (${thisMonth.from} to ${thisMonth.to})`, top('key', thisMonth, 'cost', 10)],
    ['top 10 keys by cost, 30 days', top('key', month, 'cost', 10)],
    ['top 5 teams by cost, this month', top('team', thisMonth, 'cost', 5)],
    ['top 5 models by cost, this month', top('model', thisMonth, 'cost', 5)],
    ['CSV by team and model, 30 days (every row)', csv(query(s, 'team,model', month))],
  ];
  const out: UsageResult[] = [];
  for (const [name, fn] of cases) {
    await fn(); // warms the plan cache
    const r = await timed(reps, fn);
    const timing = summarize(r.times);
    out.push({ name, timing, rows: r.rows });
    say(`  ${name.padEnd(66)} p50 ${timing.p50.toFixed(2)} p99 ${timing.p99.toFixed(2)} ms (${r.rows} rows)${timing.p99 >= 100 ? '  ** over 100 ms' : ''}`);
  }
  return out;
}
