// The insights pages' "top N" questions, answered by the API's ranking (GET /api/usage order=…,
// computed in SQL over the rollups) so that nothing proportional to the number of keys or teams
// reaches the browser: the top groups of a dimension, and a time series of the top groups with
// "Other" as the total minus them.
import { api, type GetUsageQuery } from '../api/generated.ts';
import type { Series } from '../components/chart.tsx';
import { groupId, groupLabel, groupHref, measureOf, usageAll, type Dim, type Grain, type Measure, type UsageRow, type UsageTotals } from './spend-data.ts';

/** What narrows a query to one group of a dimension: absent for a group no filter can name (no team, no provider). */
function onlyGroup(row: UsageRow, dim: Dim): GetUsageQuery | undefined {
  switch (dim) {
    case 'team': return row.team_id == null ? undefined : { team_id: row.team_id };
    case 'key': return row.key_id == null ? undefined : { key_id: row.key_id };
    case 'user': return row.user_id == null ? undefined : { user_id: row.user_id };
    case 'model': return row.model ? { model: row.model } : undefined;
    case 'provider': return row.provider ? { provider: row.provider } : undefined;
  }
}

/** The `n` largest groups of a dimension by a measure, largest first, with the selection's totals. */
export async function topGroups(query: GetUsageQuery, dim: Dim, measure: Measure, n: number, signal: AbortSignal) {
  const r = await api.getUsage({ query: { ...query, group_by: dim, order: measure, limit: n }, options: { signal } });
  return {
    totals: r.totals,
    items: r.data.map((row) => ({ id: groupId(row, dim), label: groupLabel(row, dim), href: groupHref(row, dim), value: measureOf(measure)(row), row })),
  };
}

export interface TopSeries { x: number[]; series: Series[]; totals: UsageTotals }

/**
 * A time series per group for a stacked chart: the `top` largest groups of the range (or `top`−1
 * and "Other" when there are more), "Other" being the total per bucket minus theirs. Queries: the
 * ranking, the total per bucket, and one per shown group filtered to it, all at once; a group no
 * filter can name ("No team") is counted in "Other". `dim` null: the total alone.
 * `buckets` are the time axis (days or hours as the API names them); a missing bucket is zero.
 */
export async function topSeries(query: GetUsageQuery, dim: Dim | null, grain: Grain, buckets: string[], measure: Measure, signal: AbortSignal, top = 6): Promise<TopSeries> {
  const index = new Map(buckets.map((b, i) => [b, i]));
  const x = buckets.map((b) => Date.parse(grain === 'day' ? b + 'T00:00:00Z' : b) / 1000);
  const value = measureOf(measure);
  const perBucket = (rows: UsageRow[]) => {
    const values = buckets.map(() => 0);
    for (const r of rows) {
      const i = index.get((grain === 'day' ? r.day : r.hour) ?? '');
      if (i !== undefined) values[i]! += value(r);
    }
    return values;
  };
  const timeline = (q: GetUsageQuery) => usageAll({ ...query, ...q, group_by: grain }, signal);
  if (dim === null) {
    const total = await timeline({});
    return { x, series: [{ label: 'Total', values: perBucket(total.rows) }], totals: total.totals };
  }
  // One more than shown: whether there is an "Other" at all.
  const [ranking, total] = await Promise.all([topGroups(query, dim, measure, top + 1, signal), timeline({})]);
  const more = ranking.items.length > top;
  const named = ranking.items.flatMap((g) => {
    const only = onlyGroup(g.row, dim);
    return only ? [{ ...g, only }] : [];
  }).slice(0, more ? top - 1 : top);
  const series: Series[] = await Promise.all(named.map(async (g) => ({ label: g.label, values: perBucket((await timeline(g.only)).rows) })));
  // Sums of floats: a remainder within rounding of zero is zero, never a sliver below the axis.
  const rest = perBucket(total.rows).map((t, i) => {
    const v = t - series.reduce((s, one) => s + one.values[i]!, 0);
    return Math.abs(v) < 1e-9 * Math.max(1, Math.abs(t)) ? 0 : Math.max(0, v);
  });
  if (named.length < ranking.items.length || rest.some((v) => v > 0)) series.push({ label: 'Other', values: rest });
  return { x, series, totals: total.totals };
}
