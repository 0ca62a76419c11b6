// Organization-wide spend per day. An organization's budget counter is rebuilt from the rollups
// after a start or a Redis loss; summed from spend_rollups (day × key × model) that read every row
// of the organization (1.75 s at 10M rows, waited on by the first request). This table holds one
// row per organization and day, written in the same transaction as spend_rollups.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('org_day_rollups')
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_in', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_out', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_micro', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('unpriced_requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('org_day_rollups_pk', ['org_id', 'day'])
    .execute();
  await sql`insert into org_day_rollups (org_id, day, requests, tokens_in, tokens_out, cost_micro, unpriced_requests)
    select org_id, day, sum(requests), sum(tokens_in), sum(tokens_out), sum(cost_micro), sum(unpriced_requests)
    from spend_rollups group by org_id, day`.execute(db);
}
