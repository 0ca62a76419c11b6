// Frozen once landed. PostgreSQL only (a no-op on SQLite): request_logs becomes a table
// range-partitioned by created_at (docs/production.md, "Request log partitions"), so retention
// drops a day's partition instead of deleting its rows one by one.
// - The partition key is created_at (ISO-8601 UTC text; the bounds are full ISO instants, so they
//   order like the values under any collation). A partitioned table's primary key must hold the
//   key: it becomes (id, created_at). Ids keep coming from the same sequence (request_logs_id_seq,
//   now owned by the new table), so they continue where they were.
// - The existing table is renamed request_logs_legacy and attached as one partition covering
//   everything before the cut-over (the start of the UTC day after its newest row, or after now).
//   A CHECK constraint proving that bound is validated first, so ATTACH does not scan the table a
//   second time; its primary key becomes (id, created_at) (a unique index built here, or found
//   already built CONCURRENTLY by the operator) and its indexes are the parent's as they are.
//   Migrations run in one transaction, which holds the table's lock for the one validation scan
//   (and the index build): seconds for millions of rows, log writes queue in the replicas'
//   journals meanwhile. For a very large table, the operator builds both beforehand without
//   blocking writes (docs/production.md gives the statements); this migration then uses them.
//   An empty table (a new installation) is simply replaced.
// - A DEFAULT partition takes any row whose day has no partition yet, so an insert is never lost;
//   the partition keeper (src/usage/log-partitions.ts) creates the daily partitions ahead of time
//   and moves rows found in DEFAULT into the day's partition when it creates it.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

/** The indexes of migration 0016, the same on the new table (each partition gets its own). */
const INDEXES: Array<[string, string]> = [
  ['request_logs_org_time_idx', 'org_id, created_at, id'],
  ['request_logs_team_time_idx', 'team_id, created_at, id'],
  ['request_logs_key_time_idx', 'key_id, created_at, id'],
  ['request_logs_user_time_idx', 'user_id, created_at, id'],
  ['request_logs_request_id_idx', 'request_id'],
];
/** A constraint an operator may have added and validated before (docs/production.md): its bound is the cut-over. */
const CUTOVER_CHECK = 'request_logs_cutover';
/** A unique index on (id, created_at) an operator may have built CONCURRENTLY before. */
const KEY_INDEX = 'request_logs_id_created_at_key';
const DAY_MS = 86_400_000;

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'postgres') return;
  const empty = (await sql`select 1 from request_logs limit 1`.execute(db)).rows.length === 0;
  let cutover: string | undefined;
  if (!empty) {
    cutover = await premadeCutover(db);
    if (cutover === undefined) {
      // The newest row per organization is one index probe each (the table may be large).
      const newest = await sql<{ at: string | null }>`select max((select max(l.created_at) from request_logs l where l.org_id = o.id)) as at from organizations o`.execute(db);
      const at = Math.max(Date.now(), Date.parse(newest.rows[0]?.at ?? '') || 0);
      cutover = new Date(Math.floor(at / DAY_MS) * DAY_MS + DAY_MS).toISOString();
      await sql`alter table request_logs add constraint ${sql.id(CUTOVER_CHECK)} check (created_at < ${sql.lit(cutover)}) not valid`.execute(db);
      await sql`alter table request_logs validate constraint ${sql.id(CUTOVER_CHECK)}`.execute(db);
    }
    const prebuilt = await sql`select 1 from pg_indexes where schemaname = current_schema() and indexname = ${KEY_INDEX}`.execute(db);
    if (!prebuilt.rows.length) await sql`create unique index ${sql.id(KEY_INDEX)} on request_logs (id, created_at)`.execute(db);
  }

  // The old table and its index names step aside for the new ones.
  await sql`alter table request_logs rename to request_logs_legacy`.execute(db);
  await sql`alter table request_logs_legacy drop constraint request_logs_pkey`.execute(db);
  for (const [name] of INDEXES) await sql`alter index ${sql.id(name)} rename to ${sql.id(name.replace('request_logs_', 'request_logs_legacy_'))}`.execute(db);

  await sql`create table request_logs (
    id bigint not null default nextval('request_logs_id_seq'),
    request_id text not null,
    created_at text not null,
    org_id integer not null,
    team_id integer,
    user_id integer,
    key_id integer not null,
    endpoint text not null,
    model text not null,
    provider text,
    status_code integer not null,
    error_code text,
    streamed integer not null default 0,
    tokens_in bigint not null default 0,
    tokens_out bigint not null default 0,
    cost_micro bigint,
    unpriced integer not null default 0,
    usage_estimated integer not null default 0,
    latency_ms integer not null default 0,
    client_ip text,
    cached_tokens bigint not null default 0,
    reasoning_tokens bigint not null default 0,
    upstream_ms integer,
    ttfb_ms integer,
    attempts integer not null default 1,
    attempt_log text,
    constraint request_logs_pkey primary key (id, created_at)
  ) partition by range (created_at)`.execute(db);
  // Dropping the legacy partition later must not drop the sequence with it.
  await sql`alter sequence request_logs_id_seq owned by request_logs.id`.execute(db);
  for (const [name, columns] of INDEXES) await sql`create index ${sql.id(name)} on request_logs (${sql.raw(columns)})`.execute(db);

  if (empty) {
    await sql`drop table request_logs_legacy`.execute(db);
  } else {
    // The parent's primary key attaches to a unique constraint on the same columns.
    await sql`alter table request_logs_legacy add constraint request_logs_legacy_pkey primary key using index ${sql.id(KEY_INDEX)}`.execute(db);
    // Before DEFAULT exists: attaching then scans nothing (the CHECK proves the bound).
    await sql`alter table request_logs attach partition request_logs_legacy for values from (minvalue) to (${sql.lit(cutover!)})`.execute(db);
    await sql`alter table request_logs_legacy drop constraint ${sql.id(CUTOVER_CHECK)}`.execute(db);
  }
  await sql`create table request_logs_default partition of request_logs default`.execute(db);
}

/** The bound of a validated `created_at < '…'` check the operator added beforehand, if any. */
async function premadeCutover(db: Kysely<any>): Promise<string | undefined> {
  const r = await sql<{ def: string; valid: boolean }>`select pg_get_constraintdef(c.oid) as def, c.convalidated as valid from pg_constraint c
    where c.conrelid = 'request_logs'::regclass and c.conname = ${CUTOVER_CHECK}`.execute(db);
  const row = r.rows[0];
  if (!row) return undefined;
  const bound = /created_at < '([^']+)'/.exec(row.def)?.[1];
  if (!row.valid || !bound || Number.isNaN(Date.parse(bound))) {
    throw new Error(`request_logs has a constraint ${CUTOVER_CHECK} that is not a validated "created_at < '<ISO instant>'" check (${row.def}): validate it or drop it, then migrate again`);
  }
  return bound;
}
