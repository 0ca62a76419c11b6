// Key listings at organization scale (1,000,000 keys): filters (team, owner, status, tag, text
// search), sorts (creation, last use, expiry, spend this month) and keyset paging. Every sort is
// (sort expression, id), walked through an index of migration 0006 from the cursor's position, so
// a page costs the same at any depth. Measured in docs/benchmarks.md ("Key listings").
//
// A page is read in two steps: the ids (and sort values) of the page, reading only what the
// filters and the order need, then those rows in full with their month's spend.
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Db, DialectName } from '../db/connection.ts';
import type { Database } from '../db/types.ts';
import type { KeyRow, KeyStatus } from './keys.repository.ts';
import type { Position } from './key-cursor.ts';

export const SORT_KEYS = ['created_at', 'last_used_at', 'expires_at', 'spend'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export interface Sort {
  key: SortKey;
  desc: boolean;
}

/**
 * Each lineage's spend per calendar month (UTC), kept from spend_rollups by triggers (migration
 * 0006). Declared here rather than in db/types.ts: nothing else reads it.
 */
interface KeyMonthSpendTable {
  lineage_id: number;
  /** 'YYYY-MM' */
  month: string;
  org_id: number;
  cost_micro: number;
}
type ListingDb = Database & { key_month_spend: KeyMonthSpendTable };

export interface KeyListing {
  orgId: number;
  teamId?: number;
  userId?: number;
  serviceAccountId?: number;
  /** at least one; all three = no status filter */
  statuses: readonly KeyStatus[];
  /** keys carrying every one of these tags */
  tags: readonly string[];
  /** case-insensitive substring of the name, the key prefix or the description */
  q?: string;
  sort: Sort;
  /** continue strictly after this key (a cursor; the legacy `after` is { value: null, id }) */
  after?: Position;
  /** keys skipped after `after` (legacy; not with the spend sort) */
  offset: number;
  limit: number;
  /** the month whose spend the spend sort and `spend_this_month_usd` use: 'YYYY-MM' (UTC) */
  month: string;
}

export interface ListedKey {
  row: KeyRow;
  /** the key's lineage's spend in the listing's month, micro-USD */
  monthSpendMicro: number;
}

export interface KeyPage {
  keys: ListedKey[];
  /** where the next page starts; null when this one reached the end */
  next: Position | null;
}

/** The current calendar month, UTC ('YYYY-MM'): the spend sort's period. */
export const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

// Sort and search expressions. Each must stay textually what migration 0006 indexed: an
// expression index is used only for the same expression. "Never used" is '' (before any instant),
// "never expires" is '~' (after any): the NULL placement docs/api.md promises, on both dialects.
const SORT_EXPR: Record<'last_used_at' | 'expires_at', string> = {
  last_used_at: `coalesce(k.last_used_at, '')`,
  expires_at: `coalesce(k.expires_at, '~')`,
};
// Name, prefix and description joined by a newline, which a search (refused with control
// characters: key-listing.routes.ts) can never match across.
const SEARCH_TEXT: Record<DialectName, string> = {
  postgres: `(k.name || E'\\n' || k.key_prefix || E'\\n' || coalesce(k.description, ''))`,
  sqlite: `(k.name || char(10) || k.key_prefix || char(10) || coalesce(k.description, ''))`,
};
const LINEAGE = sql`coalesce(k.lineage_id, k.id)`;

/** `%`, `_` and `\` taken literally in a LIKE pattern (escape character `\`). */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c);

/** The filters: the rows the listing may show, in no order. */
function filtered(db: Kysely<ListingDb>, dialect: DialectName, l: KeyListing) {
  let q = db.selectFrom('api_keys as k').where('k.org_id', '=', l.orgId);
  if (l.teamId !== undefined) q = q.where('k.team_id', '=', l.teamId);
  if (l.userId !== undefined) q = q.where('k.user_id', '=', l.userId);
  if (l.serviceAccountId !== undefined) q = q.where('k.service_account_id', '=', l.serviceAccountId);
  const statuses = new Set(l.statuses);
  // "not revoked" rather than "in (active, disabled)": the form the (…, id, status) indexes check.
  if (statuses.size === 2 && !statuses.has('revoked')) q = q.where('k.status', '!=', 'revoked');
  else if (statuses.size < 3) q = q.where('k.status', 'in', [...statuses]);
  if (l.tags.length > 0) {
    if (dialect === 'postgres') q = q.where(sql<SqlBool>`k.tags::jsonb @> ${JSON.stringify(l.tags)}::jsonb`);
    else for (const tag of l.tags) q = q.where(sql<SqlBool>`exists (select 1 from json_each(k.tags) where value = ${tag})`);
  }
  if (l.q !== undefined) {
    const pattern = `%${likeLiteral(l.q)}%`;
    // PostgreSQL's ILIKE escapes with `\` already; SQLite's LIKE (ASCII case-insensitive) needs telling.
    q = q.where(dialect === 'postgres' ? sql<SqlBool>`${sql.raw(SEARCH_TEXT.postgres)} ilike ${pattern}` : sql<SqlBool>`${sql.raw(SEARCH_TEXT.sqlite)} like ${pattern} escape '\\'`);
  }
  return q;
}

type Filtered = ReturnType<typeof filtered>;
interface Hit {
  id: number;
  v: string | number | null;
}

/** Creation order (the id: assigned in insertion order), last use or expiry: one keyset walk. */
async function orderedIds(base: Filtered, l: KeyListing, n: number): Promise<Hit[]> {
  const dir = l.sort.desc ? 'desc' : 'asc';
  const past = sql.raw(l.sort.desc ? '<' : '>');
  if (l.sort.key === 'created_at') {
    let q = base.select(['k.id', sql<null>`null`.as('v')]);
    if (l.after) q = q.where('k.id', l.sort.desc ? '<' : '>', l.after.id);
    return q.orderBy('k.id', dir).limit(n).offset(l.offset).execute();
  }
  const expr = sql.raw(SORT_EXPR[l.sort.key as keyof typeof SORT_EXPR]);
  let q = base.select(['k.id', sql<string>`${expr}`.as('v')]);
  if (l.after) q = q.where(sql<SqlBool>`(${expr}, k.id) ${past} (${String(l.after.value)}, ${l.after.id})`);
  return q.orderBy(expr, dir).orderBy('k.id', dir).limit(n).offset(l.offset).execute();
}

/**
 * Spend this month, in two walks: keys whose lineage spent something, by key_month_spend's
 * (org, month, cost) index joined back to the keys, then keys that spent nothing (value 0), by id
 * with an anti-join. Descending: spenders first; ascending: non-spenders first. Ties by id, in the
 * sort's direction. A single ORDER BY coalesce(spend, 0) over a left join would have to read and
 * sort every matching key for each page.
 */
async function spendIds(db: Kysely<ListingDb>, base: Filtered, l: KeyListing, n: number): Promise<Hit[]> {
  const dir = l.sort.desc ? 'desc' : 'asc';
  const past = sql.raw(l.sort.desc ? '<' : '>');
  const spenders = async (limit: number, from?: Position): Promise<Hit[]> => {
    let q = base
      .innerJoin('key_month_spend as s', (j) => j.on(sql<SqlBool>`s.lineage_id = ${LINEAGE}`))
      .where('s.org_id', '=', l.orgId)
      .where('s.month', '=', l.month)
      .where('s.cost_micro', '>', 0)
      .select(['k.id', 's.cost_micro as v']);
    if (from) q = q.where(sql<SqlBool>`(s.cost_micro, k.id) ${past} (${from.value}, ${from.id})`);
    return q.orderBy('s.cost_micro', dir).orderBy('k.id', dir).limit(limit).execute();
  };
  const idle = async (limit: number, from?: Position): Promise<Hit[]> => {
    const spent = db
      .selectFrom('key_month_spend as s')
      .select(sql`1`.as('one'))
      .where(sql<SqlBool>`s.lineage_id = ${LINEAGE}`)
      .where('s.month', '=', l.month)
      .where('s.cost_micro', '>', 0);
    let q = base.where((eb) => eb.not(eb.exists(spent))).select(['k.id', sql<number>`0`.as('v')]);
    if (from) q = q.where('k.id', l.sort.desc ? '<' : '>', from.id);
    return q.orderBy('k.id', dir).limit(limit).execute();
  };
  // The walks in the listing's order; a cursor starts inside its own walk and skips those before.
  const walks = l.sort.desc ? [spenders, idle] : [idle, spenders];
  let from = l.after;
  let i = from === undefined ? 0 : walks.indexOf(Number(from.value) > 0 ? spenders : idle);
  const out: Hit[] = [];
  for (; i < walks.length && out.length < n; i++, from = undefined) out.push(...(await walks[i]!(n - out.length, from)));
  return out;
}

export async function listKeyPage(db: Db, l: KeyListing): Promise<KeyPage> {
  if (l.sort.key === 'spend' && l.offset > 0) throw new Error('offset is not supported with the spend sort'); // the route refuses it (400)
  const k = db.kysely.withTables<{ key_month_spend: KeyMonthSpendTable }>();
  const base = filtered(k, db.dialect, l);
  // One more than the page: whether there is a next page, without a count.
  const hits = l.sort.key === 'spend' ? await spendIds(k, base, l, l.limit + 1) : await orderedIds(base, l, l.limit + 1);
  const page = hits.slice(0, l.limit);
  if (page.length === 0) return { keys: [], next: null };
  const rows = await k
    .selectFrom('api_keys as k')
    .leftJoin('key_month_spend as s', (j) => j.on(sql<SqlBool>`s.lineage_id = ${LINEAGE}`).on('s.month', '=', l.month))
    .selectAll('k')
    .select(sql<number | null>`s.cost_micro`.as('month_spend'))
    .where('k.id', 'in', page.map((h) => h.id))
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const keys: ListedKey[] = [];
  for (const h of page) {
    const r = byId.get(h.id);
    if (!r) continue; // deleted between the two reads
    const { month_spend, ...row } = r;
    keys.push({ row, monthSpendMicro: Math.max(0, Number(month_spend ?? 0)) });
  }
  const last = page.at(-1)!;
  return { keys, next: hits.length > l.limit ? { value: last.v, id: last.id } : null };
}
