// Frozen once landed. Idempotency-Key on the creating routes (src/http/idempotency.ts,
// docs/automation.md): one row per (organization, caller, key), kept 24 hours. `status` is null
// while the first request runs; then it holds the first answer's status and body (a secret in it,
// such as a new API key, is left out: a replay says so instead of showing it twice).
import type { Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('idempotency_records')
    .addColumn('org_id', 'integer', (c) => c.notNull())
    // actorRef(actor): 'user:5', 'admin_key:3', 'admin_key:master'
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    // SHA-256 of method, route and body: the same key sent with another request is a 409
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('body', 'text')
    // the response fields left out of `body` because they held a secret (JSON array of names)
    .addColumn('omitted', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_records_pk', ['org_id', 'actor', 'idempotency_key'])
    .execute();
  await db.schema.createIndex('idempotency_records_expires_idx').on('idempotency_records').column('expires_at').execute();
}
