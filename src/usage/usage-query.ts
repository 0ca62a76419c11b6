// GET /api/usage's query: validated (zod, the same schema the OpenAPI document shows), then
// planned onto the rollup levels (usage/usage-rollups.ts): the coarsest level that still holds
// every dimension asked for (grouped, filtered or needed by the caller's scope), at the time
// grain asked for; without a grain, whole months of a team-level query read team_month.
import { z } from 'zod';
import { invalid } from '../http/errors.ts';
import { isoDateTime } from '../http/timestamps.ts';
import { queryId } from '../http/validate.ts';
import { firstKeptHour, HOURLY_DAYS, type Level } from './usage-rollups.ts';
import type { UsageScope } from './usage-scope.ts';

export const DIMS = ['team', 'user', 'key', 'model', 'provider'] as const;
export type Dim = (typeof DIMS)[number];
export type Grain = 'day' | 'hour';
/** What order=… ranks groups by (usage.repository.ts usageTop). */
export const USAGE_ORDERS = ['cost', 'requests', 'tokens'] as const;
export type UsageOrder = (typeof USAGE_ORDERS)[number];
/** The most groups order=… answers: a top list, not an export (that is paged by group key). */
export const TOP_MAX = 1000;

const date = z.string().regex(/^\d{4}-\d\d-\d\d$/).refine((v) => !Number.isNaN(Date.parse(v + 'T00:00:00Z')) && new Date(v + 'T00:00:00Z').toISOString().startsWith(v), 'is not a real date');
const dateOrTime = z.union([date, isoDateTime], { message: 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time with a time zone' });
const text = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const usageQuerySchema = z.strictObject({
  group_by: z.string().max(200).optional().describe(`a comma list of ${DIMS.join(', ')} and at most one of day, hour (e.g. team,model or key,day)`),
  from: dateOrTime.optional().describe('inclusive; default: the first day of this month (hour grouping: 24 hours ago)'),
  to: dateOrTime.optional().describe('exclusive for a date-time; a date means through the end of that day; default: the end of today (hour grouping: the end of this hour)'),
  team_id: queryId.optional(),
  key_id: queryId.optional(),
  user_id: queryId.optional(),
  model: text.optional(),
  provider: text.optional(),
  format: z.enum(['json', 'csv']).default('json'),
  order: z.enum(USAGE_ORDERS).optional().describe(`the top groups, largest first: by ${USAGE_ORDERS.join(', ')} (tokens in + out); limit is then how many (at most ${TOP_MAX}), in one page, CSV too; without it rows come in group key order, paged by cursor`),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000).describe(`rows per page (JSON; CSV streams every row); with order, the top N (at most ${TOP_MAX}, JSON and CSV)`),
  cursor: z.string().max(2000).optional().describe('next_cursor of the previous page (not with order)'),
});
export type UsageQueryInput = z.infer<typeof usageQuerySchema>;

export interface Filters { teamId?: number; keyId?: number; userId?: number; model?: string; provider?: string }

export interface UsageQuery {
  orgId: number;
  /** grouped dimensions, in DIMS order */
  dims: Dim[];
  grain: Grain | null;
  /** [from, to) in ms */
  from: number;
  to: number;
  filters: Filters;
  scope: UsageScope;
  /** the top groups by this sum (GET /api/usage order=…); absent: group key order, by cursor */
  order?: UsageOrder;
}

/**
 * Where the rows come from: one or more (level, bucket range) parts. `single`: the range is one
 * bucket (a calendar month, one day): read as an equality, so that PostgreSQL walks the primary
 * key in the group keys' order (team, user, key, model, provider) and stops at the page's end.
 */
export interface Plan { parts: Array<{ level: Level; lo: string; hi: string; single?: boolean }> }

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** order=… answers one page of at most TOP_MAX groups: no cursor, no larger limit. */
export function checkTop(q: Pick<UsageQueryInput, 'order' | 'limit' | 'cursor'>): void {
  if (q.order === undefined) return;
  if (q.limit > TOP_MAX) throw invalid('query.limit', `must be at most ${TOP_MAX} with order (the top groups)`);
  if (q.cursor !== undefined) throw invalid('query.cursor', 'cannot be used with order: the top groups come in one page');
}

export function parseGroupBy(v: string | undefined): { dims: Dim[]; grain: Grain | null } {
  const names = v === undefined || v.trim() === '' ? [] : v.split(',').map((s) => s.trim());
  const dims = new Set<Dim>();
  let grain: Grain | null = null;
  for (const n of names) {
    if (n === 'day' || n === 'hour') {
      if (grain !== null) throw invalid('query.group_by', 'at most one of day and hour');
      grain = n;
    } else if ((DIMS as readonly string[]).includes(n)) dims.add(n as Dim);
    else throw invalid('query.group_by', `"${n}" is not one of ${[...DIMS, 'day', 'hour'].join(', ')}`);
  }
  return { dims: DIMS.filter((d) => dims.has(d)), grain };
}

// Buckets are compared as text: bounds stay within four-digit years (an offset can push past them).
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T00:00:00Z');
const clamp = (ms: number) => Math.min(LATEST, Math.max(EARLIEST, ms));

/** A date bound: `from` at the day's start; `to` (a date) through the end of that day. */
const instant = (v: string, isTo: boolean) => (/^\d{4}-\d\d-\d\d$/.test(v) ? Date.parse(v + 'T00:00:00Z') + (isTo ? DAY : 0) : Date.parse(v));

export function usageRange(q: UsageQueryInput, grain: Grain | null, now: number): { from: number; to: number } {
  const today = Math.floor(now / DAY) * DAY;
  const hour = Math.floor(now / HOUR) * HOUR;
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const from = clamp(q.from !== undefined ? instant(q.from, false) : grain === 'hour' ? hour - 23 * HOUR : monthStart);
  const to = clamp(q.to !== undefined ? instant(q.to, true) : grain === 'hour' ? hour + HOUR : today + DAY);
  if (!(from < to)) throw invalid('query.to', 'must be after from');
  return { from, to };
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const hourBucket = (ms: number) => new Date(ms).toISOString().slice(0, 13);
const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);
const nextMonth = (ms: number) => Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth() + 1, 1);

/** The dimensions the rows must keep: grouped, filtered, or the scope's (a team list, the caller's keys). */
function dimensionLevel(dims: readonly Dim[], f: Filters, scope: UsageScope): 'key' | 'team' | 'org' {
  if (dims.includes('key') || dims.includes('user') || f.keyId !== undefined || f.userId !== undefined || (scope !== 'all' && scope.userId !== null)) return 'key';
  if (dims.includes('team') || f.teamId !== undefined || scope !== 'all') return 'team';
  return 'org';
}

/**
 * The parts to read. Day rows answer ranges on day boundaries; hour rows (kept HOURLY_DAYS days)
 * answer hour grouping and ranges on hour boundaries inside their days. Anything else is refused
 * naming the bound, rather than silently widened.
 */
export function plan(q: Pick<UsageQuery, 'dims' | 'grain' | 'from' | 'to' | 'filters' | 'scope'>, now: number): Plan {
  const dim = dimensionLevel(q.dims, q.filters, q.scope);
  const dayAligned = q.from % DAY === 0 && q.to % DAY === 0;
  const hourly = () => {
    for (const [name, v] of [['from', q.from], ['to', q.to]] as const) {
      if (v % HOUR !== 0) throw invalid(`query.${name}`, 'must be on a whole hour (usage is counted per hour)');
    }
    if (hourBucket(q.from) < firstKeptHour(now)) {
      throw invalid('query.from', `usage per hour is kept for ${HOURLY_DAYS} days: must be at or after ${firstKeptHour(now)}:00:00Z${q.grain === 'hour' ? '' : ', or both bounds on day boundaries'}`);
    }
    return { parts: [{ level: `${dim}_hour` as Level, lo: hourBucket(q.from), hi: hourBucket(q.to), single: q.to - q.from === HOUR }] };
  };
  if (q.grain === 'hour' || !dayAligned) {
    if (q.grain === 'day') throw invalid(dayAligned ? 'query.to' : q.from % DAY !== 0 ? 'query.from' : 'query.to', 'must be a date or a date-time at 00:00Z when grouping by day');
    return hourly();
  }
  if (q.grain === 'day' || dim !== 'team') return { parts: [{ level: `${dim}_day` as Level, lo: day(q.from), hi: day(q.to), single: q.to - q.from === DAY }] };
  // A team-level total over a range: its whole months from team_month, the days around them from team_day.
  const firstWhole = new Date(q.from).getUTCDate() === 1 ? q.from : nextMonth(q.from);
  let endWhole = firstWhole;
  while (nextMonth(endWhole) <= q.to) endWhole = nextMonth(endWhole);
  if (endWhole === firstWhole) return { parts: [{ level: 'team_day', lo: day(q.from), hi: day(q.to), single: q.to - q.from === DAY }] };
  const parts: Plan['parts'] = [{ level: 'team_month', lo: month(firstWhole), hi: month(endWhole), single: nextMonth(firstWhole) === endWhole }];
  if (q.from < firstWhole) parts.push({ level: 'team_day', lo: day(q.from), hi: day(firstWhole) });
  if (endWhole < q.to) parts.push({ level: 'team_day', lo: day(endWhole), hi: day(q.to) });
  return { parts };
}
