// The SQL of one key listing (key-listing.ts runs it): its conditions, its order and the three
// ways of reading a page. Plain SQL fragments, composed the same way for both dialects.
import { sql, type RawBuilder } from 'kysely';
import type { DialectName } from '../db/connection.ts';
import type { KeyStatus } from './keys.repository.ts';
import type { KeyListing, SortKey } from './key-listing.ts';
import type { Position } from './key-cursor.ts';

type Frag = RawBuilder<unknown>;
const AND = sql` and `;
const COMMA = sql`, `;

// The expressions of each order, ending with the key id. Each must stay textually what migration
// 0006 indexed (an expression index is used only for the same expression). "Never used" is ''
// (before any instant), "never expires" is 'z' (after any): the NULL placement docs/api.md
// promises, on both dialects. The spend order is key_spend's (migration 0006): the latest month
// the key's lineage spent in, that month's spend, the key.
const ORDER: Record<SortKey, Frag[]> = {
  created_at: [sql`k.id`],
  last_used_at: [sql`coalesce(k.last_used_at, '')`, sql`k.id`],
  expires_at: [sql`coalesce(k.expires_at, 'z')`, sql`k.id`],
  spend: [sql`ks.month`, sql`ks.cost_micro`, sql`ks.key_id`],
};
// Name, prefix and description joined by a newline, which a search (refused with control
// characters: key-listing.routes.ts) can never match across.
const SEARCH_TEXT: Record<DialectName, Frag> = {
  postgres: sql.raw(`(k.name || E'\\n' || k.key_prefix || E'\\n' || coalesce(k.description, ''))`),
  sqlite: sql.raw(`(k.name || char(10) || k.key_prefix || char(10) || coalesce(k.description, ''))`),
};
/** The columns the selective conditions read, carried out of a probe's walk. */
const FILTER_COLUMNS = sql`k.user_id, k.service_account_id, k.tags, k.name, k.key_prefix, k.description`;

/** The trigram tokenizer finds substrings of at least 3 characters (code points); shorter ones match nothing. */
const TRIGRAM = 3;
/**
 * The search as one FTS5 phrase: every character literal (`%`, `_`, `*`, `-`… are just characters
 * in a quoted string), double quotes doubled. The fields are separate columns, and a phrase never
 * matches across columns: as the LIKE over the newline-joined text (q holds no control character).
 */
const ftsPhrase = (q: string) => `"${q.replace(/"/g, '""')}"`;
/** `%`, `_` and `\` taken literally in a LIKE pattern (escape character `\`). */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c);
/** The ids of the keys holding every one of `tags` (distinct, at least one): the first tag's range, each further tag a primary-key lookup. */
const keysWithTags = (tags: string[]): Frag =>
  sql.join(
    [sql`select t0.key_id from key_tags t0`, ...tags.slice(1).map((tag, i) => sql`join key_tags ${sql.raw(`t${i + 1}`)} on ${sql.raw(`t${i + 1}`)}.tag = ${tag} and ${sql.raw(`t${i + 1}`)}.key_id = t0.key_id`), sql`where t0.tag = ${tags[0]}`],
    sql` `,
  );
const isFrag = (x: unknown): x is Frag => typeof x === 'object' && x !== null && 'toOperationNode' in x;
const tuple = (xs: readonly unknown[]) => sql`(${sql.join(xs.map((x) => (isFrag(x) ? x : sql`${x}`)), COMMA)})`;
const where = (conds: Frag[]) => (conds.length ? sql.join(conds, AND) : sql`true`);

export class ListingSql {
  readonly l: KeyListing;
  private readonly dialect: DialectName;
  private readonly cols: Frag[];
  private readonly dir: Frag;
  private readonly statuses: KeyStatus[];
  /** the spend order walks key_spend (ks), which mirrors each key's organization, team and status */
  private readonly spend: boolean;

  constructor(l: KeyListing, dialect: DialectName) {
    this.l = l;
    this.dialect = dialect;
    this.cols = ORDER[l.sort.key];
    this.dir = sql.raw(l.sort.desc ? 'desc' : 'asc');
    this.statuses = [...new Set(l.statuses)].sort();
    this.spend = l.sort.key === 'spend';
  }

  /**
   * Conditions that may match few keys anywhere in the order: owner, tags, text. `indexed`: the
   * keys are to be found through these conditions (step 2, filterFirst), so on SQLite tags go
   * through key_tags (migration 0021) and a search of 3 characters or more through the trigram
   * index (migration 0020); a walk checks the rows it reads with the JSON check and the LIKE alone
   * (the indexes' matches, built as a set first, could be every key).
   */
  selective(indexed = false): Frag[] {
    const l = this.l;
    const out: Frag[] = [];
    if (l.userId !== undefined) out.push(sql`k.user_id = ${l.userId}`);
    if (l.serviceAccountId !== undefined) out.push(sql`k.service_account_id = ${l.serviceAccountId}`);
    if (l.tags.length > 0) {
      if (this.dialect === 'postgres') out.push(sql`k.tags::jsonb @> ${JSON.stringify(l.tags)}::jsonb`);
      // Found through key_tags (migration 0021): the keys holding every tag, one primary-key range
      // per tag. A walk checks the few rows it reads against their own JSON instead: the set of a
      // common tag's keys (a third of them) would cost more to build than the walk.
      else if (indexed) out.push(sql`k.id in (${keysWithTags([...new Set(l.tags)])})`);
      else for (const tag of l.tags) out.push(sql`exists (select 1 from json_each(k.tags) where value = ${tag})`);
    }
    if (l.q !== undefined) {
      const pattern = `%${likeLiteral(l.q)}%`;
      // PostgreSQL's ILIKE escapes with `\` already; SQLite's LIKE (ASCII case-insensitive) needs telling.
      if (indexed && this.dialect === 'sqlite' && [...l.q].length >= TRIGRAM) out.push(sql`k.id in (select rowid from keys_fts where keys_fts match ${ftsPhrase(l.q)})`);
      // Always, the index included: the tokenizer folds the case of every letter, LIKE of ASCII
      // ones only, so the index's matches are a superset, and the LIKE keeps today's answer exactly.
      out.push(this.dialect === 'postgres' ? sql`${SEARCH_TEXT.postgres} ilike ${pattern}` : sql`${SEARCH_TEXT.sqlite} like ${pattern} escape '\\'`);
    }
    return out;
  }

  /**
   * The plain walk: one index range per status (the indexes lead with it), merged, from the
   * cursor on; `filtered` adds the selective conditions. `carry` keeps the columns they read.
   */
  walk(limit: number, opts: { filtered: boolean; carry: boolean; skip: number }): Frag {
    const columns = opts.carry ? sql`${this.selectOrder()}, ${FILTER_COLUMNS}` : this.selectOrder();
    const from = this.spend ? sql`key_spend ks join api_keys k on k.id = ks.key_id` : sql`api_keys k`;
    const one = (status: KeyStatus) =>
      sql`select ${columns} from ${from} where ${where([...this.walkScope(status), ...(opts.filtered ? this.selective() : [])])} order by ${this.orderBy()}`;
    if (this.statuses.length === 1) return sql`${one(this.statuses[0]!)} limit ${limit} offset ${opts.skip}`;
    const each = this.statuses.map((st) => sql`select * from (${one(st)} limit ${limit + opts.skip}) r`);
    return sql`select * from (${sql.join(each, sql` union all `)}) u order by ${this.orderSelected()} limit ${limit} offset ${opts.skip}`;
  }

  /**
   * Step 1: the first `rows` keys of the walk, each with `hit`: whether the selective conditions
   * hold. All of them come back, so the caller also learns whether the walk reached the end.
   */
  probe(rows: number): Frag {
    // The walked rows are named k and carry the columns the selective conditions read, so the same
    // conditions apply to them.
    const outer = this.cols.map((_, i, a) => sql.raw(i < a.length - 1 ? `k.c${i}` : 'k.id'));
    return sql`select ${this.selectOrder(outer)}, case when ${where(this.selective())} then 1 else 0 end as hit
      from (${this.walk(rows, { filtered: false, carry: true, skip: 0 })}) k order by ${this.orderSelected('k.')}`;
  }

  /**
   * Step 2: every matching key past the cursor, up to `max` + 1 (`matched` tells how many, on
   * each row; no row: none), found through the selective conditions' own indexes (owner, tags,
   * trigram search), then sorted.
   */
  filterFirst(max: number, n: number): Frag {
    const keys = where([...this.keyScope(), ...this.selective(true)]);
    // The spend order reads key_spend by key for each match (correlated lookups, never a join the
    // planner could turn around: driven by the cursor's misjudged row comparison, it once scanned
    // key_spend for every match).
    const spend = (col: string) => sql`(select ks.${sql.raw(col)} from key_spend ks where ks.key_id = k.id)`;
    // `offset 0` keeps PostgreSQL from merging the two levels, which let it look up key_spend for
    // every key before the selective conditions (2.3 s instead of 0.42 for a search matching nothing).
    const fence = this.dialect === 'postgres' ? sql`offset 0` : sql``;
    const rows = this.spend
      ? sql`select * from (select k.id as id, ${spend('month')} as c0, ${spend('cost_micro')} as c1 from api_keys k where ${keys} ${fence}) x where true ${this.pastWhere([sql`x.c0`, sql`x.c1`, sql`x.id`])}`
      : sql`select ${this.selectOrder()} from api_keys k where ${keys} ${this.pastWhere()}`;
    return sql`with m as materialized (${rows} limit ${max + 1})
      select m.*, (select count(*) from m) as matched from m order by ${this.orderSelected()} limit ${n}`;
  }

  /** Creation order with an offset (legacy): one range of migration 0002's (org_id, id, status) index, which skips the offset in the index alone. */
  byOffset(n: number): Frag {
    return sql`select ${this.selectOrder()} from api_keys k where ${where([...this.keyScope(), ...this.selective(true)])} ${this.pastWhere()}
      order by ${this.orderBy()} limit ${n} offset ${this.l.offset}`;
  }

  /** Conditions on the key row: organization, team, status as one condition. */
  private keyScope(): Frag[] {
    const l = this.l;
    const out: Frag[] = [sql`k.org_id = ${l.orgId}`];
    if (l.teamId !== undefined) out.push(sql`k.team_id = ${l.teamId}`);
    if (this.statuses.length === 2 && !this.statuses.includes('revoked')) out.push(sql`k.status <> 'revoked'`); // the form the (…, id, status) indexes check
    else if (this.statuses.length < 3) out.push(sql`k.status in ${tuple(this.statuses)}`);
    return out;
  }

  /**
   * Conditions of one status's range, on the walked index's own columns, and the key's
   * organization written so that no index matches it (`(…) is true`, which PostgreSQL still
   * estimates well). Given a team and an organization both on the key, PostgreSQL misjudges the
   * cursor's row comparison and may walk the whole organization's range (measured: 100 ms instead
   * of 1 ms for a team of 100 keys at 1M keys; `org_id + 0`, misestimated in turn: 600 ms).
   */
  private walkScope(status: KeyStatus): Frag[] {
    const l = this.l;
    const t = sql.raw(this.spend ? 'ks' : 'k');
    const out: Frag[] = [];
    if (l.teamId !== undefined) out.push(sql`${t}.team_id = ${l.teamId}`);
    else out.push(sql`${t}.org_id = ${l.orgId}`);
    if (l.teamId !== undefined || this.spend) out.push(sql`(k.org_id = ${l.orgId}) is true`);
    out.push(sql`${t}.status = ${status}`);
    if (l.after) out.push(this.past(l.after));
    return out;
  }

  private pastWhere(cols = this.cols): Frag {
    return this.l.after ? sql`and ${this.past(this.l.after, cols)}` : sql``;
  }

  /**
   * Strictly after the position in the order: one row comparison, on one table's columns, which
   * PostgreSQL's index seeks to. SQLite seeks on a row comparison's first column only, and not at
   * all on an expression's: it gets that column's bound as well (at 1M keys, a deep page of a large
   * team by last use: 224 ms without it).
   */
  private past(p: Position, cols = this.cols): Frag {
    const op = sql.raw(this.l.sort.desc ? '<' : '>');
    const values = [...(Array.isArray(p.value) ? p.value : p.value === null ? [] : [p.value]), p.id];
    if (values.length === 1) return sql`${cols[0]!} ${op} ${p.id}`;
    const exact = sql`${tuple(cols)} ${op} ${tuple(values)}`;
    if (this.dialect !== 'sqlite') return exact;
    return sql`${cols[0]!} ${sql.raw(this.l.sort.desc ? '<=' : '>=')} ${values[0]} and ${exact}`;
  }

  /** `<the key id> as id, <c0> as c0, …` */
  private selectOrder(cols = this.cols): Frag {
    return sql.join([sql`${cols.at(-1)!} as id`, ...cols.slice(0, -1).map((c, i) => sql`${c} as ${sql.raw(`c${i}`)}`)], COMMA);
  }

  /** ORDER BY over the selected c0, c1, … and id */
  private orderSelected(prefix = ''): Frag {
    return sql.join([...this.cols.slice(0, -1).map((_, i) => sql`${sql.raw(`${prefix}c${i}`)} ${this.dir}`), sql`${sql.raw(`${prefix}id`)} ${this.dir}`], COMMA);
  }

  private orderBy(): Frag {
    return sql.join(this.cols.map((c) => sql`${c} ${this.dir}`), COMMA);
  }
}
