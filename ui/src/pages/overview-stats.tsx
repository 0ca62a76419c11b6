// The overview's headline figures (spend today and this month, each against the period before;
// requests and error rate this month) and a member's allocations ("My allocation: $X of $Y left").
import { change, int, pct, usd } from '../components/format.ts';
import { Card, Progress, Stat } from '../components/ui.tsx';
import type { MeTeam } from '../session.ts';
import { addDays, addMonths, monthStart, type UsageRow } from './spend-data.ts';

interface Sum { cost: number; requests: number; errors: number }

/** Sums of the day rows with from <= day <= to. */
function sumDays(rows: UsageRow[], from: string, to: string): Sum {
  const s: Sum = { cost: 0, requests: 0, errors: 0 };
  for (const r of rows) {
    if (r.day === undefined || r.day < from || r.day > to) continue;
    s.cost += r.cost_usd;
    s.requests += r.requests;
    s.errors += r.errors;
  }
  return s;
}

/** The same day of last month, or its last day when last month is shorter (31 March → 28/29 February). */
function sameDayLastMonth(today: string): string {
  const start = addMonths(today, -1);
  const last = addDays(monthStart(today), -1);
  const same = start.slice(0, 8) + today.slice(8);
  return same > last || Number.isNaN(Date.parse(same)) ? last : same;
}

/** `rows`: usage per day since the first of last month. */
export function Headline({ rows, today }: { rows: UsageRow[]; today: string }) {
  const now = sumDays(rows, today, today);
  const yesterday = sumDays(rows, addDays(today, -1), addDays(today, -1));
  const month = sumDays(rows, monthStart(today), today);
  const lastMonth = sumDays(rows, addMonths(today, -1), sameDayLastMonth(today));
  const dayChange = change(now.cost, yesterday.cost);
  const monthChange = change(month.cost, lastMonth.cost);
  return (
    <div class="grid grid-4 insights-stats">
      <Stat label="Spend today" value={usd(now.cost)} tone={dayChange ? (dayChange.up ? 'up' : 'down') : 'neutral'}
        detail={dayChange ? `${dayChange.text} vs yesterday (${usd(yesterday.cost)})` : `yesterday ${usd(yesterday.cost)}`} />
      <Stat label="Spend this month" value={usd(month.cost)} tone={monthChange ? (monthChange.up ? 'up' : 'down') : 'neutral'}
        detail={monthChange ? `${monthChange.text} vs last month to the same day (${usd(lastMonth.cost)})` : `last month to the same day ${usd(lastMonth.cost)}`} />
      <Stat label="Requests this month" value={int(month.requests)} detail={`${int(now.requests)} today`} />
      <Stat label="Error rate this month" value={month.requests ? pct(month.errors / month.requests) : '—'} detail={`${int(month.errors)} failed request${month.errors === 1 ? '' : 's'}`} />
    </div>
  );
}

/** Each team where the reader has an allocation: what is left of it this period. */
export function Allocations({ teams }: { teams: MeTeam[] }) {
  return (
    <div class="grid grid-2 insights-allocations">
      {teams.map((t) => {
        const a = t.allocation!;
        return (
          <Card key={t.id} title={<>My allocation <span class="muted small">in {t.name}</span></>}>
            <p class="allocation-left"><strong>{usd(a.remaining_usd)}</strong> of {usd(a.budget_usd)} left <span class="muted">({a.period}, {a.mode} limit)</span></p>
            <Progress used={a.spent_usd} limit={a.budget_usd} label={`Allocation used in ${t.name}`} />
            <p class="muted small">{usd(a.spent_usd)} spent · {usd(a.committed_usd)} committed to key budgets · {usd(a.uncommitted_usd)} free for new keys</p>
          </Card>
        );
      })}
    </div>
  );
}
