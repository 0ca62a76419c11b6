// Usage reads over usage_rollups (never request_logs): one page of groups, ordered by the group
// keys in primary-key order (time, team, user, key, model, provider) and continued by keyset, so
// that a page of a large grouping is an index walk that stops at the page's end; the totals of
// the same filters from the coarsest level that holds them; the top N groups by a sum (order=…);
// the names of a page's ids.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { COUNTERS, type Counter } from './usage-rollups.ts';
import type { Dim, Plan, UsageOrder, UsageQuery } from './usage-query.ts';

export type Sums = Record<Counter, number>;
export interface UsageGroup extends Sums {
  /** the day or hour bucket, with a time grain */
  bucket?: string;
  team_id?: number;
  user_id?: number;
  key_id?: number;
  model?: string;
  provider?: string;
}
export type KeyValue = string | number;

const COLUMN: Record<Dim, 'team_id' | 'user_id' | 'key_id' | 'model' | 'provider'> = { team: 'team_id', user: 'user_id', key: 'key_id', model: 'model', provider: 'provider' };

/** The group's columns, in the order rows are sorted and the cursor is compared. */
export const groupColumns = (q: Pick<UsageQuery, 'dims' | 'grain'>): Array<'bucket' | (typeof COLUMN)[Dim]> => [...(q.grain ? (['bucket'] as const) : []), ...q.dims.map((d) => COLUMN[d])];

function scoped(db: Kysely<Database>, q: UsageQuery, p: Plan) {
  let qb = db
    .selectFrom('usage_rollups')
    .where('org_id', '=', q.orgId)
    .where((eb) => eb.or(p.parts.map((part) => eb.and([eb('level', '=', part.level), ...(part.single ? [eb('bucket', '=', part.lo)] : [eb('bucket', '>=', part.lo), eb('bucket', '<', part.hi)])]))));
  const f = q.filters;
  if (f.teamId !== undefined) qb = qb.where('team_id', '=', f.teamId);
  if (f.keyId !== undefined) qb = qb.where('key_id', '=', f.keyId);
  if (f.userId !== undefined) qb = qb.where('user_id', '=', f.userId);
  if (f.model !== undefined) qb = qb.where('model', '=', f.model);
  if (f.provider !== undefined) qb = qb.where('provider', '=', f.provider);
  const s = q.scope;
  if (s !== 'all') {
    qb = qb.where((eb) => eb.or([...(s.teams.length ? [eb('team_id', 'in', s.teams)] : []), ...(s.userId !== null ? [eb('user_id', '=', s.userId)] : [])]));
  }
  return qb;
}

const sums = COUNTERS.map((c) => sql<string | number | null>`sum(${sql.ref(c)})`.as(c));
// A literal, not a loop: this runs for every group of a page (CSV exports read thousands).
const numbers = (r: Record<string, unknown>): Sums => ({
  requests: Number(r.requests ?? 0), errors: Number(r.errors ?? 0), tokens_in: Number(r.tokens_in ?? 0), tokens_out: Number(r.tokens_out ?? 0),
  cached_tokens: Number(r.cached_tokens ?? 0), reasoning_tokens: Number(r.reasoning_tokens ?? 0), cost_micro: Number(r.cost_micro ?? 0), unpriced_requests: Number(r.unpriced_requests ?? 0),
});

const PK_DIMS = ['team_id', 'user_id', 'key_id', 'model', 'provider'] as const;
/** The ids a level does not keep: always 0 there (usage/usage-rollups.ts). */
const CONSTANT: Record<string, readonly string[]> = { org: ['team_id', 'user_id', 'key_id'], team: ['user_id', 'key_id'], key: [] };

/**
 * The columns a page is grouped, sorted and continued by: the grouped ones, with org_id and the
 * ids the level holds at 0 filled in between, up to the last grouped one. The groups are the same
 * (those columns have one value), but the order is then the primary key's: PostgreSQL walks the
 * index from the cursor and aggregates as it goes, stopping at the page's end, instead of
 * aggregating every group of the range for each page.
 */
function pageColumns(q: UsageQuery, p: Plan, grouped: readonly string[]): string[] {
  const constant = CONSTANT[p.parts[0]!.level.split('_')[0]!] ?? [];
  const dims = grouped.filter((c) => c !== 'bucket');
  const last = Math.max(-1, ...dims.map((c) => PK_DIMS.indexOf(c as (typeof PK_DIMS)[number])));
  const between = PK_DIMS.slice(0, last + 1).filter((c) => dims.includes(c) || constant.includes(c));
  return [...(q.grain ? ['bucket'] : []), 'org_id', ...between];
}

/** Up to `limit` groups after the cursor's group key (the previous page's last row). */
export async function usagePage(db: Kysely<Database>, q: UsageQuery, p: Plan, after: KeyValue[] | undefined, limit: number): Promise<UsageGroup[]> {
  const cols = groupColumns(q);
  if (cols.length === 0) {
    const r = await scoped(db, q, p).select(sums).executeTakeFirst();
    return after ? [] : [numbers(r ?? {})];
  }
  const order = pageColumns(q, p, cols);
  let qb = scoped(db, q, p).select(cols).select(sums).groupBy(order as typeof cols);
  if (after) {
    const value = (c: string) => (c === 'org_id' ? q.orgId : cols.includes(c as (typeof cols)[number]) ? after[cols.indexOf(c as (typeof cols)[number])]! : 0);
    qb = qb.where(sql<boolean>`(${sql.join(order.map((c) => sql.ref(c)))}) > (${sql.join(order.map(value))})`);
  }
  for (const c of order) qb = qb.orderBy(c as (typeof cols)[number]);
  const rows = await qb.limit(limit).execute();
  return rows.map((r) => groupOf(r as Record<string, unknown>, cols));
}

function groupOf(r: Record<string, unknown>, cols: ReturnType<typeof groupColumns>): UsageGroup {
  const g: UsageGroup = numbers(r);
  for (const c of cols) (g as unknown as Record<string, KeyValue>)[c] = c === 'bucket' || c === 'model' || c === 'provider' ? String(r[c]) : Number(r[c]);
  return g;
}

/** The sum order=… ranks by (tokens: in + out, as the dashboard's measure). */
const RANK: Record<UsageOrder, ReturnType<typeof sql<number>>> = {
  cost: sql<number>`sum(cost_micro)`,
  requests: sql<number>`sum(requests)`,
  tokens: sql<number>`sum(tokens_in) + sum(tokens_out)`,
};

/**
 * The `limit` largest groups by a sum, largest first (ties by group key, so the answer is stable).
 * Every group of the selection has to be aggregated to rank them, so that pass carries the one
 * sum it ranks by (half the time of all eight at 100,000 keys: a narrower hash table); the full
 * sums are then read for the winners only, narrowed by their first column's values (an indexed
 * lookup: level × team, key, user or model), in the caller's snapshot.
 */
export async function usageTop(db: Kysely<Database>, q: UsageQuery, p: Plan, order: UsageOrder, limit: number): Promise<UsageGroup[]> {
  const cols = groupColumns(q);
  if (cols.length === 0) return usagePage(db, q, p, undefined, limit);
  let ranking = scoped(db, q, p).select(cols).select(RANK[order].as('rank')).groupBy(cols).orderBy('rank', 'desc');
  for (const c of cols) ranking = ranking.orderBy(c);
  const winners = (await ranking.limit(limit).execute()) as Array<Record<string, unknown>>;
  if (winners.length === 0) return [];
  const first = cols[0]!;
  const values = [...new Set(winners.map((w) => w[first] as KeyValue))];
  const rows = await scoped(db, q, p).where(first, 'in', values).select(cols).select(sums).groupBy(cols).execute();
  const id = (r: Record<string, unknown>) => cols.map((c) => String(r[c])).join('\u0000');
  const full = new Map(rows.map((r) => [id(r as Record<string, unknown>), r as Record<string, unknown>]));
  // Outside a snapshot (CSV), an hourly row pruned between the two reads drops its group, never zeroes it.
  return winners.flatMap((w) => {
    const r = full.get(id(w));
    return r ? [groupOf(r, cols)] : [];
  });
}

export async function usageTotals(db: Kysely<Database>, q: UsageQuery, p: Plan): Promise<Sums> {
  return numbers((await scoped(db, q, p).select(sums).executeTakeFirst()) ?? {});
}

export interface Names {
  teams: Map<number, string>;
  keys: Map<number, { name: string; prefix: string }>;
  users: Map<number, string>;
}

/** The names of the ids on a page: one query per kind, inside the organization. */
export async function namesOf(db: Kysely<Database>, orgId: number, rows: readonly UsageGroup[]): Promise<Names> {
  const ids = (k: 'team_id' | 'key_id' | 'user_id') => [...new Set(rows.map((r) => r[k]).filter((v): v is number => v !== undefined && v > 0))];
  const [teamIds, keyIds, userIds] = [ids('team_id'), ids('key_id'), ids('user_id')];
  const out: Names = { teams: new Map(), keys: new Map(), users: new Map() };
  if (teamIds.length) for (const t of await db.selectFrom('teams').select(['id', 'name']).where('org_id', '=', orgId).where('id', 'in', teamIds).execute()) out.teams.set(t.id, t.name);
  if (keyIds.length) for (const k of await db.selectFrom('api_keys').select(['id', 'name', 'key_prefix']).where('org_id', '=', orgId).where('id', 'in', keyIds).execute()) out.keys.set(k.id, { name: k.name, prefix: k.key_prefix });
  if (userIds.length) for (const u of await db.selectFrom('users').select(['id', 'external_id']).where('org_id', '=', orgId).where('id', 'in', userIds).execute()) out.users.set(u.id, u.external_id);
  return out;
}
