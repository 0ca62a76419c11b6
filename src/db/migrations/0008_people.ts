// Frozen once landed. People (docs/people.md):
// - users: sign-in by email + password (argon2id hash), per-account login throttling
//   (failed_logins, locked_until), offboarding (deactivated_at; status 'deactivated'). Roles are
//   'admin' | 'member' | 'viewer'. An email is unique per organization, compared lower-cased.
// - sessions: server-side sign-in sessions. Only hashes of the session token and of its CSRF token
//   are stored; a session ends at expires_at (absolute), after idle_minutes without use, or when
//   revoked (logout, deactivation, password change).
// - admin_keys become management keys: org- or team-scoped (team_id), with a role, an optional
//   expiry, who created them and when they were last used.
// - invitations: one-time, expiring tokens (hashed) that create or activate a user, optionally
//   into a team.
// - oidc_logins: the state of an OpenID Connect sign-in between the redirect and the callback
//   (PKCE verifier, nonce), kept in the database so that any replica can finish it.
// - team_self_service: each team's self-service policy (seed 002's constraint table).
// - memberships.key_create_self: 0 takes a member's self-service right away (1, the default,
//   gives it by team role).
// - audit_events: user_agent, and the tamper-evident chain (prev_hash, hash); audit_heads holds
//   each organization's chain head, locked by every append so the chain never forks.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;

  await db.schema.alterTable('users').addColumn('password_hash', 'text').execute();
  await db.schema.alterTable('users').addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('users').addColumn('locked_until', 'text').execute();
  await db.schema.alterTable('users').addColumn('last_login_at', 'text').execute();
  await db.schema.alterTable('users').addColumn('deactivated_at', 'text').execute();
  await sql`create index users_org_email_idx on users (org_id, lower(email)) where email is not null`.execute(db);
  await sql`create index users_email_idx on users (lower(email)) where email is not null`.execute(db);

  await db.schema
    .createTable('sessions')
    .addColumn('id', id)
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('csrf_hash', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    // 'password' | 'oidc' | 'invitation'
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').columns(['user_id']).execute();

  await db.schema.alterTable('admin_keys').addColumn('team_id', 'integer', (c) => c.references('teams.id')).execute();
  await db.schema.alterTable('admin_keys').addColumn('description', 'text').execute();
  await db.schema.alterTable('admin_keys').addColumn('expires_at', 'text').execute();
  await db.schema.alterTable('admin_keys').addColumn('last_used_at', 'text').execute();
  await db.schema.alterTable('admin_keys').addColumn('created_by_actor', 'text').execute();
  await db.schema.createIndex('admin_keys_org_idx').on('admin_keys').columns(['org_id', 'id']).execute();

  await db.schema
    .createTable('invitations')
    .addColumn('id', id)
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text')
    .addColumn('external_id', 'text')
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('member'))
    .addColumn('team_id', 'integer', (c) => c.references('teams.id'))
    .addColumn('team_role', 'text')
    .addColumn('created_by_actor', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('accepted_at', 'text')
    .addColumn('accepted_user_id', 'integer', (c) => c.references('users.id'))
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('invitations_org_idx').on('invitations').columns(['org_id', 'id']).execute();

  await db.schema
    .createTable('oidc_logins')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('invitation_id', 'integer', (c) => c.references('invitations.id'))
    .addColumn('return_to', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('team_self_service')
    .addColumn('team_id', 'integer', (c) => c.primaryKey().references('teams.id'))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_keys_per_user', 'integer')
    .addColumn('max_budget_micro', 'bigint')
    .addColumn('require_expiry', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_expiry_days', 'integer')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('memberships').addColumn('key_create_self', 'integer', (c) => c.notNull().defaultTo(1)).execute();

  await db.schema.alterTable('audit_events').addColumn('user_agent', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('prev_hash', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('hash', 'text').execute();
  await db.schema
    .createTable('audit_heads')
    .addColumn('org_id', 'integer', (c) => c.primaryKey().references('organizations.id'))
    .addColumn('last_id', 'bigint', (c) => c.notNull())
    .addColumn('last_hash', 'text', (c) => c.notNull())
    .execute();
}
