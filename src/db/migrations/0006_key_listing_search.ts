// Frozen once landed. What key listings (src/keys/key-listing.ts) need to stay fast at 1,000,000
// keys (docs/benchmarks.md, "Key listings"):
// - sorts by creation, last use and expiry: indexes on (org_id | team_id, status, sort expression,
//   id). The expressions put "never used" before every timestamp ('') and "never expires" after
//   every one ('z': after digits in every collation, where '~' is punctuation that en_US ignores),
//   so NULLs sit where the API documents them on both dialects (SQLite orders NULL first,
//   PostgreSQL last).
// - the spend sort: key_latest_spend holds, for every key lineage (a key that was never rotated
//   into is its own lineage), the latest calendar month (UTC, 'YYYY-MM'; '' = never) in which it
//   spent and what it spent in that month. Triggers keep it: on api_keys (a new lineage gets its
//   row) and on spend_rollups (insert, the log writer's "+=" upsert, delete), so whatever writes
//   the rollups (the writer, a journal replay) keeps it right. Its (org_id, month, cost_micro,
//   lineage_id) index is the spend order itself, every key included: this month's spenders by
//   spend, then keys that did not spend this month (most recent month first), then keys that never
//   spent. One ordered walk, with no anti-join to find the keys without spend.
// - PostgreSQL only: tag filters through a GIN index on tags::jsonb (tags are a JSON array in text);
//   the text search through a trigram index on name, prefix and description, when the pg_trgm
//   extension can be created (a contrib extension, trusted since PostgreSQL 13). Without it, the
//   search still works, unindexed. SQLite reads the rows for both.
// The text of each indexed expression must stay identical in key-listing.ts: an expression index
// is used only for the same expression.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const run = (q: string) => sql.raw(q).execute(db);
  const pg = dialect === 'postgres';
  // Status leads: each status is its own ordered range, so a listing of one status (or of the
  // "live" ones, as two ranges merged) walks only its keys, however the statuses are spread in the
  // order (revoked keys cluster where last use is oldest). The id order (creation) has them too.
  for (const [scope, col] of [['org', 'org_id'], ['team', 'team_id']] as const) {
    await run(`create index api_keys_${scope}_status_idx on api_keys (${col}, status, id)`);
    await run(`create index api_keys_${scope}_status_used_idx on api_keys (${col}, status, (coalesce(last_used_at, '')), id)`);
    await run(`create index api_keys_${scope}_status_expiry_idx on api_keys (${col}, status, (coalesce(expires_at, 'z')), id)`);
  }
  await run(`create index api_keys_lineage_of_idx on api_keys ((coalesce(lineage_id, id)))`);

  await db.schema
    .createTable('key_latest_spend')
    .addColumn('lineage_id', 'integer', (c) => c.primaryKey())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('month', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('cost_micro', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await run(`create index key_latest_spend_order_idx on key_latest_spend (org_id, month, cost_micro, lineage_id)`);

  // Spend for (lineage, month) merged into the lineage's row: a later month replaces the row's
  // month and amount, the same month adds to it, an earlier month (a late write) changes nothing.
  const merge = `on conflict (lineage_id) do update set
      cost_micro = case when excluded.month > key_latest_spend.month then excluded.cost_micro
                        when excluded.month = key_latest_spend.month then key_latest_spend.cost_micro + excluded.cost_micro
                        else key_latest_spend.cost_micro end,
      month = case when excluded.month > key_latest_spend.month then excluded.month else key_latest_spend.month end`;
  const lineageOf = (row: string) => `coalesce((select k.lineage_id from api_keys k where k.id = ${row}.key_id), ${row}.key_id)`;
  if (pg) {
    // Statement triggers over the transition tables: one set-based upsert per write of the log
    // writer, taking the rows' locks in lineage order, so replicas flushing at once lock them in one
    // global order (as they do spend_rollups rows, usage/log-sinks.ts) and cannot deadlock on them.
    // Per lineage, only the batch's latest month counts (an earlier one cannot change the row).
    const upsert = (source: string) =>
      `insert into key_latest_spend (lineage_id, org_id, month, cost_micro)
       select distinct on (lineage) lineage, org_id, month, cost from (
         select coalesce(k.lineage_id, d.key_id) as lineage, min(d.org_id) as org_id, substr(d.day, 1, 7) as month, sum(d.cost) as cost
         from (${source}) d left join api_keys k on k.id = d.key_id
         group by 1, 3 having sum(d.cost) <> 0) x
       order by lineage, month desc
       ${merge}`;
    const added = 'select key_id, day, org_id, cost_micro as cost from added';
    const removed = 'select key_id, day, org_id, -cost_micro as cost from removed';
    await run(`create function key_latest_spend_track() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then ${upsert(added)};
        elsif tg_op = 'DELETE' then ${upsert(removed)};
        else ${upsert(`${added} union all ${removed}`)};
        end if;
        return null;
      end $$`);
    for (const [op, tables] of [['insert', 'new table as added'], ['update', 'old table as removed new table as added'], ['delete', 'old table as removed']] as const) {
      await run(`create trigger key_latest_spend_${op} after ${op} on spend_rollups referencing ${tables} for each statement execute function key_latest_spend_track()`);
    }
    await run(`create function key_latest_spend_key() returns trigger language plpgsql as $$
      begin
        insert into key_latest_spend (lineage_id, org_id) values (coalesce(new.lineage_id, new.id), new.org_id) on conflict (lineage_id) do nothing;
        return null;
      end $$`);
    await run(`create trigger key_latest_spend_key after insert on api_keys for each row execute function key_latest_spend_key()`);
  } else {
    // SQLite has row triggers only (and one writer at a time, so no lock order to keep).
    const add = (row: string, amount: string) =>
      `insert into key_latest_spend (lineage_id, org_id, month, cost_micro) values (${lineageOf(row)}, ${row}.org_id, substr(${row}.day, 1, 7), ${amount}) ${merge}`;
    await run(`create trigger key_latest_spend_insert after insert on spend_rollups when new.cost_micro <> 0 begin ${add('new', 'new.cost_micro')}; end`);
    await run(`create trigger key_latest_spend_update after update on spend_rollups
      when new.key_id = old.key_id and new.day = old.day and new.cost_micro <> old.cost_micro
      begin ${add('new', 'new.cost_micro - old.cost_micro')}; end`);
    await run(`create trigger key_latest_spend_move after update on spend_rollups when new.key_id <> old.key_id or new.day <> old.day
      begin ${add('old', '-old.cost_micro')}; ${add('new', 'new.cost_micro')}; end`);
    await run(`create trigger key_latest_spend_delete after delete on spend_rollups when old.cost_micro <> 0 begin ${add('old', '-old.cost_micro')}; end`);
    await run(`create trigger key_latest_spend_key after insert on api_keys
      begin insert into key_latest_spend (lineage_id, org_id) values (coalesce(new.lineage_id, new.id), new.org_id) on conflict (lineage_id) do nothing; end`);
  }
  // Backfill: each lineage's latest month with spend, from the rollups; then every other lineage.
  await run(`insert into key_latest_spend (lineage_id, org_id, month, cost_micro)
    select lineage, org_id, month, cost from (
      select lineage, org_id, month, cost, row_number() over (partition by lineage order by month desc) as nth from (
        select coalesce(k.lineage_id, r.key_id) as lineage, min(r.org_id) as org_id, substr(r.day, 1, 7) as month, sum(r.cost_micro) as cost
        from spend_rollups r left join api_keys k on k.id = r.key_id
        group by coalesce(k.lineage_id, r.key_id), substr(r.day, 1, 7)
        having sum(r.cost_micro) <> 0) m) x
    where nth = 1`);
  await run(`insert into key_latest_spend (lineage_id, org_id) select distinct coalesce(lineage_id, id), org_id from api_keys where true on conflict (lineage_id) do nothing`);

  if (!pg) return;
  await run(`create index api_keys_tags_idx on api_keys using gin ((tags::jsonb) jsonb_path_ops)`);
  // An extension the database role may not be allowed to create: try, inside a savepoint (the DO
  // block's exception handler), and index the search only if it is there.
  await run(`do $$ begin create extension if not exists pg_trgm; exception when others then raise notice 'pg_trgm is not available (%): the key search stays unindexed', sqlerrm; end $$`);
  const trgm = await sql<{ schema: string }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db);
  const schema = trgm.rows[0]?.schema;
  if (schema !== undefined) {
    await run(`create index api_keys_search_idx on api_keys using gin ((name || E'\\n' || key_prefix || E'\\n' || coalesce(description, '')) ${quoteIdent(schema)}.gin_trgm_ops)`);
  }
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
