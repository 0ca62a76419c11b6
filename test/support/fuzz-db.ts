// "Nothing half-written": which tables a refused case changed, if any.
//   SQLite: temporary triggers on the gateway's own connection count the rows each table gets
//     inserted, updated or deleted. The count is written inside the same transaction, so a change
//     that was rolled back leaves it as it was: only committed writes show, and reading the
//     counts is one small query per case however large the database grows.
//   PostgreSQL: a fingerprint of every table (rows hashed in JS) before and after the case.
// Also answers "the n-th existing team/key/…" for the fuzzer's IdRef nodes.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../src/db/connection.ts';
import type { IdKind, IdRef } from './fuzz-values.ts';

/** Written by the /v1 log writer in the background, never by an admin request. */
const BACKGROUND_TABLES = new Set(['request_logs', 'spend_rollups', 'org_day_rollups', 'tollgate_migrations', 'tollgate_migrations_lock']);

const ID_QUERIES: Record<IdKind, string> = {
  team: 'select id from teams where deleted_at is null order by id',
  key: 'select id from api_keys order by id',
  user: 'select id from users order by id',
  provider: 'select id from provider_credentials order by id',
  org: 'select id from organizations order by id',
  service_account: 'select id from service_accounts where deleted_at is null order by id',
};

/** table → a value that changes whenever the table's committed rows do */
type Marks = Map<string, string>;

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
      this.tables = names.filter((n) => !BACKGROUND_TABLES.has(n)).sort();
      raw.sqlite.exec('create temp table fz_writes (t text primary key, n integer not null)');
      for (const t of this.tables) {
        raw.sqlite.prepare('insert into temp.fz_writes values (?, 0)').run(t);
        for (const op of ['insert', 'update', 'delete']) {
          raw.sqlite.exec(`create temp trigger "fz_${t}_${op}" after ${op} on main."${t}" begin update temp.fz_writes set n = n + 1 where t = '${t}'; end`);
        }
      }
    } else {
      const rows = (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(this.db.kysely)).rows;
      this.tables = rows.map((r) => r.name).filter((n) => !BACKGROUND_TABLES.has(n)).sort();
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
    if ('sqlite' in raw) {
      const rows = raw.sqlite.prepare('select t, n from temp.fz_writes').raw().all() as Array<[string, number]>;
      return new Map(rows.map(([t, n]) => [t, String(n)]));
    }
    const marks: Marks = new Map();
    for (const t of this.tables) {
      const rows = (await sql`select * from ${sql.table(t)}`.execute(this.db.kysely)).rows;
      // Row order is not part of the state: PostgreSQL may return rows in another physical order.
      marks.set(t, `${rows.length}:${createHash('sha1').update(rows.map((r) => JSON.stringify(r)).sort().join('\n')).digest('hex')}`);
    }
    return marks;
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
