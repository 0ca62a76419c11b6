// Spend summaries for the organization, one key and the caller's own keys: today, this month,
// last month and all time (UTC calendar), in the figures of the team spend summary
// (spend.repository.ts). Read from the spend rollups: the organization's from org_day_rollups (one
// row per day), a key's and a person's from spend_rollups (day × key × model) by their indexes.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { utcDay } from '../clock.ts';
import { microToUsd, type SpendFigures } from './spend.repository.ts';

const FIELDS = ['requests', 'cost_micro', 'tokens_in', 'tokens_out', 'unpriced_requests'] as const;
const PERIODS = ['today', 'this_month', 'last_month', 'total'] as const;
export type PeriodSpend = Record<(typeof PERIODS)[number], SpendFigures>;

function bounds(now: number) {
  const today = utcDay(now);
  const d = new Date(now);
  const thisMonth = today.slice(0, 8) + '01';
  const lastMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
  return { today, thisMonth, lastMonth };
}

/** The sums per period, as select expressions over a table with a `day` column. */
function periodSums(now: number) {
  const b = bounds(now);
  const when = {
    today: sql`day >= ${b.today}`,
    this_month: sql`day >= ${b.thisMonth}`,
    last_month: sql`day >= ${b.lastMonth} and day < ${b.thisMonth}`,
    total: sql`1 = 1`,
  };
  return PERIODS.flatMap((p) => FIELDS.map((f) => sql<string | number | null>`sum(case when ${when[p]} then ${sql.ref(f)} else 0 end)`.as(`${p}__${f}`)));
}

function figures(r: Record<string, unknown> | undefined): PeriodSpend {
  const n = (p: string, f: string) => Number(r?.[`${p}__${f}`] ?? 0);
  return Object.fromEntries(PERIODS.map((p) => [p, {
    requests: n(p, 'requests'), cost_usd: microToUsd(n(p, 'cost_micro')), tokens_in: n(p, 'tokens_in'), tokens_out: n(p, 'tokens_out'), unpriced_requests: n(p, 'unpriced_requests'),
  }])) as PeriodSpend;
}

export async function orgSpend(db: Kysely<Database>, orgId: number, now: number): Promise<PeriodSpend> {
  return figures(await db.selectFrom('org_day_rollups').select(periodSums(now)).where('org_id', '=', orgId).executeTakeFirst());
}

export async function keySpend(db: Kysely<Database>, keyId: number, now: number): Promise<PeriodSpend> {
  return figures(await db.selectFrom('spend_rollups').select(periodSums(now)).where('key_id', '=', keyId).executeTakeFirst());
}

/** A person's keys, per team (null: personal keys), and all of them. */
export async function userSpend(db: Kysely<Database>, orgId: number, userId: number, now: number): Promise<{ total: PeriodSpend; teams: Array<{ team_id: number | null } & PeriodSpend> }> {
  const rows = await db.selectFrom('spend_rollups').select('team_id').select(periodSums(now)).where('org_id', '=', orgId).where('user_id', '=', userId).groupBy('team_id').orderBy('team_id').execute();
  const teams = rows.map((r) => ({ team_id: r.team_id, ...figures(r as Record<string, unknown>) }));
  const total = await db.selectFrom('spend_rollups').select(periodSums(now)).where('org_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst();
  return { total: figures(total), teams };
}
