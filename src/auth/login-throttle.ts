// Login throttling, two ways (docs/people.md#signing-in):
// - per account, in the database (users.failed_logins / locked_until), so it holds across
//   replicas: after TOLLGATE_LOGIN_MAX_FAILURES failed passwords the account is locked for
//   TOLLGATE_LOGIN_LOCK_MINUTES; a correct password resets the count.
// - per client address, in memory (each replica counts its own), like the /v1 throttle:
//   TOLLGATE_LOGIN_FAILURES_PER_IP_PER_MINUTE failed sign-ins, then 429 for the rest of the minute.
//
// An attempt is counted BEFORE its password is checked (claimAttempt), in one conditional UPDATE:
// guesses sent in parallel each take one of the account's remaining attempts, so a burst of
// concurrent requests, on one replica or many, cannot try more passwords than the limit.
import type { FastifyReply } from 'fastify';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { PeopleConfig } from './people-config.ts';
import { AuthThrottle } from '../proxy/auth-throttle.ts';
import { ApiError } from '../http/errors.ts';
import { iso } from '../clock.ts';

type Db = Kysely<Database> | Transaction<Database>;
type Limits = Pick<PeopleConfig, 'loginMaxFailures' | 'loginLockMinutes'>;

/** Failed sign-ins per client address (the same sliding minute as the /v1 throttle). */
export function loginIpThrottle(people: PeopleConfig): AuthThrottle {
  return new AuthThrottle(people.loginFailuresPerIpPerMinute);
}

export type Claim = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Takes one of the account's attempts, or says it is locked (and for how long). The count holds
 * attempts in flight as well as failed ones; when it is full and no lock is set — attempts
 * running in parallel, or a replica that died between counting and checking — the account is
 * locked now, so a count can never stay full without a lock that ends.
 */
export async function claimAttempt(db: Db, userId: number, limits: Limits, now: number): Promise<Claim> {
  const nowIso = iso(now);
  const claimed = await db
    .updateTable('users')
    .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1) }))
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', nowIso)]))
    .where('failed_logins', '<', limits.loginMaxFailures)
    .returning('failed_logins')
    .executeTakeFirst();
  if (claimed) return { ok: true };
  await db
    .updateTable('users')
    .set({ locked_until: lockEnd(limits, now), failed_logins: 0 })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', nowIso)]))
    .execute();
  const row = await db.selectFrom('users').select('locked_until').where('id', '=', userId).executeTakeFirstOrThrow();
  return { ok: false, retryAfterSeconds: retryAfter(row.locked_until, now) };
}

/**
 * A claimed attempt whose password was wrong: it stays counted, and the attempt that fills the
 * count locks the account (the count starts again from zero when the lock ends). Returns the lock's
 * end when this failure locked the account.
 */
export async function recordFailure(db: Db, userId: number, limits: Limits, now: number): Promise<string | null> {
  const until = lockEnd(limits, now);
  const max = limits.loginMaxFailures;
  // Both CASEs read the row as it was before the UPDATE (SQL semantics, PostgreSQL and SQLite alike).
  const row = await db
    .updateTable('users')
    .set({
      locked_until: sql<string | null>`case when failed_logins >= ${max} then ${until} else locked_until end`,
      failed_logins: sql<number>`case when failed_logins >= ${max} then 0 else failed_logins end`,
    })
    .where('id', '=', userId)
    .returning(['locked_until', 'failed_logins'])
    .executeTakeFirst();
  return row?.locked_until === until ? until : null;
}

/** A claimed attempt that must not count (the password was right for another account of this email). */
export async function releaseAttempt(db: Db, userId: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ failed_logins: sql<number>`case when failed_logins > 0 then failed_logins - 1 else 0 end` })
    .where('id', '=', userId)
    .execute();
}

/** The right password at sign-in: the count and any lock are cleared, the sign-in recorded. */
export async function recordSuccess(db: Db, userId: number, now: number): Promise<void> {
  await db.updateTable('users').set({ failed_logins: 0, locked_until: null, last_login_at: iso(now) }).where('id', '=', userId).execute();
}

/** The right password elsewhere (a password change): the count and any lock are cleared. */
export async function clearFailures(db: Db, userId: number): Promise<void> {
  await db.updateTable('users').set({ failed_logins: 0, locked_until: null }).where('id', '=', userId).execute();
}

function lockEnd(limits: Limits, now: number): string {
  return iso(now + limits.loginLockMinutes * 60_000);
}

function retryAfter(lockedUntil: string | null, now: number): number {
  return Math.max(1, Math.ceil(((lockedUntil ? Date.parse(lockedUntil) : now) - now) / 1000));
}

/** A throttled sign-in: 429 with the wait in Retry-After and in the error's retry_after (whole seconds, at least 1). */
export function tooMany(reply: FastifyReply, code: 'too_many_auth_failures' | 'account_locked', message: string, waitMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  reply.header('retry-after', String(seconds));
  return new ApiError(code, message, null, { retry_after: seconds });
}
