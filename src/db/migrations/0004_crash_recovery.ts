// Frozen: never edit after it has landed; add a new migration instead.
// What a restart needs to lose nothing (docs/production.md, "Crashes"):
// - journal_marks: per local log journal (src/usage/journal.ts), the sequence number of the last
//   row committed. It is written in the same transaction as the rows, so replaying the journal
//   after a crash skips exactly what was committed and inserts exactly what was not.
// - usage_minutes: forwarded requests and tokens per scope (key id, team, organization) and UTC
//   minute, written with the log rows. Rate windows kept in process memory are rebuilt from
//   it on their first use after a start (at most 1,440 rows per scope for a day window), so they
//   survive a restart as budgets do. Rows older than a day and an hour are pruned as they go.
// Backfill: the last day of request_logs, so the first start on this migration keeps its windows.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('journal_marks')
    .addColumn('journal_id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .execute();

  // SQLite: WITHOUT ROWID keeps the rows in the primary key's own B-tree, so each upsert (one per
  // scope and minute of every log batch) touches one tree instead of a table and an index.
  await db.schema
    .createTable('usage_minutes')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('minute', 'integer', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('usage_minutes_pk', ['scope', 'minute'])
    .$call((t) => (dialect === 'sqlite' ? t.modifyEnd(sql`without rowid`) : t))
    .execute();
  await db.schema.createIndex('usage_minutes_minute_idx').on('usage_minutes').column('minute').execute();

  const since = new Date(Date.now() - 25 * 3_600_000).toISOString();
  const minute = dialect === 'postgres'
    ? sql.raw(`floor(extract(epoch from created_at::timestamptz) / 60)::integer`)
    : sql.raw(`cast(strftime('%s', created_at) as integer) / 60`);
  const scopes: Array<{ scope: string; where: string }> = [
    { scope: `'key:' || key_id`, where: 'true' },
    { scope: `'team:' || team_id`, where: 'team_id is not null' },
    { scope: `'org:' || org_id`, where: 'true' },
  ];
  for (const s of scopes) {
    await sql`insert into usage_minutes (scope, minute, requests, tokens)
      select ${sql.raw(s.scope)}, ${minute}, count(*), sum(tokens_in + tokens_out)
      from request_logs where created_at >= ${since} and provider is not null and ${sql.raw(s.where)}
      group by 1, 2`.execute(db);
  }
}
