// Frozen once landed. Request log reads (GET /api/logs, /api/teams/{id}/logs, /api/logs/{requestId})
// page newest first by (created_at, id) inside one scope — the organization, a team, a key or a
// user — usually within a time range. Each scope gets an index that walks in exactly that order,
// so a page is an index walk from the cursor however large the table is (docs/observability.md,
// "Request logs"); the request id gets one for the single-request view.
// The old (team_id, id) and (key_id, id) indexes ordered by id, which is not the listing's order
// any more; created_at alone served nothing the organization's index does not (the retention job
// prunes one organization at a time): the three are dropped, so a log insert maintains five
// secondary indexes instead of seven.
// On a large table this takes a while (each index is built in one pass; PostgreSQL blocks log
// writes to the table meanwhile: replicas queue their rows and write them after).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const index = (name: string, columns: string[]) => db.schema.createIndex(name).on('request_logs').columns(columns).execute();
  await index('request_logs_org_time_idx', ['org_id', 'created_at', 'id']);
  await index('request_logs_team_time_idx', ['team_id', 'created_at', 'id']);
  await index('request_logs_key_time_idx', ['key_id', 'created_at', 'id']);
  await index('request_logs_user_time_idx', ['user_id', 'created_at', 'id']);
  await index('request_logs_request_id_idx', ['request_id']);
  await db.schema.dropIndex('request_logs_team_idx').execute();
  await db.schema.dropIndex('request_logs_key_idx').execute();
  await db.schema.dropIndex('request_logs_created_idx').execute();
}
