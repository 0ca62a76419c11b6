// Frozen once landed. Rotation without downtime (docs/api.md, "Rotation"):
// - key_secrets: the secrets a key had before its current one (api_keys.key_hash stays the current
//   secret, so a rotation keeps the key's id, limits, budget counters and spend). An old secret
//   keeps working until valid_until (the end of its grace period) unless ended_at is set (an
//   admin ended it early, or the key was revoked). Each has its own last_used_at.
// - key_rotation_requests: rotations made with an Idempotency-Key header, kept a day, so a
//   retried rotate answers with the same new secret's metadata instead of rotating again.
// - key_rotation_schedules: keys the server rotates by itself every rotate_every_days; several
//   replicas claim a due key by compare-and-set on next_rotation_at.
// - key_expiry_reminders: the expiry a `key.expiring` reminder was sent for; a new expires_at
//   differs from it, which re-arms the reminder without any change to the key's own routes.
// Keys rotated under the earlier scheme (a new api_keys row with lineage_id) keep working as
// they are; nothing is migrated.
import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  await db.schema
    .createTable('key_secrets')
    .addColumn('id', id)
    .addColumn('key_id', 'integer', (c) => c.notNull().references('api_keys.id'))
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    // when the secret was issued, and when a rotation replaced it (the row's creation)
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('valid_until', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .addColumn('last_used_at', 'text')
    .execute();
  await db.schema.createIndex('key_secrets_key_idx').on('key_secrets').columns(['key_id', 'id']).execute();

  await db.schema
    .createTable('key_rotation_requests')
    .addColumn('key_id', 'integer', (c) => c.notNull().references('api_keys.id'))
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('grace_period_seconds', 'integer', (c) => c.notNull())
    // the secret the rotation replaced (key_secrets.id) and the prefix of the one it issued
    .addColumn('secret_id', 'integer', (c) => c.notNull().references('key_secrets.id'))
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('rotated_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('key_rotation_requests_pk', ['key_id', 'idempotency_key'])
    .execute();
  await db.schema.createIndex('key_rotation_requests_expires_idx').on('key_rotation_requests').column('expires_at').execute();

  await db.schema
    .createTable('key_rotation_schedules')
    .addColumn('key_id', 'integer', (c) => c.primaryKey().references('api_keys.id'))
    .addColumn('rotate_every_days', 'integer', (c) => c.notNull())
    .addColumn('grace_period_seconds', 'integer', (c) => c.notNull())
    .addColumn('next_rotation_at', 'text', (c) => c.notNull())
    .addColumn('last_rotated_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('key_rotation_schedules_next_idx').on('key_rotation_schedules').column('next_rotation_at').execute();

  await db.schema
    .createTable('key_expiry_reminders')
    .addColumn('key_id', 'integer', (c) => c.primaryKey().references('api_keys.id'))
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .execute();
  // The reminder scan reads the keys expiring in the next few days, on every replica each minute.
  await db.schema.createIndex('api_keys_expires_idx').on('api_keys').column('expires_at').execute();
}
