// "Nothing half-written": which tables a refused case changed, if any. Triggers on every table
// count the rows it gets inserted, updated or deleted, in a counter written inside the same
// transaction: a change that was rolled back leaves the count as it was, so only committed writes
// show, and reading the counts is one small query per case however large the database grows.
//   SQLite: temporary triggers on the gateway's own (only) connection, counting into a temp table.
//   PostgreSQL: row triggers and a counter table in the run's throwaway database.
// Also answers "the n-th existing team/key/…" for the fuzzer's IdRef nodes.
import { sql } from 'kysely';
import type { Db } from '../../src/db/connection.ts';
import type { IdKind, IdRef } from './fuzz-values.ts';

/** Written by the /v1 log writer in the background, never by an admin request. */
const BACKGROUND_TABLES = new Set(['request_logs', 'spend_rollups', 'org_day_rollups', 'tollgate_migrations', 'tollgate_migrations_lock']);
/** On PostgreSQL request_logs is partitioned: its day, DEFAULT and legacy partitions are request_logs_*. */
const background = (table: string): boolean => BACKGROUND_TABLES.has(table) || table.startsWith('request_logs_');
/**
 * Bookkeeping of authentication, not a write of the request: a management key's last use and a
 * session's last activity are touched (at most once a minute) whatever the answer. Updates that set
 * only these are not counted.
 */
const TOUCH_COLUMNS = new Set(['last_used_at', 'last_seen_at']);

const ID_QUERIES: Record<IdKind, string> = {
  team: 'select id from teams where deleted_at is null order by id',
  key: 'select id from api_keys order by id',
  user: 'select id from users order by id',
  provider: 'select id from provider_credentials order by id',
  org: 'select id from organizations order by id',
  service_account: 'select id from service_accounts where deleted_at is null order by id',
};

/** table → rows written to it by committed transactions */
type Marks = Map<string, number>;

export class DbWatch {
  private readonly db: Db;
  private tables: string[] = [];
  private marks: Marks = new Map();
  private readonly ids = new Map<IdKind, number[]>();
  private idsValid = false;

  constructor(db: Db) {
    this.db = db;
  }

  async init(): Promise<void> {
    const raw = this.db.raw;
    if ('sqlite' in raw) {
      const names = raw.sqlite.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'").pluck().all() as string[];
      // A full-text index (a virtual table and its shadow tables, e.g. keys_fts_data) takes no
      // trigger, and is written only with the table it indexes, which is watched.
      const virtual = raw.sqlite.prepare("select name from sqlite_master where type = 'table' and sql like 'create virtual table%'").pluck().all() as string[];
      const derived = (n: string) => virtual.some((v) => n === v || n.startsWith(`${v}_`));
      this.tables = names.filter((n) => !background(n) && !derived(n)).sort();
      raw.sqlite.exec('create temp table fz_writes (t text primary key, n integer not null)');
      for (const t of this.tables) {
        raw.sqlite.prepare('insert into temp.fz_writes values (?, 0)').run(t);
        const columns = (raw.sqlite.prepare(`select name from pragma_table_info(?)`).pluck().all(t) as string[]).filter((c) => !TOUCH_COLUMNS.has(c));
        for (const op of ['insert', 'update', 'delete']) {
          const event = op === 'update' ? `update of ${columns.map((c) => `"${c}"`).join(', ')}` : op;
          raw.sqlite.exec(`create temp trigger "fz_${t}_${op}" after ${event} on main."${t}" begin update temp.fz_writes set n = n + 1 where t = '${t}'; end`);
        }
      }
    } else {
      const rows = (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(this.db.kysely)).rows;
      this.tables = rows.map((r) => r.name).filter((n) => !background(n)).sort();
      await sql`create table fuzz_writes (t text primary key, n bigint not null default 0)`.execute(this.db.kysely);
      await sql`create function fuzz_count() returns trigger language plpgsql as $$ begin update fuzz_writes set n = n + 1 where t = TG_TABLE_NAME; return null; end $$`.execute(this.db.kysely);
      for (const t of this.tables) {
        await sql`insert into fuzz_writes (t) values (${t})`.execute(this.db.kysely);
        const columns = (await sql<{ name: string }>`select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = ${t}`.execute(this.db.kysely)).rows.map((r) => r.name).filter((c) => !TOUCH_COLUMNS.has(c));
        const updateOf = sql.join(columns.map((c) => sql.ref(c)));
        await sql`create trigger fuzz_count after insert or delete or update of ${updateOf} on ${sql.table(t)} for each row execute function fuzz_count()`.execute(this.db.kysely);
      }
    }
    this.marks = await this.read();
  }

  /** Call before a case. */
  async before(): Promise<void> {
    this.marks = await this.read();
  }

  /** Call after a refused case: the tables whose committed rows changed since `before()`. */
  async changedTables(): Promise<string[]> {
    const now = await this.read();
    const changed = [...now].filter(([t, m]) => this.marks.get(t) !== m).map(([t]) => t);
    this.marks = now;
    return changed;
  }

  /** After a successful write: ids may have come or gone. */
  touched(): void {
    this.idsValid = false;
  }

  private async read(): Promise<Marks> {
    const raw = this.db.raw;
    const rows = 'sqlite' in raw
      ? (raw.sqlite.prepare('select t, n from temp.fz_writes order by t').raw().all() as Array<[string, number]>)
      : (await sql<{ t: string; n: number }>`select t, n from fuzz_writes order by t`.execute(this.db.kysely)).rows.map((r): [string, number] => [r.t, Number(r.n)]);
    return new Map(rows);
  }

  /** The id an IdRef stands for now: the index-th live object of its kind (wrapping), else 1. */
  async resolve(ref: IdRef): Promise<number> {
    if (!this.idsValid) {
      this.ids.clear();
      this.idsValid = true;
    }
    let list = this.ids.get(ref.kind);
    if (!list) {
      list = (await sql.raw<{ id: number }>(ID_QUERIES[ref.kind]).execute(this.db.kysely)).rows.map((r) => Number(r.id));
      this.ids.set(ref.kind, list);
    }
    return list.length ? list[ref.index % list.length]! : 1;
  }
}
