// Frozen once landed. Issue 13 / seed 003, provisioned upstream keys: a member's native sub-key at
// a provider (OpenRouter), created from their allocation with a hard credit limit and an expiry.
// Tollgate keeps the provider's id for it (never the secret, shown once at creation) and deletes
// it at the provider when it is revoked, expires, or its owner is deactivated.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  await db.schema
    .createTable('provisioned_keys')
    .addColumn('id', id)
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('team_id', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('credential_id', 'integer', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('upstream_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hint', 'text', (c) => c.notNull())
    .addColumn('limit_micro', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();
  await db.schema.createIndex('provisioned_keys_member_idx').on('provisioned_keys').columns(['team_id', 'user_id']).execute();
  await db.schema.createIndex('provisioned_keys_upstream_uq').on('provisioned_keys').columns(['provider', 'upstream_id']).unique().execute();
}
