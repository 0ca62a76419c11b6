// Frozen: never edit after it has landed; add a new migration instead.
// Portable SQL only: timestamps are ISO-8601 UTC text, booleans 0/1 integers, JSON as text,
// money as integer micro-USD (bigint). Identity columns are the one dialect difference.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const id = (big = false) => (dialect === 'postgres' ? sql`${sql.raw(big ? 'bigserial' : 'serial')} primary key` : sql`integer primary key autoincrement`);
  const create = (table: string) => db.schema.createTable(table);

  await create('settings').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();

  await create('organizations')
    .addColumn('id', id())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // Org-scoped management keys; the master admin key (TOLLGATE_ADMIN_KEY) lives hashed in settings.
  await create('admin_keys')
    .addColumn('id', id())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('admin'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();

  await create('users')
    .addColumn('id', id())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('email', 'text')
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('member'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('users_org_external_unique', ['org_id', 'external_id'])
    .execute();

  await create('teams')
    .addColumn('id', id())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_by', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .addUniqueConstraint('teams_org_slug_unique', ['org_id', 'slug'])
    .execute();

  await create('memberships')
    .addColumn('team_id', 'integer', (c) => c.notNull().references('teams.id'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('member'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('memberships_pk', ['team_id', 'user_id'])
    .execute();

  await create('service_accounts')
    .addColumn('id', id())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('team_id', 'integer', (c) => c.notNull().references('teams.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();

  await create('api_keys')
    .addColumn('id', id())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('team_id', 'integer', (c) => c.references('teams.id'))
    .addColumn('user_id', 'integer', (c) => c.references('users.id'))
    .addColumn('service_account_id', 'integer', (c) => c.references('service_accounts.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'text', (c) => c.notNull().defaultTo('*'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('expires_at', 'text')
    .addColumn('ip_allowlist', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('model_access', 'text', (c) => c.notNull().defaultTo('{"mode":"inherit"}'))
    .addColumn('created_by', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rotated_from_id', 'integer')
    // The first key of a rotation chain: key-level budgets and counters follow the lineage, so a
    // rotation never resets a key's spend. Null for a key that was never rotated into.
    .addColumn('lineage_id', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('last_used_at', 'text')
    .execute();
  await db.schema.createIndex('api_keys_team_idx').on('api_keys').columns(['team_id', 'id']).execute();
  await db.schema.createIndex('api_keys_org_idx').on('api_keys').columns(['org_id', 'id']).execute();
  await db.schema.createIndex('api_keys_user_idx').on('api_keys').columns(['user_id', 'id']).execute();
  // Budget counters are rebuilt per scope: key lineage and service account need these.
  await db.schema.createIndex('api_keys_lineage_idx').on('api_keys').column('lineage_id').execute();
  await db.schema.createIndex('api_keys_service_account_idx').on('api_keys').column('service_account_id').execute();

  // Limits and budgets for any level (org, team, member = "teamId:userId", service account, key).
  await create('policies')
    .addColumn('scope_type', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('rpm', 'integer')
    .addColumn('rph', 'integer')
    .addColumn('rpd', 'integer')
    .addColumn('tpm', 'bigint')
    .addColumn('tpd', 'bigint')
    .addColumn('max_parallel', 'integer')
    .addColumn('budget_micro', 'bigint')
    .addColumn('budget_period', 'text')
    .addColumn('budget_mode', 'text')
    .addColumn('alert_thresholds', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('policies_pk', ['scope_type', 'scope_id'])
    .execute();

  await create('provider_credentials')
    .addColumn('id', id())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text', (c) => c.notNull())
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('secret_hint', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // model → credential. model '*' is a catch-all route for a credential.
  await create('model_routes')
    .addColumn('id', id())
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'integer', (c) => c.notNull().references('provider_credentials.id'))
    .addColumn('upstream_model', 'text')
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('input_price_micro', 'bigint')
    .addColumn('output_price_micro', 'bigint')
    .addColumn('max_output_tokens', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('model_routes_org_model_idx').on('model_routes').columns(['org_id', 'model']).execute();

  await create('request_logs')
    .addColumn('id', id(true))
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('team_id', 'integer')
    .addColumn('user_id', 'integer')
    .addColumn('key_id', 'integer', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('provider', 'text')
    .addColumn('status_code', 'integer', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('streamed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_in', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_out', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_micro', 'bigint')
    .addColumn('unpriced', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('usage_estimated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('latency_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('client_ip', 'text')
    .execute();
  await db.schema.createIndex('request_logs_team_idx').on('request_logs').columns(['team_id', 'id']).execute();
  await db.schema.createIndex('request_logs_key_idx').on('request_logs').columns(['key_id', 'id']).execute();
  await db.schema.createIndex('request_logs_created_idx').on('request_logs').column('created_at').execute();

  // Spend reads come from here, never from request_logs (which may be pruned by age).
  await create('spend_rollups')
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('key_id', 'integer', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('team_id', 'integer')
    .addColumn('user_id', 'integer')
    .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_in', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_out', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_micro', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('unpriced_requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('spend_rollups_pk', ['day', 'key_id', 'model'])
    .execute();
  await db.schema.createIndex('spend_rollups_team_idx').on('spend_rollups').columns(['team_id', 'day']).execute();
  await db.schema.createIndex('spend_rollups_org_idx').on('spend_rollups').columns(['org_id', 'day']).execute();
  await db.schema.createIndex('spend_rollups_user_idx').on('spend_rollups').columns(['user_id', 'day']).execute();
  await db.schema.createIndex('spend_rollups_key_idx').on('spend_rollups').columns(['key_id', 'day']).execute();

  await create('audit_events')
    .addColumn('id', id(true))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('team_id', 'integer')
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('before', 'text')
    .addColumn('after', 'text')
    .addColumn('amount_micro', 'bigint')
    .addColumn('source_ip', 'text')
    .execute();
  await db.schema.createIndex('audit_events_org_idx').on('audit_events').columns(['org_id', 'id']).execute();
  await db.schema.createIndex('audit_events_team_idx').on('audit_events').columns(['team_id', 'id']).execute();

  // One row per (scope, period, threshold) that fired, so alerts fire once per period.
  await create('budget_alerts')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('threshold', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('budget_alerts_pk', ['scope', 'period', 'threshold'])
    .execute();
}
