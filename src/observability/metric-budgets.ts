// What the remaining-budget gauges show, read at scrape time: the budgets of teams and keys (the
// policies) and what each has spent in its current period (the spend rollups, as admission
// rebuilds a budget counter from them: policies.repository.ts spentInPeriod). Bounded: at most
// `max` teams (by id) and `max` keys (live keys with a budget, most recently used first); the
// caller caches the result, so a burst of scrapes costs one read.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { utcDay } from '../clock.ts';
import { periodOf, type BudgetPeriod } from '../policy/policy.ts';

export interface BudgetLine {
  /** the team's id, or the key's (the first key of its rotation lineage: key budgets follow it) */
  id: number;
  teamId: number | null;
  limitMicro: number;
  spentMicro: number;
}

export interface BudgetSnapshot {
  teams: BudgetLine[];
  keys: BudgetLine[];
  /** more teams / keys have a budget than are shown */
  truncated: { team: boolean; key: boolean };
}

interface Budgeted {
  id: number;
  teamId: number | null;
  limitMicro: number;
  period: BudgetPeriod;
}

export async function budgetSnapshot(db: Kysely<Database>, now: number, max: number): Promise<BudgetSnapshot> {
  if (max === 0) return { teams: [], keys: [], truncated: { team: false, key: false } };
  const [teams, keys] = await Promise.all([budgetedTeams(db, max + 1), budgetedKeys(db, max + 1)]);
  const shownTeams = teams.slice(0, max);
  const shownKeys = keys.slice(0, max);
  const [teamSpend, keySpend] = await Promise.all([spend(db, 'team', shownTeams, now), spend(db, 'key', shownKeys, now)]);
  const line = (b: Budgeted, spent: Map<number, number>): BudgetLine => ({ id: b.id, teamId: b.teamId, limitMicro: b.limitMicro, spentMicro: spent.get(b.id) ?? 0 });
  return {
    teams: shownTeams.map((b) => line(b, teamSpend)),
    keys: shownKeys.map((b) => line(b, keySpend)),
    truncated: { team: teams.length > max, key: keys.length > max },
  };
}

async function budgetedTeams(db: Kysely<Database>, limit: number): Promise<Budgeted[]> {
  const rows = await db
    .selectFrom('teams as t')
    // scope_id is text ("12"): compared as text, so no cast can fail on another scope's id.
    .innerJoin('policies as p', (j) => j.on('p.scope_type', '=', 'team').on(sql`p.scope_id`, '=', sql`cast(t.id as text)`))
    .select(['t.id', 'p.budget_micro', 'p.budget_period'])
    .where('t.deleted_at', 'is', null)
    .where('p.budget_micro', 'is not', null)
    .orderBy('t.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, teamId: r.id, limitMicro: Number(r.budget_micro), period: (r.budget_period ?? 'monthly') as BudgetPeriod }));
}

/** Live keys whose lineage has a budget, most recently used first (one line per lineage). */
async function budgetedKeys(db: Kysely<Database>, limit: number): Promise<Budgeted[]> {
  const rows = await db
    .selectFrom('api_keys as k')
    .innerJoin('policies as p', (j) => j.on('p.scope_type', '=', 'key').on(sql`p.scope_id`, '=', sql`cast(coalesce(k.lineage_id, k.id) as text)`))
    .select([sql<number>`coalesce(k.lineage_id, k.id)`.as('root'), 'k.team_id', 'p.budget_micro', 'p.budget_period'])
    .where('k.status', '=', 'active')
    .where('p.budget_micro', 'is not', null)
    .orderBy(sql`coalesce(k.last_used_at, '')`, 'desc')
    .orderBy('k.id', 'desc')
    .limit(limit)
    .execute();
  const seen = new Set<number>();
  const out: Budgeted[] = [];
  for (const r of rows) {
    const root = Number(r.root);
    if (seen.has(root)) continue;
    seen.add(root);
    out.push({ id: root, teamId: r.team_id, limitMicro: Number(r.budget_micro), period: (r.budget_period ?? 'monthly') as BudgetPeriod });
  }
  return out;
}

/** Spend in each budget's current period: one grouped query per distinct period. */
async function spend(db: Kysely<Database>, scope: 'team' | 'key', budgets: Budgeted[], now: number): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const byPeriod = new Map<BudgetPeriod, number[]>();
  for (const b of budgets) {
    const ids = byPeriod.get(b.period);
    if (ids) ids.push(b.id);
    else byPeriod.set(b.period, [b.id]);
  }
  await Promise.all([...byPeriod].map(async ([period, ids]) => {
    const { start, end } = periodOf(period, now);
    const rows = scope === 'team' ? await teamSpend(db, ids, start, end) : await keySpend(db, ids, start, end);
    for (const r of rows) out.set(Number(r.id), Number(r.spent));
  }));
  return out;
}

function teamSpend(db: Kysely<Database>, ids: number[], start: number, end: number | null) {
  let q = db
    .selectFrom('spend_rollups as r')
    .select([sql<number>`r.team_id`.as('id'), sql<number>`coalesce(sum(r.cost_micro), 0)`.as('spent')])
    .where('r.team_id', 'in', ids)
    .groupBy('r.team_id');
  if (start > 0) q = q.where('r.day', '>=', utcDay(start));
  if (end !== null) q = q.where('r.day', '<', utcDay(end));
  return q.execute();
}

function keySpend(db: Kysely<Database>, roots: number[], start: number, end: number | null) {
  let q = db
    .selectFrom('spend_rollups as r')
    .innerJoin('api_keys as k', 'k.id', 'r.key_id')
    .select([sql<number>`coalesce(k.lineage_id, k.id)`.as('id'), sql<number>`coalesce(sum(r.cost_micro), 0)`.as('spent')])
    .where((e) => e.or([e('k.id', 'in', roots), e('k.lineage_id', 'in', roots)]))
    .groupBy(sql`coalesce(k.lineage_id, k.id)`);
  if (start > 0) q = q.where('r.day', '>=', utcDay(start));
  if (end !== null) q = q.where('r.day', '<', utcDay(end));
  return q.execute();
}
