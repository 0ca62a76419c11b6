// The spend explorer's view, as it lives in the URL query (so a view can be shared and reloaded):
// group, range (a preset or custom from/to), filters (team, key, model) and the chart's measure.
// It turns into GET /api/usage queries: the table's (also the CSV export's) and the chart's.
import type { GetUsageQuery } from '../api/generated.ts';
import { urlFor } from '../api/transport.ts';
import { addDays, addMonths, monthStart, utcDay, type Dim, type Grain, type Measure } from './spend-data.ts';

export type Group = Dim | Grain;
export type Preset = 'today' | '7d' | '30d' | 'month' | 'last_month' | 'custom';

export const GROUPS: Array<{ value: Group; label: string }> = [
  { value: 'team', label: 'Team' }, { value: 'key', label: 'Key' }, { value: 'user', label: 'User' },
  { value: 'model', label: 'Model' }, { value: 'provider', label: 'Provider' }, { value: 'day', label: 'Day' }, { value: 'hour', label: 'Hour' },
];
export const PRESETS: Array<{ value: Preset; label: string }> = [
  { value: 'today', label: 'Today' }, { value: '7d', label: 'Last 7 days' }, { value: '30d', label: 'Last 30 days' },
  { value: 'month', label: 'This month' }, { value: 'last_month', label: 'Last month' }, { value: 'custom', label: 'Custom…' },
];
export const MEASURES: Array<{ value: Measure; label: string }> = [{ value: 'cost', label: 'Cost' }, { value: 'requests', label: 'Requests' }, { value: 'tokens', label: 'Tokens' }];

/** Hourly usage is kept this many days (usage/usage-rollups.ts HOURLY_DAYS). */
export const HOURLY_DAYS = 7;

export interface View {
  group: Group;
  preset: Preset;
  /** YYYY-MM-DD, inclusive both ends (UTC days) */
  from: string;
  to: string;
  teamId?: number;
  keyId?: number;
  model?: string;
  measure: Measure;
}

const oneOf = <T extends string>(v: string | undefined, list: Array<{ value: T }>, fallback: T): T => (list.some((o) => o.value === v) ? (v as T) : fallback);
const id = (v: string | undefined): number | undefined => (v && /^\d+$/.test(v) ? Number(v) : undefined);
const isDay = (v: string | undefined): v is string => !!v && /^\d{4}-\d\d-\d\d$/.test(v);

export function rangeOf(preset: Preset, today: string, custom: { from?: string; to?: string }): { from: string; to: string } {
  switch (preset) {
    case 'today': return { from: today, to: today };
    case '7d': return { from: addDays(today, -6), to: today };
    case '30d': return { from: addDays(today, -29), to: today };
    case 'last_month': return { from: addMonths(today, -1), to: addDays(monthStart(today), -1) };
    case 'custom': return { from: isDay(custom.from) ? custom.from : monthStart(today), to: isDay(custom.to) ? custom.to : today };
    case 'month': return { from: monthStart(today), to: today };
  }
}

export function viewOf(query: Record<string, string | undefined>, today = utcDay(Date.now())): View {
  const preset = oneOf(query.range, PRESETS, 'month');
  return {
    group: oneOf(query.group, GROUPS, 'team'),
    preset,
    ...rangeOf(preset, today, query),
    teamId: id(query.team_id),
    keyId: id(query.key_id),
    model: query.model || undefined,
    measure: oneOf(query.measure, MEASURES, 'cost'),
  };
}

/** The URL of a view: only what differs from the defaults. */
export function hrefOf(v: View): string {
  return urlFor('/ui/spend', undefined, {
    group: v.group === 'team' ? undefined : v.group,
    range: v.preset === 'month' ? undefined : v.preset,
    from: v.preset === 'custom' ? v.from : undefined,
    to: v.preset === 'custom' ? v.to : undefined,
    team_id: v.teamId, key_id: v.keyId, model: v.model,
    measure: v.measure === 'cost' ? undefined : v.measure,
  });
}

/** Hours can be asked for while the whole range is within the hourly rollups' days. */
export const hoursAllowed = (v: Pick<View, 'from'>, today: string): boolean => v.from >= addDays(today, -(HOURLY_DAYS - 1));

/** The chart's time grain: hours for a range of two days or less (when kept), days otherwise. */
export const chartGrain = (v: View, today: string): Grain => (v.group === 'hour' || (v.to <= addDays(v.from, 1) && hoursAllowed(v, today)) ? 'hour' : 'day');

/** The view's range and filters (the chart's queries add their grouping: spend-top.ts). */
export const filtersOf = (v: View): GetUsageQuery => ({ from: v.from, to: v.to, team_id: v.teamId, key_id: v.keyId, model: v.model });

/** The table's query; with format=csv it is the export of exactly these rows. */
export const tableQuery = (v: View): GetUsageQuery => ({ group_by: v.group, ...filtersOf(v) });

export const csvHref = (v: View): string => urlFor('/api/usage', undefined, { ...tableQuery(v), format: 'csv' });
