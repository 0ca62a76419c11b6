// Key listings at organization scale (1,000,000 keys): filters (team, owner, status, tag, text
// search), sorts (creation, last use, expiry, spend this month) and keyset paging. Every order is
// a tuple ending in the key id, walked through an index of migration 0006 from the cursor's
// position, so a page costs the same at any depth. Measured in docs/benchmarks.md ("Key listings").
//
// Statuses: the indexes lead with status, and a listing of several statuses merges one walk per
// status, so a status is never found by skipping others (revoked keys cluster where last use is
// oldest: a walk of the live keys in that order would read all of them first).
//
// Owner (user, service account), tags and text search may match few keys, spread anywhere in the
// order. They are answered in up to three steps, cheapest first:
//   1. probe: walk the first probeRows keys of the order and filter them; enough when matches
//      are common (which is when step 2 would be expensive), or when the walk reaches the end;
//   2. filter first: all matching keys (through the owner, tag and search indexes) up to
//      maxSorted, sorted; exact whenever they are that few, however they are spread in the order;
//   3. otherwise the plain walk: more than maxSorted matches, but rare at the start of the order.
// A query planner picks between 1 and 3 from its estimates, and is slow when a filter correlates
// with the order (matches of q=key-12 all have small ids); these steps do not depend on estimates.
//
// A page is then read in full: its rows and their spend. The SQL is key-listing-sql.ts.
import { sql, type RawBuilder } from 'kysely';
import { ListingSql } from './key-listing-sql.ts';
import type { Db } from '../db/connection.ts';
import type { KeyRow, KeyStatus } from './keys.repository.ts';
import type { Position } from './key-cursor.ts';

export const SORT_KEYS = ['created_at', 'last_used_at', 'expires_at', 'spend'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export interface Sort {
  key: SortKey;
  desc: boolean;
}

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
  /** keys skipped after `after` (legacy: it reads the skipped keys; the cursor does not) */
  offset: number;
  limit: number;
  /** the current month, 'YYYY-MM' (UTC): the spend sort's period */
  month: string;
}

export interface ListedKey {
  row: KeyRow;
  /** the key's lineage's spend in the listing's month, micro-USD */
  monthSpendMicro: number;
  /** who owns the key, as a person reads it: a user's name, else email, else external id; a service account's name */
  ownerName: string | null;
}

export interface KeyPage {
  keys: ListedKey[];
  /** where the next page starts; null when this one reached the end */
  next: Position | null;
}

/** The current calendar month, UTC ('YYYY-MM'). */
export const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

/** How far steps 1 and 2 go before the next step (tests make them small to reach every step). */
export interface Steps {
  /** keys of the order step 1 walks before giving up */
  probeRows: number;
  /** the most matching keys step 2 sorts */
  maxSorted: number;
}
const STEPS: Steps = { probeRows: 1000, maxSorted: 15_000 };

interface Hit {
  id: number;
  /** the order's values before the id (c0, c1, …) */
  values: unknown[];
}

async function hits(db: Db, query: RawBuilder<unknown>): Promise<{ hits: Hit[]; matched: number | undefined; rows: number }> {
  const rows = (await query.execute(db.kysely)).rows as Array<Record<string, unknown>>;
  return {
    hits: rows.filter((r) => !('hit' in r) || Number(r.hit) === 1).map((r) => ({ id: Number(r.id), values: Object.keys(r).filter((k) => /^c\d$/.test(k)).sort().map((k) => r[k]) })),
    matched: rows[0] && 'matched' in rows[0] ? Number(rows[0].matched) : undefined,
    rows: rows.length,
  };
}

async function pageIds(db: Db, s: ListingSql, n: number, steps: Steps): Promise<Hit[]> {
  const l = s.l;
  if (l.offset > 0 && l.sort.key === 'created_at') return (await hits(db, s.byOffset(n))).hits;
  const plain = async () => (await hits(db, s.walk(n, { filtered: true, carry: false, skip: l.offset }))).hits;
  if (s.selective().length === 0 || l.offset > 0) return plain();
  const probed = await hits(db, s.probe(steps.probeRows));
  // Enough matches, or the walk reached the end of the listing: the probe's matches are the page.
  if (probed.hits.length >= n || probed.rows < steps.probeRows) return probed.hits.slice(0, n);
  const sorted = await hits(db, s.filterFirst(steps.maxSorted, n));
  // No row: nothing matched (the count rides on the rows).
  if ((sorted.matched ?? 0) <= steps.maxSorted) return sorted.hits;
  return plain();
}

export async function listKeyPage(db: Db, l: KeyListing, steps: Steps = STEPS): Promise<KeyPage> {
  const s = new ListingSql(l, db.dialect);
  // One more than the page: whether there is a next page, without a count.
  const found = await pageIds(db, s, l.limit + 1, steps);
  const page = found.slice(0, l.limit);
  if (page.length === 0) return { keys: [], next: null };
  const rows = await db.kysely
    .selectFrom('api_keys as k')
    .selectAll('k')
    .select(sql<string | null>`(select ks.month from key_spend ks where ks.key_id = k.id)`.as('spend_month'))
    .select(sql<number | null>`(select ks.cost_micro from key_spend ks where ks.key_id = k.id)`.as('spend_micro'))
    // The owner's name, by primary key, in this one read (the dashboard named people from a list
    // of the organization's first 1,000 and showed "User #6" past it).
    .select(
      sql<string | null>`coalesce(
        (select coalesce(nullif(u.name, ''), nullif(u.email, ''), u.external_id) from users u where u.id = k.user_id),
        (select sa.name from service_accounts sa where sa.id = k.service_account_id))`.as('owner_name'),
    )
    .where('k.id', 'in', page.map((h) => h.id))
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const keys: ListedKey[] = [];
  for (const h of page) {
    const r = byId.get(h.id);
    if (!r) continue; // deleted between the two reads
    const { spend_month, spend_micro, owner_name, ...row } = r;
    keys.push({ row, monthSpendMicro: spend_month === l.month ? Math.max(0, Number(spend_micro ?? 0)) : 0, ownerName: owner_name });
  }
  const last = page.at(-1)!;
  const value = last.values.length === 0 ? null : last.values.length === 1 ? (last.values[0] as string) : (last.values as [string, number]);
  return { keys, next: found.length > l.limit ? { value, id: last.id } : null };
}
