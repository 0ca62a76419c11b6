// The first org admin who can sign in: from TOLLGATE_ADMIN_EMAIL + TOLLGATE_ADMIN_PASSWORD at every
// start (bootstrap.ts), or from `tollgate users create-admin` (cli.ts). docs/people.md#signing-in.
//
// At start it is idempotent and never overrides what people did since:
// - no user of the default organization has that email (nor that external id): it is created,
//   role admin, its external id the email;
// - one has (by email, or by external id: then it also gets the email if it had none), without a
//   password (created through the API, or by SSO): the password is set and the user made an
//   admin — the operator named this person the admin. A deactivated user stays deactivated;
// - one has, with a password: nothing changes (the admin may have changed their password since;
//   the environment variable is not a way to reset it — the command line with --reset is).
// Replicas starting together run this one at a time, inside bootstrap's locked transaction.
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Actor } from '../http/actor.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import { hashPassword } from './passwords.ts';
import { revokeUserSessions } from './sessions.ts';

export interface AdminCredentials {
  email: string;
  /** argon2id hash: computed before the transaction (it takes tens of milliseconds) */
  passwordHash: string;
}

export type FirstAdminOutcome = { userId: number; outcome: 'created' | 'password_set' | 'password_reset' | 'unchanged' };

/** Hashes the configured password, when there is one. The password itself goes no further. */
export async function adminCredentials(email: string | undefined, password: string | undefined): Promise<AdminCredentials | undefined> {
  if (email === undefined || password === undefined) return undefined;
  return { email: email.trim(), passwordHash: await hashPassword(password) };
}

/**
 * Creates or completes the admin `creds` names in `orgId` (see the file comment). `reset` (the
 * command line's --reset) also replaces an existing password and ends that user's sessions.
 */
export async function ensureAdmin(trx: Transaction<Database>, orgId: number, creds: AdminCredentials, actor: Actor, at: string, reset = false): Promise<FirstAdminOutcome> {
  const email = creds.email.toLowerCase();
  const existing =
    (await trx.selectFrom('users').select(['id', 'email', 'role', 'password_hash']).where('org_id', '=', orgId).where(sql<string>`lower(email)`, '=', email).orderBy('id').executeTakeFirst()) ??
    (await trx.selectFrom('users').select(['id', 'email', 'role', 'password_hash']).where('org_id', '=', orgId).where('external_id', '=', creds.email).executeTakeFirst());
  if (!existing) {
    const row = await trx
      .insertInto('users')
      .values({ org_id: orgId, external_id: creds.email, email: creds.email, name: 'Administrator', role: 'admin', password_hash: creds.passwordHash, created_at: at, updated_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { orgId, action: 'user.create', targetType: 'user', targetId: row.id, after: { external_id: creds.email, email: creds.email, role: 'admin', password_set: true, source: actor.id } }, at);
    return { userId: row.id, outcome: 'created' };
  }
  if (existing.password_hash !== null && !reset) return { userId: existing.id, outcome: 'unchanged' };
  const outcome = existing.password_hash === null ? 'password_set' : 'password_reset';
  await trx
    .updateTable('users')
    // found by external id without an email: it gets this one, so that it can sign in with it
    .set({ email: existing.email ?? creds.email, password_hash: creds.passwordHash, role: 'admin', failed_logins: 0, locked_until: null, updated_at: at })
    .where('id', '=', existing.id)
    .execute();
  if (outcome === 'password_reset') await revokeUserSessions(trx, existing.id, at);
  await recordAudit(trx, actor, {
    orgId, action: 'user.update', targetType: 'user', targetId: existing.id,
    before: { role: existing.role }, after: { role: 'admin', [outcome]: true, source: actor.id },
  }, at);
  return { userId: existing.id, outcome };
}

/** The actor recorded on what start-up or the command line does. */
export function systemActor(id: 'bootstrap' | 'cli', orgId: number): Actor {
  return { type: 'system', id, orgId, role: 'admin', userId: null, superadmin: false, ip: null, userAgent: null };
}
