// Policies (limits and budgets) by scope, and the spend already made in a budget period, read
// from the rollups — which is how budget counters are rebuilt after a restart.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';
import { utcDay } from '../clock.ts';
import { EMPTY_POLICY, policyFromRow, type Policy } from './policy.ts';

/** Up to this many scopes are read in one OR of (type, id) pairs: what a key's cache miss asks. */
const PAIRS_PER_QUERY = 50;
/** Larger reads (a listing page's teams or keys) go by type, in IN lists of this size. */
const IDS_PER_QUERY = 500;

export async function loadPolicies(db: Kysely<Database>, scopes: string[]): Promise<Map<string, Policy>> {
  const out = new Map<string, Policy>();
  if (scopes.length === 0) return out;
  for (const s of scopes) out.set(s, EMPTY_POLICY);
  const put = (rows: Array<NonNullable<Parameters<typeof policyFromRow>[0]>>) => {
    for (const r of rows) out.set(`${r.scope_type}:${r.scope_id}`, policyFromRow(r));
  };
  if (scopes.length <= PAIRS_PER_QUERY) {
    put(await db
      .selectFrom('policies')
      .selectAll()
      .where((eb) => eb.or(scopes.map((s) => {
        const { type, id } = splitScope(s);
        return eb.and([eb('scope_type', '=', type), eb('scope_id', '=', id)]);
      })))
      .execute());
    return out;
  }
  // One OR term per scope makes an expression SQLite refuses past ~1,000 terms ("Expression tree
  // is too large"): a listing of 1,000 teams asked for exactly that.
  const byType = new Map<string, string[]>();
  for (const s of scopes) {
    const { type, id } = splitScope(s);
    const ids = byType.get(type) ?? [];
    ids.push(id);
    byType.set(type, ids);
  }
  for (const [type, ids] of byType) {
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      put(await db.selectFrom('policies').selectAll().where('scope_type', '=', type).where('scope_id', 'in', ids.slice(i, i + IDS_PER_QUERY)).execute());
    }
  }
  return out;
}

export async function getPolicy(db: Kysely<Database>, scope: string): Promise<Policy> {
  return (await loadPolicies(db, [scope])).get(scope)!;
}

export function splitScope(scope: string): { type: string; id: string } {
  const i = scope.indexOf(':');
  return { type: scope.slice(0, i), id: scope.slice(i + 1) };
}

export async function savePolicy(trx: Transaction<Database>, scope: string, orgId: number, p: Policy, at: string): Promise<void> {
  const { type, id } = splitScope(scope);
  // One check for every writer (limits routes, team and key creation): a share is a team's.
  if (p.memberShare !== null) {
    if (type !== 'team') throw new ApiError('invalid_request', "member_share: only a team's limits take a member share (it divides the team's tpm / tpd among its members)", 'member_share');
    if (p.tpm === null && p.tpd === null) throw new ApiError('invalid_request', 'member_share: the team has no token limit to share; set tpm (tpm_limit) or tpd (daily_token_limit) too', 'member_share');
  }
  const row = {
    rpm: p.rpm,
    rph: p.rph,
    rpd: p.rpd,
    tpm: p.tpm,
    tpd: p.tpd,
    max_parallel: p.maxParallel,
    budget_micro: p.budget?.limitMicro ?? null,
    budget_period: p.budget?.period ?? null,
    budget_mode: p.budget?.mode ?? null,
    alert_thresholds: p.budget ? JSON.stringify(p.budget.thresholds) : null,
    member_share: p.memberShare === null ? null : String(p.memberShare),
    updated_at: at,
  };
  await trx
    .insertInto('policies')
    .values({ scope_type: type, scope_id: id, org_id: orgId, ...row })
    .onConflict((oc) => oc.columns(['scope_type', 'scope_id']).doUpdateSet(row))
    .execute();
}

/** Spend (micro-USD) recorded in the rollups for a scope between two days (inclusive, UTC). */
export async function spentInPeriod(db: Kysely<Database>, scope: string, start: number, end: number | null): Promise<number> {
  const { type, id } = splitScope(scope);
  if (type === 'org') {
    // One row per organization and day (migration 0003), not every key × model row of it.
    let o = db.selectFrom('org_day_rollups').select(sql<number>`coalesce(sum(cost_micro), 0)`.as('spent')).where('org_id', '=', Number(id));
    if (start > 0) o = o.where('day', '>=', utcDay(start));
    if (end !== null) o = o.where('day', '<', utcDay(end));
    return Number((await o.executeTakeFirstOrThrow()).spent);
  }
  let q = db.selectFrom('spend_rollups as r').select(sql<number>`coalesce(sum(r.cost_micro), 0)`.as('spent'));
  if (start > 0) q = q.where('r.day', '>=', utcDay(start));
  if (end !== null) q = q.where('r.day', '<', utcDay(end));
  switch (type) {
    case 'team':
      q = q.where('r.team_id', '=', Number(id));
      break;
    case 'member': {
      const [teamId, userId] = id.split(':').map(Number);
      q = q.where('r.team_id', '=', teamId!).where('r.user_id', '=', userId!);
      break;
    }
    case 'key':
      // key budgets follow the rotation lineage
      q = q.where('r.key_id', 'in', (eb) => eb.selectFrom('api_keys').select('id').where((e) => e.or([e('id', '=', Number(id)), e('lineage_id', '=', Number(id))])));
      break;
    case 'sa':
      q = q.where('r.key_id', 'in', (eb) => eb.selectFrom('api_keys').select('id').where('service_account_id', '=', Number(id)));
      break;
    default:
      throw new Error(`unknown scope ${scope}`);
  }
  const r = await q.executeTakeFirstOrThrow();
  return Number(r.spent);
}
