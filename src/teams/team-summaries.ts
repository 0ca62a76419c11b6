// A page of teams' figures for the list (GET /api/teams): members, active keys, spend this month,
// and the team budget with what was spent in its current period. One grouped query per figure for
// the whole page (not one per team), read from the spend rollups: the live budget counter (with
// in-flight reservations) is on the team's own page, GET /api/teams/{id}/limits.
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/types.ts';
import { utcDay } from '../clock.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import { loadPolicies } from '../policy/policies.repository.ts';
import { periodOf } from '../policy/policy.ts';

export const teamSummaryDoc = z.object({
  members: z.number().int(),
  active_keys: z.number().int(),
  spent_this_month_usd: z.number(),
  budget: z.object({ limit_usd: z.number(), period: z.string(), mode: z.string(), spent_usd: z.number() }).nullable(),
});
export type TeamSummary = z.infer<typeof teamSummaryDoc>;

const byTeam = (rows: Array<{ team_id: number | null; n: number | string | bigint }>) => new Map(rows.map((r) => [Number(r.team_id), Number(r.n)]));

export async function teamSummaries(db: Kysely<Database>, teamIds: number[], now: number): Promise<Map<number, TeamSummary>> {
  const out = new Map<number, TeamSummary>();
  if (teamIds.length === 0) return out;
  const monthStart = utcDay(now).slice(0, 8) + '01';
  const [members, keys, month, policies] = await Promise.all([
    db.selectFrom('memberships').select(['team_id', sql<number>`count(*)`.as('n')]).where('team_id', 'in', teamIds).groupBy('team_id').execute(),
    db.selectFrom('api_keys').select(['team_id', sql<number>`count(*)`.as('n')]).where('team_id', 'in', teamIds).where('status', '=', 'active').groupBy('team_id').execute(),
    spentSince(db, teamIds, monthStart),
    loadPolicies(db, teamIds.map((id) => `team:${id}`)),
  ]);
  const memberCounts = byTeam(members);
  const keyCounts = byTeam(keys);
  // Teams with a budget, grouped by the first day of their period (most share one: the month's).
  const since = new Map<string, number[]>();
  for (const id of teamIds) {
    const budget = policies.get(`team:${id}`)?.budget;
    if (!budget) continue;
    const start = periodOf(budget.period, now).start;
    const day = start === 0 ? '0000-00-00' : utcDay(start);
    since.set(day, [...(since.get(day) ?? []), id]);
  }
  const periodSpent = new Map<number, number>();
  for (const [day, ids] of since) {
    const spent = day === monthStart ? new Map(ids.map((id) => [id, month.get(id) ?? 0])) : await spentSince(db, ids, day);
    for (const id of ids) periodSpent.set(id, spent.get(id) ?? 0);
  }
  for (const id of teamIds) {
    const budget = policies.get(`team:${id}`)?.budget;
    out.set(id, {
      members: memberCounts.get(id) ?? 0,
      active_keys: keyCounts.get(id) ?? 0,
      spent_this_month_usd: microToUsd(month.get(id) ?? 0),
      budget: budget ? { limit_usd: microToUsd(budget.limitMicro), period: budget.period, mode: budget.mode, spent_usd: microToUsd(periodSpent.get(id) ?? 0) } : null,
    });
  }
  return out;
}

/** micro-USD spent by each team from `day` on */
async function spentSince(db: Kysely<Database>, teamIds: number[], day: string): Promise<Map<number, number>> {
  const rows = await db.selectFrom('spend_rollups').select(['team_id', sql<number>`coalesce(sum(cost_micro), 0)`.as('n')]).where('team_id', 'in', teamIds).where('day', '>=', day).groupBy('team_id').execute();
  return byTeam(rows);
}
