// Frozen once landed. What key listings (src/keys/key-listing.ts) need to stay fast at 1,000,000
// keys (docs/benchmarks.md, "Key listings"):
// - sorts by creation, last use and expiry: indexes on (org_id | team_id, status, sort expression,
//   id). The expressions put "never used" before every timestamp ('') and "never expires" after
//   every one ('z': after digits in every collation, where '~' is punctuation that en_US ignores),
//   so NULLs sit where the API documents them on both dialects (SQLite orders NULL first,
//   PostgreSQL last).
// - the spend sort: key_spend holds, for every key, the latest calendar month (UTC, 'YYYY-MM';
//   '' = never) in which its lineage (a key that was never rotated into is its own lineage) spent,
//   what it spent in that month, and the key's lineage, organization, team and status. Triggers
//   keep it: on api_keys (a new key gets its row; status and team are mirrored) and on spend_rollups
//   (insert, the log writer's "+=" upsert, delete), so whatever writes the rollups (the writer, a
//   journal replay) keeps it right. Its (org_id | team_id, status, month, cost_micro, key_id)
//   indexes are the spend order itself, every key included: this month's spenders by spend, then
//   keys that did not spend this month (most recent month first), then keys that never spent.
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

  await db.schema
    .createTable('key_spend')
    .addColumn('key_id', 'integer', (c) => c.primaryKey())
    .addColumn('lineage_id', 'integer', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('team_id', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('month', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('cost_micro', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await run(`create index key_spend_org_idx on key_spend (org_id, status, month, cost_micro, key_id)`);
  await run(`create index key_spend_team_idx on key_spend (team_id, status, month, cost_micro, key_id)`);
  // The keys of a lineage, for the triggers: they read key_spend only, whose rows they update anyway.
  await run(`create index key_spend_lineage_idx on key_spend (lineage_id)`);

  // Spend for (lineage, month) merged into the rows of the lineage's keys: a later month replaces
  // a row's month and amount, the same month adds to it, an earlier month (a late write) changes
  // nothing. `d` is the lineage's (lineage, month, cost).
  const merged = (max: string) => `
      cost_micro = case when d.month > key_spend.month then d.cost when d.month = key_spend.month then key_spend.cost_micro + d.cost else key_spend.cost_micro end,
      month = ${max}(key_spend.month, d.month)`;
  const keyRow = (k: string) => `${k}.id, coalesce(${k}.lineage_id, ${k}.id), ${k}.org_id, ${k}.team_id, ${k}.status`;
  if (pg) {
    // Statement triggers over the transition tables: one set-based update per write of the log
    // writer. The rows are locked first, in key order, as spend_rollups rows are (sorted by key,
    // usage/log-sinks.ts): replicas flushing at once take the locks in one global order and cannot
    // deadlock on them. Per lineage, only the batch's latest month counts. Every lookup is by key
    // or lineage through key_spend's indexes (correlated, lateral): a transition table has no
    // statistics, and planned as joins these read all of api_keys (40 ms a flush of 100 keys at 1M).
    const track = (source: string) => `
      select coalesce(array_agg(t.key_id order by t.key_id), '{}'), array_agg(d.month order by t.key_id), array_agg(d.cost order by t.key_id)
        into ids, months, costs
      from (
        select distinct on (lineage) lineage, month, cost from (
          select coalesce((select ks.lineage_id from key_spend ks where ks.key_id = x.key_id), x.key_id) as lineage, substr(x.day, 1, 7) as month, sum(x.cost) as cost
          from (${source}) x group by 1, 2 having sum(x.cost) <> 0) y
        order by lineage, month desc) d
      cross join lateral (select ks.key_id from key_spend ks where ks.lineage_id = d.lineage) t;
      perform 1 from key_spend where key_id = any(ids) order by key_id for update;
      update key_spend set ${merged('greatest')} from unnest(ids, months, costs) as d(key_id, month, cost) where key_spend.key_id = d.key_id`;
    const added = 'select key_id, day, cost_micro as cost from added';
    const removed = 'select key_id, day, -cost_micro as cost from removed';
    await run(`create function key_spend_track() returns trigger language plpgsql as $$
      declare ids integer[]; months text[]; costs bigint[];
      begin
        if tg_op = 'INSERT' then ${track(added)};
        elsif tg_op = 'DELETE' then ${track(removed)};
        else ${track(`${added} union all ${removed}`)};
        end if;
        return null;
      end $$`);
    for (const [op, tables] of [['insert', 'new table as added'], ['update', 'old table as removed new table as added'], ['delete', 'old table as removed']] as const) {
      await run(`create trigger key_spend_${op} after ${op} on spend_rollups referencing ${tables} for each statement execute function key_spend_track()`);
    }
    // A new key (a rotation of the old kind adds one to a lineage) starts from its lineage's spend;
    // a key's status and team are mirrored for the indexes.
    await run(`create function key_spend_key() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then
          insert into key_spend (key_id, lineage_id, org_id, team_id, status, month, cost_micro)
          select ${keyRow('new')}, coalesce(l.month, ''), coalesce(l.cost_micro, 0) from (select 1) one left join key_spend l on l.key_id = new.lineage_id;
        else
          update key_spend set status = new.status, team_id = new.team_id where key_id = new.id;
        end if;
        return null;
      end $$`);
    await run(`create trigger key_spend_key_insert after insert on api_keys for each row execute function key_spend_key()`);
    await run(`create trigger key_spend_key_update after update of status, team_id on api_keys for each row
      when (new.status is distinct from old.status or new.team_id is distinct from old.team_id) execute function key_spend_key()`);
  } else {
    // SQLite has row triggers only (and one writer at a time, so no lock order to keep).
    const add = (row: string, amount: string) => `
      update key_spend set ${merged('max')}
      from (select coalesce((select ks.lineage_id from key_spend ks where ks.key_id = ${row}.key_id), ${row}.key_id) as lineage, substr(${row}.day, 1, 7) as month, ${amount} as cost) d
      where key_spend.lineage_id = d.lineage`;
    await run(`create trigger key_spend_insert after insert on spend_rollups when new.cost_micro <> 0 begin ${add('new', 'new.cost_micro')}; end`);
    await run(`create trigger key_spend_update after update on spend_rollups
      when new.key_id = old.key_id and new.day = old.day and new.cost_micro <> old.cost_micro
      begin ${add('new', 'new.cost_micro - old.cost_micro')}; end`);
    await run(`create trigger key_spend_move after update on spend_rollups when new.key_id <> old.key_id or new.day <> old.day
      begin ${add('old', '-old.cost_micro')}; ${add('new', 'new.cost_micro')}; end`);
    await run(`create trigger key_spend_delete after delete on spend_rollups when old.cost_micro <> 0 begin ${add('old', '-old.cost_micro')}; end`);
    await run(`create trigger key_spend_key_insert after insert on api_keys begin
      insert into key_spend (key_id, lineage_id, org_id, team_id, status, month, cost_micro)
      select ${keyRow('new')}, coalesce(l.month, ''), coalesce(l.cost_micro, 0) from (select 1) one left join key_spend l on l.key_id = new.lineage_id; end`);
    await run(`create trigger key_spend_key_update after update of status, team_id on api_keys
      when new.status is not old.status or new.team_id is not old.team_id
      begin update key_spend set status = new.status, team_id = new.team_id where key_id = new.id; end`);
  }
  // Backfill: every key, with its lineage's latest month with spend, from the rollups.
  await run(`insert into key_spend (key_id, lineage_id, org_id, team_id, status, month, cost_micro)
    select ${keyRow('k')}, coalesce(l.month, ''), coalesce(l.cost, 0)
    from api_keys k left join (
      select lineage, month, cost, row_number() over (partition by lineage order by month desc) as nth from (
        select coalesce(a.lineage_id, r.key_id) as lineage, substr(r.day, 1, 7) as month, sum(r.cost_micro) as cost
        from spend_rollups r left join api_keys a on a.id = r.key_id
        group by coalesce(a.lineage_id, r.key_id), substr(r.day, 1, 7)
        having sum(r.cost_micro) <> 0) m) l on l.lineage = coalesce(k.lineage_id, k.id) and l.nth = 1`);

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
