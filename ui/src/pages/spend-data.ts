// What the insights pages (overview.tsx, spend.tsx) make of GET /api/usage: UTC calendar
// arithmetic (the rollups count UTC days), every page of a grouping, and how a group reads (its
// id, label, page). The top N questions are spend-top.ts's.
import { api, type GetUsageQuery, type GetUsageResponse } from '../api/generated.ts';

export type UsageRow = GetUsageResponse['data'][number];
export type UsageTotals = GetUsageResponse['totals'];
export type Dim = 'team' | 'key' | 'user' | 'model' | 'provider';
export type Grain = 'day' | 'hour';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** YYYY-MM-DD of an instant, in UTC */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const dayMs = (d: string): number => Date.parse(d + 'T00:00:00Z');
export const addDays = (d: string, n: number): string => utcDay(dayMs(d) + n * DAY);
export const monthStart = (d: string): string => d.slice(0, 8) + '01';
export function addMonths(d: string, n: number): string {
  const t = new Date(dayMs(d));
  return utcDay(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + n, 1));
}

/** The days from `from` through `to` (both YYYY-MM-DD, inclusive). */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = dayMs(from); t <= dayMs(to); t += DAY) out.push(utcDay(t));
  return out;
}

/** The hours (as the API names them, YYYY-MM-DDTHH:00:00Z) from `from`'s start through `to`'s end, up to now. */
export function hoursOf(from: string, to: string, now = Date.now()): string[] {
  const out: string[] = [];
  const end = Math.min(dayMs(to) + DAY, Math.floor(now / HOUR) * HOUR + HOUR);
  for (let t = dayMs(from); t < end; t += HOUR) out.push(new Date(t).toISOString().slice(0, 13) + ':00:00Z');
  return out;
}

/** Every page of a grouping (a report is paged at 10,000 rows; `maxPages` bounds a runaway). */
export async function usageAll(query: GetUsageQuery, signal: AbortSignal, maxPages = 5): Promise<{ rows: UsageRow[]; totals: UsageTotals; complete: boolean }> {
  const rows: UsageRow[] = [];
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    const r = await api.getUsage({ query: { ...query, limit: 10_000, cursor }, options: { signal } });
    rows.push(...r.data);
    if (r.next_cursor === null) return { rows, totals: r.totals, complete: true };
    if (page + 1 >= maxPages) return { rows, totals: r.totals, complete: false };
    cursor = r.next_cursor;
  }
}

/** The id a row has for a dimension (what distinguishes groups), as text. */
export function groupId(row: UsageRow, dim: Dim): string {
  switch (dim) {
    case 'team': return String(row.team_id ?? 'none');
    case 'key': return String(row.key_id ?? 'none');
    case 'user': return String(row.user_id ?? 'none');
    case 'model': return row.model ?? '';
    case 'provider': return row.provider ?? 'none';
  }
}

/** How a group reads: names where the API gives them, with a fallback for what has none. */
export function groupLabel(row: UsageRow, dim: Dim): string {
  switch (dim) {
    case 'team': return row.team_id == null ? 'No team' : row.team_name ?? `Team ${row.team_id}`;
    case 'key': return row.key_id == null ? 'No key' : row.key_name ?? row.key_prefix ?? `Key ${row.key_id}`;
    case 'user': return row.user_id == null ? 'No owner (service keys)' : row.user_external_id ?? `User ${row.user_id}`;
    case 'model': return row.model || '(unknown)';
    case 'provider': return row.provider ?? 'No provider';
  }
}

/** Where a group's own page is, when it has one. */
export function groupHref(row: UsageRow, dim: Dim): string | undefined {
  if (dim === 'team' && row.team_id != null) return `/ui/teams/${row.team_id}`;
  if (dim === 'key' && row.key_id != null) return `/ui/keys/${row.key_id}`;
  return undefined;
}

export type Measure = 'cost' | 'requests' | 'tokens';
export const measureOf = (m: Measure) => (r: Pick<UsageRow, 'cost_usd' | 'requests' | 'tokens_in' | 'tokens_out'>): number =>
  m === 'cost' ? r.cost_usd : m === 'requests' ? r.requests : r.tokens_in + r.tokens_out;
