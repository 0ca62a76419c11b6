// The figures at the top of a team page: spend today and this month (with requests), members and
// live keys, and all-time spend. Read from GET /api/teams/{id}/spend and the team itself.
import { api } from '../api/generated.ts';
import { compact, int, usd } from '../components/format.ts';
import { Stat } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import type { Team } from './team-detail.tsx';

export function TeamStats({ team }: { team: Team }) {
  const spend = useApi((signal) => api.getTeamsByIdSpend({ path: { id: team.id }, options: { signal } }), [team.id]);
  const s = spend.data;
  const live = team.keys.filter((k) => k.status !== 'revoked').length;
  return (
    <div class="grid grid-4 team-stats">
      <Stat label="Spend today" value={s ? usd(s.today.cost_usd) : '…'} detail={s && `${int(s.today.requests)} requests`} />
      <Stat label="Spend this month" value={s ? usd(s.this_month.cost_usd) : '…'} detail={s && `${int(s.this_month.requests)} requests · ${compact(s.this_month.tokens_in + s.this_month.tokens_out)} tokens`} />
      <Stat label="Live keys" value={int(live)} detail="that you can see" />
      <Stat label="All time" value={s ? usd(s.total.cost_usd) : '…'} detail={s && `${int(s.total.requests)} requests`} />
    </div>
  );
}
