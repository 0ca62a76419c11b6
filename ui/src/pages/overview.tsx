// Overview (/ui): spend today and this month against the period before, requests and error rate,
// the last 30 days of spend, and the top teams, models and keys. Everything comes from
// GET /api/usage, which narrows itself to what the reader may see (usage/usage-scope.ts): the
// organization for admins and viewers, their teams for owners, their own keys for everyone else,
// so the page asks the same questions for every role and only words them differently. A member
// also sees what is left of each allocation (GET /api/me, already loaded by the session).
import { useMemo } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { BarList, TimeChart } from '../components/chart.tsx';
import { compact, usd } from '../components/format.ts';
import { Card, Empty, ErrorNote, Loading, PageHeader } from '../components/ui.tsx';
import { useApi, type ApiState } from '../components/use-api.ts';
import { myTeams, ownedTeamIds, readsOrg } from '../session.ts';
import { Allocations, Headline } from './overview-stats.tsx';
import { addDays, addMonths, daysOf, monthStart, usageAll, utcDay } from './spend-data.ts';
import { topGroups, topSeries } from './spend-top.ts';

type Top = Awaited<ReturnType<typeof topGroups>>;

export default function Overview() {
  const today = utcDay(Date.now());
  const wholeOrg = readsOrg.value;
  const owner = ownedTeamIds.value.size > 0;
  // Stacked by team where there is more than one team to compare: admins, viewers, owners.
  const byTeam = wholeOrg || owner;
  const from30 = addDays(today, -29);

  // Per day since the first of last month: today, yesterday, this month and last month to the same day.
  const daily = useApi((signal) => usageAll({ group_by: 'day', from: addMonths(today, -1), to: today }, signal), [today]);
  // The six largest teams and "Other": ranked by the API, however many teams there are.
  const trend = useApi((signal) => topSeries({ from: from30, to: today }, byTeam ? 'team' : null, 'day', daysOf(from30, today), 'cost', signal), [today, byTeam]);
  const month = { from: monthStart(today), to: today };
  // The top five of each, ranked by cost in the database (order=cost): five rows each, at any scale.
  const teams = useApi((signal) => topGroups(month, 'team', 'cost', 5, signal), [today]);
  const models = useApi((signal) => topGroups(month, 'model', 'cost', 5, signal), [today]);
  // Keys: the key listing's spend sort (an index walk over each key's spend this month), not a
  // ranking of every key's rollups, which grows with the number of keys that had traffic.
  const keys = useApi((signal) => topKeys(signal), [today]);

  const scope = wholeOrg ? 'The organization' : owner ? 'Your teams and your own keys' : 'Your own keys';
  const allocations = myTeams.value.filter((t) => t.allocation);
  const nothingYet = daily.data && daily.data.totals.requests === 0 && trend.data?.totals.requests === 0;

  return (
    <>
      <PageHeader title="Overview" subtitle={`${scope}: spend and traffic (UTC days).`} actions={<a class="btn btn-secondary" href="/ui/spend">Explore spend</a>} />
      {allocations.length > 0 && <Allocations teams={allocations} />}
      <ErrorNote error={daily.error} onRetry={daily.reload} />
      {!daily.data ? (daily.error ? null : <Loading />) : <Headline rows={daily.data.rows} today={today} />}
      {nothingYet ? (
        <Card>
          <Empty title="No requests yet">
            Create a key on the <a href="/ui/keys">Keys page</a>, then send a request with it to this gateway's <span class="mono">/v1/chat/completions</span> (any OpenAI SDK works: set its base URL to this server's <span class="mono">/v1</span>). Spend shows here within seconds.
          </Empty>
        </Card>
      ) : (
        <>
          <Card title="Spend, last 30 days">
            <ErrorNote error={trend.error} onRetry={trend.reload} />
            {trend.data ? <TimeChart x={trend.data.x} series={trend.data.series} stacked={byTeam} bars format={usd} label={`Spend per day${byTeam ? ' by team' : ''}, last 30 days`} empty="No spend in the last 30 days" /> : !trend.error && <Loading />}
          </Card>
          <div class="grid grid-3">
            <TopList title="Top teams" state={teams} dim="team" />
            <TopList title="Top models" state={models} dim="model" />
            <TopKeys state={keys} />
          </div>
        </>
      )}
    </>
  );
}

/** The five keys that spent most this month (revoked ones too), as the key listing sorts them. */
async function topKeys(signal: AbortSignal) {
  const page = await api.getKeys({ query: { sort: '-spend', limit: 5, include_revoked: 'true' }, options: { signal } });
  return page.data.filter((k) => k.spend_this_month_usd > 0).map((k) => ({
    label: k.name,
    value: k.spend_this_month_usd,
    href: `/ui/keys/${k.id}`,
  }));
}

function TopKeys({ state }: { state: ApiState<Awaited<ReturnType<typeof topKeys>>> }) {
  return (
    <Card title={<>Top keys <span class="muted small">this month</span></>}>
      <ErrorNote error={state.error} onRetry={state.reload} />
      {state.data ? <BarList items={state.data} format={usd} empty="No spend this month" /> : !state.error && <Loading />}
    </Card>
  );
}

/** The five largest groups of this month by spend, with their request counts. */
function TopList({ title, state, dim }: { title: string; state: ApiState<Top>; dim: 'team' | 'model' }) {
  const items = useMemo(() => state.data?.items.map((g) => ({
    label: g.label,
    value: g.value,
    // Models have no page of their own: the spend explorer filtered to the model stands in.
    href: g.href ?? (dim === 'model' ? `/ui/spend?group=key&model=${encodeURIComponent(g.id)}` : undefined),
    // one row per group (grouped by this dimension only): its request count is the group's
    detail: `${compact(g.row.requests)} req`,
  })), [state.data, dim]);
  return (
    <Card title={<>{title} <span class="muted small">this month</span></>}>
      <ErrorNote error={state.error} onRetry={state.reload} />
      {items ? <BarList items={items} format={usd} empty="No spend this month" /> : !state.error && <Loading />}
    </Card>
  );
}
