// Spend figures, read from the daily rollups (day × key × model), never from the request log.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { utcDay } from '../clock.ts';

export interface SpendFigures {
  requests: number;
  cost_usd: number;
  tokens_in: number;
  tokens_out: number;
  unpriced_requests: number;
}

export const microToUsd = (micro: number): number => Math.round(micro) / 1_000_000;

export type SpendScope = { teamId: number } | { keyIds: number[] } | { orgId: number } | { userId: number; teamId?: number };

export async function spendSummary(db: Kysely<Database>, scope: SpendScope, now: number): Promise<{ total: SpendFigures; this_month: SpendFigures; today: SpendFigures }> {
  const today = utcDay(now);
  const monthStart = today.slice(0, 8) + '01';
  const sumIf = (col: 'requests' | 'cost_micro' | 'tokens_in' | 'tokens_out' | 'unpriced_requests', from: string) =>
    sql<number>`coalesce(sum(case when day >= ${from} then ${sql.ref(col)} else 0 end), 0)`;
  let q = db.selectFrom('spend_rollups').select([
    sql<number>`coalesce(sum(requests), 0)`.as('requests'),
    sql<number>`coalesce(sum(cost_micro), 0)`.as('cost_micro'),
    sql<number>`coalesce(sum(tokens_in), 0)`.as('tokens_in'),
    sql<number>`coalesce(sum(tokens_out), 0)`.as('tokens_out'),
    sql<number>`coalesce(sum(unpriced_requests), 0)`.as('unpriced_requests'),
    sumIf('requests', monthStart).as('m_requests'),
    sumIf('cost_micro', monthStart).as('m_cost_micro'),
    sumIf('tokens_in', monthStart).as('m_tokens_in'),
    sumIf('tokens_out', monthStart).as('m_tokens_out'),
    sumIf('unpriced_requests', monthStart).as('m_unpriced_requests'),
    sumIf('requests', today).as('d_requests'),
    sumIf('cost_micro', today).as('d_cost_micro'),
    sumIf('tokens_in', today).as('d_tokens_in'),
    sumIf('tokens_out', today).as('d_tokens_out'),
    sumIf('unpriced_requests', today).as('d_unpriced_requests'),
  ]);
  if ('keyIds' in scope) q = q.where('key_id', 'in', scope.keyIds.length ? scope.keyIds : [-1]);
  else if ('userId' in scope) {
    q = q.where('user_id', '=', scope.userId);
    if (scope.teamId !== undefined) q = q.where('team_id', '=', scope.teamId);
  } else if ('teamId' in scope) q = q.where('team_id', '=', scope.teamId);
  else q = q.where('org_id', '=', scope.orgId);
  const r = (await q.executeTakeFirstOrThrow()) as Record<string, number | string>;
  const fig = (p: string): SpendFigures => ({
    requests: Number(r[`${p}requests`]),
    cost_usd: microToUsd(Number(r[`${p}cost_micro`])),
    tokens_in: Number(r[`${p}tokens_in`]),
    tokens_out: Number(r[`${p}tokens_out`]),
    unpriced_requests: Number(r[`${p}unpriced_requests`]),
  });
  return { total: fig(''), this_month: fig('m_'), today: fig('d_') };
}
