// Frozen once landed. Issue 13, model routes with fallbacks:
// - `routes`: a public model name of an organization, explicit and visible in /api/routes, with its
//   per-route timeout and retries. It outlives its deployments: deleting a credential removes the
//   deployments it served and leaves the route, which then answers model_not_found (or its
//   remaining fallback) until an admin routes it again, instead of falling to the catch-all.
// - `model_routes` rows are now a route's deployments: + weight (share among deployments of one
//   priority) and cached-input price.
// - `provider_credentials` + team_id (a team-scoped credential serves only that team's keys) and
//   options (JSON: provider settings such as Azure's api_version).
// - `request_logs` + attempts (1 unless a fallback or retry happened) and attempt_log (JSON list
//   of the attempts that failed before the one that answered).
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  await db.schema
    .createTable('routes')
    .addColumn('id', id)
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('timeout_ms', 'integer')
    .addColumn('retries', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('routes_org_model_uq').on('routes').columns(['org_id', 'model']).unique().execute();
  await db.schema.alterTable('model_routes').addColumn('weight', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('model_routes').addColumn('cached_input_price_micro', 'bigint').execute();
  await db.schema.alterTable('provider_credentials').addColumn('team_id', 'integer').execute();
  await db.schema.alterTable('provider_credentials').addColumn('options', 'text').execute();
  await db.schema.alterTable('request_logs').addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('request_logs').addColumn('attempt_log', 'text').execute();
  // Every model already routed becomes an explicit route.
  await sql`insert into routes (org_id, model, created_at, updated_at)
    select org_id, model, min(created_at), min(created_at) from model_routes group by org_id, model`.execute(db);
}
