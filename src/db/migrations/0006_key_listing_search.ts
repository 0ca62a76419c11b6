// Frozen once landed. What key listings (src/keys/key-listing.ts) need to stay fast at 1,000,000
// keys (docs/benchmarks.md, "Key listings"):
// - sorts by last use and by expiry: indexes on (org_id, sort expression, id). The expressions put
//   "never used" before every timestamp ('') and "never expires" after every one ('~'), so NULLs
//   sit where the API documents them on both dialects (SQLite orders NULL first, PostgreSQL last).
//   The team variants keep a large team's sorted pages from sorting all of its keys.
// - the spend sort: key_month_spend holds each key lineage's spend per calendar month (UTC),
//   kept by triggers on spend_rollups (insert, the writer's "+=" upsert, delete), so whatever
//   writes the rollups (the log writer, a journal replay) keeps it right; one row per lineage and
//   month, indexed by spend within the organization's month. The listing joins it back to the keys by lineage (an index on
//   coalesce(lineage_id, id)). Backfilled from spend_rollups.
// - PostgreSQL only: tag filters through a GIN index on tags::jsonb (tags are a JSON array in text);
//   the text search through a trigram index on name, prefix and description, when the pg_trgm
//   extension can be created (a contrib extension, trusted since PostgreSQL 13). Without it, the
//   search still works, unindexed. SQLite reads the table for both.
// The query text of each expression must stay identical to key-listing.ts for an index to match.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const run = (q: string) => sql.raw(q).execute(db);
  await run(`create index api_keys_org_used_idx on api_keys (org_id, (coalesce(last_used_at, '')), id)`);
  await run(`create index api_keys_org_expiry_idx on api_keys (org_id, (coalesce(expires_at, '~')), id)`);
  await run(`create index api_keys_team_used_idx on api_keys (team_id, (coalesce(last_used_at, '')), id)`);
  await run(`create index api_keys_team_expiry_idx on api_keys (team_id, (coalesce(expires_at, '~')), id)`);
  await run(`create index api_keys_lineage_of_idx on api_keys ((coalesce(lineage_id, id)))`);

  await db.schema
    .createTable('key_month_spend')
    .addColumn('lineage_id', 'integer', (c) => c.notNull())
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('cost_micro', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('key_month_spend_pk', ['lineage_id', 'month'])
    .execute();
  await run(`create index key_month_spend_rank_idx on key_month_spend (org_id, month, cost_micro, lineage_id)`);

  // The lineage a rollup's key belongs to (a key that was never rotated into is its own lineage).
  const lineage = (row: string) => `coalesce((select k.lineage_id from api_keys k where k.id = ${row}.key_id), ${row}.key_id)`;
  const add = (row: string, amount: string) =>
    `insert into key_month_spend (lineage_id, month, org_id, cost_micro) values (${lineage(row)}, substr(${row}.day, 1, 7), ${row}.org_id, ${amount})
     on conflict (lineage_id, month) do update set cost_micro = key_month_spend.cost_micro + excluded.cost_micro`;
  if (dialect === 'postgres') {
    // Statement triggers over the transition tables: one set-based upsert per write of the log
    // writer, taking the rows' locks in (lineage, month) order. Replicas flushing at once then lock
    // key_month_spend rows in one global order, as they do spend_rollups rows (log-sinks.ts), and
    // cannot deadlock on them. (Row triggers would lock in key order, which lineages do not follow.)
    const upsert = (source: string) =>
      `insert into key_month_spend (lineage_id, month, org_id, cost_micro)
       select coalesce(k.lineage_id, d.key_id), substr(d.day, 1, 7), min(d.org_id), sum(d.cost)
       from (${source}) d left join api_keys k on k.id = d.key_id
       group by 1, 2 having sum(d.cost) <> 0 order by 1, 2
       on conflict (lineage_id, month) do update set cost_micro = key_month_spend.cost_micro + excluded.cost_micro`;
    const added = 'select key_id, day, org_id, cost_micro as cost from added';
    const removed = 'select key_id, day, org_id, -cost_micro as cost from removed';
    await run(`create function key_month_spend_track() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then ${upsert(added)};
        elsif tg_op = 'DELETE' then ${upsert(removed)};
        else ${upsert(`${added} union all ${removed}`)};
        end if;
        return null;
      end $$`);
    await run(`create trigger key_month_spend_insert after insert on spend_rollups referencing new table as added for each statement execute function key_month_spend_track()`);
    await run(`create trigger key_month_spend_update after update on spend_rollups referencing old table as removed new table as added for each statement execute function key_month_spend_track()`);
    await run(`create trigger key_month_spend_delete after delete on spend_rollups referencing old table as removed for each statement execute function key_month_spend_track()`);
  } else {
    // SQLite has row triggers only (and one writer at a time, so no lock order to keep).
    await run(`create trigger key_month_spend_insert after insert on spend_rollups when new.cost_micro <> 0 begin ${add('new', 'new.cost_micro')}; end`);
    await run(`create trigger key_month_spend_update after update on spend_rollups
      when new.key_id = old.key_id and new.day = old.day and new.cost_micro <> old.cost_micro
      begin ${add('new', 'new.cost_micro - old.cost_micro')}; end`);
    await run(`create trigger key_month_spend_move after update on spend_rollups when new.key_id <> old.key_id or new.day <> old.day
      begin ${add('old', '-old.cost_micro')}; ${add('new', 'new.cost_micro')}; end`);
    await run(`create trigger key_month_spend_delete after delete on spend_rollups when old.cost_micro <> 0 begin ${add('old', '-old.cost_micro')}; end`);
  }
  await run(`insert into key_month_spend (lineage_id, month, org_id, cost_micro)
    select coalesce(k.lineage_id, r.key_id), substr(r.day, 1, 7), min(r.org_id), sum(r.cost_micro)
    from spend_rollups r left join api_keys k on k.id = r.key_id
    group by coalesce(k.lineage_id, r.key_id), substr(r.day, 1, 7)`);

  if (dialect !== 'postgres') return;
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
