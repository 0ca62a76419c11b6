// Frozen once landed. usage_rollups: the request log counted per level (key, team, organization ×
// hour, day, month; src/usage/usage-rollups.ts and docs/observability.md "Usage and chargeback"),
// so that GET /api/usage never scans request_logs. One table, so that a log flush writes all levels
// in one statement. Every dimension is in the table's key, a unique index (0 / '' where a level
// drops it or a row has none): each level is an exact GROUP BY of the log.
//
// Backfill: key_day and key_hour (the last 7 days) from request_logs one day at a time (the
// created_at index), then the coarser levels from those (far fewer rows than the log). The groups
// of different days are disjoint, so these are plain inserts, and the unique index (the table's
// key) and the others are built afterwards, in bulk. On 1M log rows (PostgreSQL, 2 busy cores):
// 197 s with the indexes in place and upserts in id ranges, 51 s this way.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

const HOURLY_DAYS = 7;

const COUNTS = ['requests', 'errors', 'tokens_in', 'tokens_out', 'cached_tokens', 'reasoning_tokens', 'cost_micro', 'unpriced_requests'];
const COLUMNS = ['level', 'bucket', 'org_id', 'team_id', 'user_id', 'key_id', 'model', 'provider', ...COUNTS].join(', ');

export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  let t = db.schema
    .createTable('usage_rollups')
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('team_id', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('user_id', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('key_id', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('model', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('provider', 'text', (c) => c.notNull().defaultTo(''));
  for (const c of COUNTS) t = t.addColumn(c, 'bigint', (col) => col.notNull().defaultTo(0));
  await t.execute();

  const sums = `count(*), sum(case when status_code >= 400 then 1 else 0 end), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(reasoning_tokens), sum(coalesce(cost_micro, 0)), sum(unpriced)`;
  const bounds = await sql<{ lo: string | null; hi: string | null }>`select min(created_at) as lo, max(created_at) as hi from request_logs`.execute(db);
  const { lo, hi } = bounds.rows[0] ?? { lo: null, hi: null };
  const firstHour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - HOURLY_DAYS * 86_400_000).toISOString().slice(0, 13);
  if (lo && hi) {
    for (let d = Date.parse(lo.slice(0, 10) + 'T00:00:00Z'); d <= Date.parse(hi); d += 86_400_000) {
      const day = new Date(d).toISOString().slice(0, 10);
      const next = new Date(d + 86_400_000).toISOString().slice(0, 10);
      const levels: Array<[string, number, string]> = [['key_day', 10, '']];
      if (next > firstHour.slice(0, 10)) levels.push(['key_hour', 13, `and created_at >= '${firstHour}'`]);
      for (const [level, width, extra] of levels) {
        await sql.raw(`insert into usage_rollups (${COLUMNS})
          select '${level}', substr(created_at, 1, ${width}), org_id, coalesce(team_id, 0), coalesce(user_id, 0), key_id, model, coalesce(provider, ''), ${sums}
          from request_logs where created_at >= '${day}' and created_at < '${next}' ${extra}
          group by substr(created_at, 1, ${width}), org_id, coalesce(team_id, 0), coalesce(user_id, 0), key_id, model, coalesce(provider, '')`).execute(db);
      }
    }
  }
  const counts = COUNTS.map((c) => `sum(${c})`).join(', ');
  // A constant is left out of GROUP BY: both dialects read an integer there as a column position.
  const derive = (level: string, from: string, bucket: string, team: string) =>
    sql.raw(`insert into usage_rollups (${COLUMNS})
      select '${level}', ${bucket}, org_id, ${team}, 0, 0, model, provider, ${counts}
      from usage_rollups where level = '${from}'
      group by ${bucket}, org_id, ${team === '0' ? '' : `${team}, `}model, provider`).execute(db);
  await derive('team_day', 'key_day', 'bucket', 'team_id');
  await derive('team_month', 'key_day', 'substr(bucket, 1, 7)', 'team_id');
  await derive('org_day', 'key_day', 'bucket', '0');
  await derive('team_hour', 'key_hour', 'bucket', 'team_id');
  await derive('org_hour', 'key_hour', 'bucket', '0');

  // The table's key (the upserts' conflict target), and a scope or filter on one team, key or user:
  // an index range per level and time range.
  await db.schema.createIndex('usage_rollups_pk').on('usage_rollups').unique().columns(['level', 'bucket', 'org_id', 'team_id', 'user_id', 'key_id', 'model', 'provider']).execute();
  for (const dim of ['team_id', 'key_id', 'user_id']) {
    await db.schema.createIndex(`usage_rollups_${dim.replace('_id', '')}_idx`).on('usage_rollups').columns(['level', dim, 'bucket']).execute();
  }
}
