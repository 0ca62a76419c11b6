// Spend explorer (/ui/spend): usage grouped by team, key, user, model, provider, day or hour over a
// time range, filtered by team, key and model; a stacked chart of the top groups over time and a
// table with totals; "Export CSV" is the table's own query with format=csv (a plain download link:
// the session cookie goes with it). The view lives in the URL (spend-view.ts).
import { useEffect, useMemo } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { TimeChart } from '../components/chart.tsx';
import { compact, int, usd } from '../components/format.ts';
import { Pager, useCursor } from '../components/table.tsx';
import { Card, ErrorNote, Loading, PageHeader, Stat } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { api } from '../api/generated.ts';
import { readsOrg } from '../session.ts';
import { daysOf, hoursOf, utcDay, type Dim, type UsageRow } from './spend-data.ts';
import { SpendFilters } from './spend-filters.tsx';
import { SpendTable } from './spend-table.tsx';
import { chartGrain, csvHref, filtersOf, GROUPS, hrefOf, tableQuery, viewOf, type View } from './spend-view.ts';
import { topSeries } from './spend-top.ts';

/** Table rows per page (the CSV export has every row). */
const PAGE = 500;

export default function Spend() {
  const { query, route } = useLocation();
  const today = utcDay(Date.now());
  const view = viewOf(query, today);
  const key = hrefOf(view);
  const cursor = useCursor();
  // Another view starts at its first page: reset with the route change (one render, so the old
  // view's cursor is never sent with the new query), and after the back button too.
  const go = (v: View) => {
    cursor.reset();
    route(hrefOf(v), true);
  };
  useEffect(() => cursor.reset(), [key]);

  const table = useApi((signal) => api.getUsage({ query: { ...tableQuery(view), limit: PAGE, cursor: cursor.cursor }, options: { signal } }), [key, cursor.cursor]);
  const grain = chartGrain(view, today);
  const timeGroup = view.group === 'day' || view.group === 'hour';
  // The top six groups of the range by the chart's measure and "Other", ranked by the API: a few
  // small queries however many keys or teams the range holds.
  const timeline = useApi((signal) => {
    const buckets = grain === 'day' ? daysOf(view.from, view.to) : hoursOf(view.from, view.to);
    return topSeries(filtersOf(view), timeGroup ? null : (view.group as Dim), grain, buckets, view.measure, signal);
  }, [key, grain]);
  const chart = timeline.data;

  // Largest first when the whole selection is on one page; across pages the API's order is kept,
  // so paging stays consistent with the export.
  const rows = useMemo(() => {
    const data = table.data?.data;
    if (!data || timeGroup || table.data?.next_cursor !== null || cursor.page > 1) return data;
    return [...data].sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests);
  }, [table.data, timeGroup, cursor.page]);
  const totals = table.data?.totals;
  const groupName = GROUPS.find((g) => g.value === view.group)!.label.toLowerCase();
  const fmt = view.measure === 'cost' ? usd : compact;

  return (
    <>
      <PageHeader
        title="Spend"
        subtitle={readsOrg.value ? 'Usage and cost across the organization, by any dimension (UTC days).' : 'Usage and cost of what you may see: your teams and your own keys (UTC days).'}
        actions={<a class="btn btn-secondary" href={csvHref(view)} download>Export CSV</a>}
      />
      <SpendFilters view={view} today={today} onChange={go} />
      <div class="grid grid-4 insights-stats">
        <Stat label="Cost" value={totals ? usd(totals.cost_usd) : '…'} detail={totals && totals.unpriced_requests > 0 ? `${int(totals.unpriced_requests)} unpriced requests not included` : `${view.from} → ${view.to}`} />
        <Stat label="Requests" value={totals ? int(totals.requests) : '…'} detail={totals ? `${int(totals.errors)} errors` : undefined} />
        <Stat label="Tokens in" value={totals ? compact(totals.tokens_in) : '…'} detail={totals && totals.cached_tokens > 0 ? `${compact(totals.cached_tokens)} cached` : undefined} />
        <Stat label="Tokens out" value={totals ? compact(totals.tokens_out) : '…'} detail={totals && totals.reasoning_tokens > 0 ? `${compact(totals.reasoning_tokens)} reasoning` : undefined} />
      </div>
      <Card title={`${view.measure === 'cost' ? 'Spend' : view.measure === 'requests' ? 'Requests' : 'Tokens'} per ${grain}${timeGroup ? '' : ` by ${groupName}`}`}>
        <ErrorNote error={timeline.error} onRetry={timeline.reload} />
        {chart ? (
          <TimeChart x={chart.x} series={chart.series} stacked={!timeGroup} bars format={fmt} label={`${view.measure} per ${grain} by ${groupName}, ${view.from} to ${view.to}`} empty="No usage in this range" />
        ) : !timeline.error && <Loading />}
      </Card>
      <Card title={`By ${groupName}`}>
        <SpendTable rows={rows} totals={totals} group={view.group} loading={table.loading} error={table.error} onRetry={table.reload} only={(r) => onlyHref(view, r)} />
        <Pager page={cursor.page} hasNext={!!table.data?.next_cursor} loading={table.loading} onNext={() => table.data?.next_cursor && cursor.next(table.data.next_cursor)} onPrev={cursor.prev} />
      </Card>
    </>
  );
}

/** The view narrowed to a row's team, key or model (then grouped by the next useful dimension). */
function onlyHref(v: View, r: UsageRow): string | undefined {
  if (v.group === 'team' && r.team_id != null && v.teamId === undefined) return hrefOf({ ...v, teamId: r.team_id, group: 'key' });
  if (v.group === 'key' && r.key_id != null && v.keyId === undefined) return hrefOf({ ...v, keyId: r.key_id, group: 'model' });
  if (v.group === 'model' && r.model && v.model === undefined) return hrefOf({ ...v, model: r.model, group: 'key' });
  return undefined;
}
