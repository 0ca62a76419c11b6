// Key listings at organization scale (1,000,000 keys): filters (team, owner, status, tag, text
// search), sorts (creation, last use, expiry, spend this month) and keyset paging. Every order is
// a tuple ending in the key id, walked through an index of migration 0006 from the cursor's
// position, so a page costs the same at any depth. Measured in docs/benchmarks.md ("Key listings").
//
// Statuses: the indexes lead with status, and a listing of several statuses merges one walk per
// status, so a status is never found by skipping others (revoked keys cluster where last use is
// oldest: a walk of the live keys in that order would read all of them first).
//
// Tags and text search (and a status set, in the spend order) may match few keys, spread anywhere
// in the order. They are answered in up to three steps, cheapest first:
//   1. probe: walk the first PROBE_ROWS keys of the order and filter them; enough when matches
//      are common, which is when step 2 would be expensive;
//   2. filter first: all matching keys (through the tag, search and status indexes) up to
//      MAX_SORTED, sorted; exact whenever they are that few, however they are spread in the order;
//   3. otherwise the plain walk: more than MAX_SORTED matches, but rare at the start of the order.
// A query planner picks between 1 and 3 from its estimates, and is slow when a filter correlates
// with the order (matches of q=key-12 all have small ids); these steps do not depend on estimates.
//
// A page is then read in full: its rows and their lineage's spend.
import { sql, type RawBuilder } from 'kysely';
import type { Db, DialectName } from '../db/connection.ts';
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
}

export interface KeyPage {
  keys: ListedKey[];
  /** where the next page starts; null when this one reached the end */
  next: Position | null;
}

/** The current calendar month, UTC ('YYYY-MM'). */
export const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

/** Keys of the order walked by step 1 before giving up on it. */
const PROBE_ROWS = 2000;
/** The most matching keys step 2 sorts. */
const MAX_SORTED = 5_000;

type Frag = RawBuilder<unknown>;
const AND = sql` and `;
const COMMA = sql`, `;

// The expressions of each order, ending with the key id. Each must stay textually what migration
// 0006 indexed (an expression index is used only for the same expression). "Never used" is ''
// (before any instant), "never expires" is 'z' (after any): the NULL placement docs/api.md
// promises, on both dialects. The spend order is key_latest_spend's index (migration 0006).
const ORDER: Record<SortKey, Frag[]> = {
  created_at: [sql`k.id`],
  last_used_at: [sql`coalesce(k.last_used_at, '')`, sql`k.id`],
  expires_at: [sql`coalesce(k.expires_at, 'z')`, sql`k.id`],
  spend: [sql`s.month`, sql`s.cost_micro`, sql`s.lineage_id`, sql`k.id`],
};
const LINEAGE = sql`coalesce(k.lineage_id, k.id)`;
// Name, prefix and description joined by a newline, which a search (refused with control
// characters: key-listing.routes.ts) can never match across.
const SEARCH_TEXT: Record<DialectName, Frag> = {
  postgres: sql.raw(`(k.name || E'\\n' || k.key_prefix || E'\\n' || coalesce(k.description, ''))`),
  sqlite: sql.raw(`(k.name || char(10) || k.key_prefix || char(10) || coalesce(k.description, ''))`),
};

/** `%`, `_` and `\` taken literally in a LIKE pattern (escape character `\`). */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c);
const tuple = (xs: readonly unknown[]) => sql`(${sql.join(xs.map((x) => (isFrag(x) ? x : sql`${x}`)), COMMA)})`;
const isFrag = (x: unknown): x is Frag => typeof x === 'object' && x !== null && 'toOperationNode' in x;

interface Hit {
  id: number;
  /** the order's values before the id (c0, c1, …) */
  values: unknown[];
}

/** One listing's SQL pieces. */
class ListingSql {
  readonly l: KeyListing;
  readonly dialect: DialectName;
  readonly cols: Frag[];
  readonly dir: Frag;
  private readonly statuses: KeyStatus[];

  constructor(l: KeyListing, dialect: DialectName) {
    this.l = l;
    this.dialect = dialect;
    this.cols = ORDER[l.sort.key];
    this.dir = sql.raw(l.sort.desc ? 'desc' : 'asc');
    this.statuses = [...new Set(l.statuses)].sort();
  }

  get from(): Frag {
    return this.l.sort.key === 'spend' ? sql`api_keys k join key_latest_spend s on s.lineage_id = ${LINEAGE}` : sql`api_keys k`;
  }

  /** Conditions every index walk serves: organization, team, owner, the cursor. */
  scope(): Frag[] {
    const l = this.l;
    const out: Frag[] = [sql`k.org_id = ${l.orgId}`];
    if (l.sort.key === 'spend') out.push(sql`s.org_id = ${l.orgId}`);
    if (l.teamId !== undefined) out.push(sql`k.team_id = ${l.teamId}`);
    if (l.userId !== undefined) out.push(sql`k.user_id = ${l.userId}`);
    if (l.serviceAccountId !== undefined) out.push(sql`k.service_account_id = ${l.serviceAccountId}`);
    if (l.after) out.push(...this.past(l.after));
    return out;
  }

  /** The status filter as one condition (none for all three). */
  status(): Frag[] {
    if (this.statuses.length === 3) return [];
    if (this.statuses.length === 2 && !this.statuses.includes('revoked')) return [sql`k.status <> 'revoked'`]; // the form the (…, id, status) indexes check
    return [sql`k.status in ${tuple(this.statuses)}`];
  }

  /**
   * The status filter as ranges walked one by one and merged: one per status, each a range of the
   * (…, status, order) indexes. The spend order's index is on key_latest_spend, without status:
   * one range, filtered.
   */
  statusRanges(): Frag[][] {
    return this.l.sort.key === 'spend' ? [this.status()] : this.statuses.map((st) => [sql`k.status = ${st}`]);
  }

  /** Conditions that may match few keys: tags, text, and for the spend order a status set. */
  selective(): Frag[] {
    const l = this.l;
    const out: Frag[] = [];
    if (l.sort.key === 'spend' && !(this.statuses.length === 3 || (this.statuses.length === 2 && !this.statuses.includes('revoked')))) out.push(...this.status());
    if (l.tags.length > 0) {
      if (this.dialect === 'postgres') out.push(sql`k.tags::jsonb @> ${JSON.stringify(l.tags)}::jsonb`);
      else for (const tag of l.tags) out.push(sql`exists (select 1 from json_each(k.tags) where value = ${tag})`);
    }
    if (l.q !== undefined) {
      const pattern = `%${likeLiteral(l.q)}%`;
      // PostgreSQL's ILIKE escapes with `\` already; SQLite's LIKE (ASCII case-insensitive) needs telling.
      out.push(this.dialect === 'postgres' ? sql`${SEARCH_TEXT.postgres} ilike ${pattern}` : sql`${SEARCH_TEXT.sqlite} like ${pattern} escape '\\'`);
    }
    return out;
  }

  /** Strictly after the position in the order. */
  private past(p: Position): Frag[] {
    const op = sql.raw(this.l.sort.desc ? '<' : '>');
    const values = [...(Array.isArray(p.value) ? p.value : p.value === null ? [] : [p.value]), p.id];
    if (values.length === 1) return [sql`k.id ${op} ${p.id}`];
    if (this.l.sort.key !== 'spend') return [sql`${tuple(this.cols)} ${op} ${tuple(values)}`];
    // A bound on key_latest_spend's columns alone, which its index seeks to, and the keys of the
    // cursor's own lineage (one key_latest_spend row: several keys share it only after the old
    // rotation) past its key. (One row comparison across both tables misled PostgreSQL's planner
    // into joining every key: 490 ms a page at 1M keys, against 6 ms.)
    const [month, cost, lineage] = values as [string, number, number, number];
    const orEqual = sql.raw(this.l.sort.desc ? '<=' : '>=');
    const notPast = sql.raw(this.l.sort.desc ? '>=' : '<=');
    return [sql`${tuple(this.cols.slice(0, 3))} ${orEqual} ${tuple([month, cost, lineage])}`, sql`not (s.lineage_id = ${lineage} and k.id ${notPast} ${p.id})`];
  }

  /** `k.id as id, <c0> as c0, …` */
  selectOrder(cols = this.cols): Frag {
    return sql.join([sql`k.id as id`, ...cols.slice(0, -1).map((c, i) => sql`${c} as ${sql.raw(`c${i}`)}`)], COMMA);
  }

  /** ORDER BY over the selected c0, c1, … and id */
  orderSelected(prefix = ''): Frag {
    return sql.join([...this.cols.slice(0, -1).map((_, i) => sql`${sql.raw(`${prefix}c${i}`)} ${this.dir}`), sql`${sql.raw(`${prefix}id`)} ${this.dir}`], COMMA);
  }

  orderBy(): Frag {
    return sql.join(this.cols.map((c) => sql`${c} ${this.dir}`), COMMA);
  }

  /**
   * The first `limit` keys of the order (after `skip`) within the scope and status, with the
   * selective filters if `filtered`, and the columns those filters read if `filterColumns`: one
   * index range per status, merged.
   */
  walk(limit: number, opts: { filtered: boolean; filterColumns: boolean; skip: number }): Frag {
    const columns = opts.filterColumns ? sql`${this.selectOrder()}, k.status, k.tags, k.name, k.key_prefix, k.description` : this.selectOrder();
    const one = (status: Frag[]) => sql`select ${columns} from ${this.from} where ${where([...this.scope(), ...status, ...(opts.filtered ? this.selective() : [])])} order by ${this.orderBy()}`;
    const ranges = this.statusRanges();
    if (ranges.length === 1) return sql`${one(ranges[0]!)} limit ${limit} offset ${opts.skip}`;
    const each = ranges.map((r) => sql`select * from (${one(r)} limit ${limit + opts.skip}) r`);
    return sql`select * from (${sql.join(each, sql` union all `)}) u order by ${this.orderSelected()} limit ${limit} offset ${opts.skip}`;
  }
}

const where = (conds: Frag[]) => (conds.length ? sql.join(conds, AND) : sql`true`);

async function hits(db: Db, query: Frag, extra?: string): Promise<{ hits: Hit[]; extra: number | undefined }> {
  const rows = (await query.execute(db.kysely)).rows as Array<Record<string, unknown>>;
  return {
    hits: rows.map((r) => ({ id: Number(r.id), values: Object.keys(r).filter((k) => /^c\d+$/.test(k)).sort().map((k) => (typeof r[k] === 'bigint' ? Number(r[k]) : r[k])) })),
    extra: extra !== undefined && rows[0] ? Number(rows[0][extra]) : undefined,
  };
}

/** The plain walk, with every condition (and the legacy offset). */
function plain(s: ListingSql, n: number): Frag {
  // Creation order with an offset: one range over the (org_id, id, status) index of migration
  // 0002, which skips the offset's keys in the index alone; merging per-status ranges would sort them.
  if (s.l.offset > 0 && s.l.sort.key === 'created_at') {
    return sql`select ${s.selectOrder()} from ${s.from} where ${where([...s.scope(), ...s.status(), ...s.selective()])} order by ${s.orderBy()} limit ${n} offset ${s.l.offset}`;
  }
  return s.walk(n, { filtered: true, filterColumns: false, skip: s.l.offset });
}

/** Step 1: the first PROBE_ROWS keys of the order within the scope, then the selective filters. */
function probe(s: ListingSql, n: number): Frag {
  // The walked rows are named k, with the columns the selective filters read, so the same
  // conditions apply to them.
  const outer = s.cols.map((c, i, a) => (i < a.length - 1 ? sql.raw(`k.c${i}`) : sql`k.id`));
  return sql`select ${s.selectOrder(outer)} from (${s.walk(PROBE_ROWS, { filtered: false, filterColumns: true, skip: 0 })}) k
    where ${where(s.selective())} order by ${s.orderSelected('k.')} limit ${n}`;
}

/** Step 2: every match (up to MAX_SORTED + 1), found through the filters' own indexes, then sorted. */
function filterFirst(s: ListingSql, n: number): Frag {
  return sql`with m as materialized (select ${s.selectOrder()} from ${s.from} where ${where([...s.scope(), ...s.status(), ...s.selective()])} limit ${MAX_SORTED + 1})
    select m.*, (select count(*) from m) as matched from m order by ${s.orderSelected()} limit ${n}`;
}

async function pageIds(db: Db, s: ListingSql, n: number): Promise<Hit[]> {
  if (s.selective().length === 0 || s.l.offset > 0) return (await hits(db, plain(s, n))).hits;
  const probed = (await hits(db, probe(s, n))).hits;
  if (probed.length === n) return probed;
  const sorted = await hits(db, filterFirst(s, n), 'matched');
  if ((sorted.extra ?? 0) <= MAX_SORTED) return sorted.hits;
  return (await hits(db, plain(s, n))).hits;
}

export async function listKeyPage(db: Db, l: KeyListing): Promise<KeyPage> {
  const s = new ListingSql(l, db.dialect);
  // One more than the page: whether there is a next page, without a count.
  const found = await pageIds(db, s, l.limit + 1);
  const page = found.slice(0, l.limit);
  if (page.length === 0) return { keys: [], next: null };
  const rows = await db.kysely
    .selectFrom('api_keys as k')
    .selectAll('k')
    .select(sql<string | null>`(select s.month from key_latest_spend s where s.lineage_id = ${LINEAGE})`.as('spend_month'))
    .select(sql<number | null>`(select s.cost_micro from key_latest_spend s where s.lineage_id = ${LINEAGE})`.as('spend_micro'))
    .where('k.id', 'in', page.map((h) => h.id))
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const keys: ListedKey[] = [];
  for (const h of page) {
    const r = byId.get(h.id);
    if (!r) continue; // deleted between the two reads
    const { spend_month, spend_micro, ...row } = r;
    keys.push({ row, monthSpendMicro: spend_month === l.month ? Math.max(0, Number(spend_micro ?? 0)) : 0 });
  }
  const last = page.at(-1)!;
  const value = last.values.length === 0 ? null : last.values.length === 1 ? (last.values[0] as string) : (last.values as [string, number, number]);
  return { keys, next: found.length > l.limit ? { value, id: last.id } : null };
}
