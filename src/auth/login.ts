// Password sign-in: who the email and password designate, or why nobody. The route
// (login.routes.ts) turns the outcome into a cookie or an error.
//
// An unknown email, a wrong password, a deactivated account and an account without a password all
// answer the same 401 `invalid_login` after the same work (one argon2 verification), so neither
// the answer nor its timing tells whether the email has an account. Only a locked account says so
// (429 `account_locked` with retry_after): the lock protects it, and saying it is locked is what lets
// its owner wait rather than keep trying.
//
// An email is unique within an organization but may exist in several; the password is checked
// against each (at most MAX_ACCOUNTS), and `org` (the organization's slug) is needed only when it
// is right for more than one.
import { sql } from 'kysely';
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { applyChange } from '../audit/change.ts';
import { burnVerify, verifyPassword } from './passwords.ts';
import { claimAttempt, recordFailure, recordSuccess, releaseAttempt } from './login-throttle.ts';
import { createSession, orgRole, type NewSession } from './sessions.ts';

const MAX_ACCOUNTS = 10;

export interface LoginInput {
  email: string;
  password: string;
  /** the organization's slug: only needed when the email signs in to several */
  org?: string | undefined;
}

export interface LoginMeta {
  ip: string;
  userAgent: string | null;
}

export interface Account {
  id: number;
  org_id: number;
  org_slug: string;
  external_id: string;
  email: string | null;
  name: string | null;
  role: string;
  status: string;
  password_hash: string | null;
}

export type LoginOutcome =
  | { ok: true; account: Account; session: NewSession }
  | { ok: false; code: 'invalid_login' }
  | { ok: false; code: 'account_locked'; retryAfterSeconds: number }
  | { ok: false; code: 'org_required'; organizations: string[] };

/** Why a sign-in failed, as the audit trail records it (never the password). */
type FailReason = 'unknown_email' | 'wrong_password' | 'locked' | 'deactivated' | 'no_password';
type Check = { account: Account } & ({ verdict: 'match' | 'wrong_password' | 'deactivated' | 'no_password' } | { verdict: 'locked'; retryAfterSeconds: number });

export async function signIn(deps: Deps, input: LoginInput, meta: LoginMeta): Promise<LoginOutcome> {
  const accounts = await accountsOf(deps, input);
  if (accounts.length === 0) {
    await burnVerify(input.password);
    await auditFailure(deps, anonymous(deps, meta), { orgId: deps.defaultOrgId, targetId: null, reason: 'unknown_email', extra: { email: input.email.toLowerCase() } });
    return { ok: false, code: 'invalid_login' };
  }

  const checks = await checkPassword(deps, accounts, input.password);
  const matches = checks.filter((c) => c.verdict === 'match');
  const wrong = checks.filter((c) => c.verdict === 'wrong_password');

  if (matches.length > 1) {
    // The caller knows the password of each of these accounts: naming their organizations tells
    // them nothing they could not learn by signing in to each. No attempt counts against them.
    for (const c of [...matches, ...wrong]) await releaseAttempt(deps.db.kysely, c.account.id);
    return { ok: false, code: 'org_required', organizations: matches.map((c) => c.account.org_slug) };
  }
  if (matches.length === 1) {
    // The same email's other accounts did not fail: the password was simply not theirs.
    for (const c of wrong) await releaseAttempt(deps.db.kysely, c.account.id);
    const account = matches[0]!.account;
    const session = await applyChange(deps, personActor(account, meta), async (trx, at) => {
      const now = Date.parse(at);
      await recordSuccess(trx, account.id, now);
      const session = await createSession(trx, deps, { id: account.id, org_id: account.org_id }, { method: 'password', ...meta }, now);
      return {
        result: session,
        audit: [{ orgId: account.org_id, action: 'auth.login', targetType: 'user', targetId: account.id, after: { method: 'password', session_id: session.id, expires_at: session.expiresAt } }],
      };
    });
    return { ok: true, account, session };
  }

  for (const c of checks) {
    if (c.verdict === 'match') continue;
    const reason: FailReason = c.verdict;
    await applyChange(deps, personActor(c.account, meta), async (trx, at) => {
      const lockedUntil = c.verdict === 'wrong_password' ? await recordFailure(trx, c.account.id, deps.config.people, Date.parse(at)) : null;
      return { result: null, audit: [failureEvent(c.account.org_id, c.account.id, reason, lockedUntil === null ? {} : { locked_until: lockedUntil })] };
    });
  }
  const locked = checks.flatMap((c) => (c.verdict === 'locked' ? [c.retryAfterSeconds] : []));
  if (wrong.length === 0 && locked.length > 0) return { ok: false, code: 'account_locked', retryAfterSeconds: Math.min(...locked) };
  return { ok: false, code: 'invalid_login' };
}

/** Active or not, with a password or not: every account this email (and org, if given) names. */
async function accountsOf(deps: Deps, input: LoginInput): Promise<Account[]> {
  let q = deps.db.kysely
    .selectFrom('users as u')
    .innerJoin('organizations as o', 'o.id', 'u.org_id')
    .select(['u.id', 'u.org_id', 'o.slug as org_slug', 'u.external_id', 'u.email', 'u.name', 'u.role', 'u.status', 'u.password_hash'])
    .where(sql<string>`lower(u.email)`, '=', input.email.toLowerCase());
  if (input.org !== undefined) q = q.where('o.slug', '=', input.org);
  return q.orderBy('u.id').limit(MAX_ACCOUNTS).execute();
}

/**
 * Each account's verdict. An account's attempt is counted before its password is verified; when
 * no account could be verified (deactivated, no password, locked), a decoy verification keeps the
 * cost that of a wrong password.
 */
async function checkPassword(deps: Deps, accounts: Account[], password: string): Promise<Check[]> {
  const out: Check[] = [];
  let verified = false;
  for (const account of accounts) {
    if (account.status !== 'active') out.push({ account, verdict: 'deactivated' });
    else if (account.password_hash === null) out.push({ account, verdict: 'no_password' });
    else {
      const claim = await claimAttempt(deps.db.kysely, account.id, deps.config.people, deps.clock.now());
      if (!claim.ok) out.push({ account, verdict: 'locked', retryAfterSeconds: claim.retryAfterSeconds });
      else {
        verified = true;
        out.push({ account, verdict: (await verifyPassword(account.password_hash, password)) ? 'match' : 'wrong_password' });
      }
    }
  }
  if (!verified) await burnVerify(password);
  return out;
}

function failureEvent(orgId: number, targetId: number | null, reason: FailReason, extra: Record<string, unknown>) {
  return { orgId, action: 'auth.login_failed', targetType: 'user', targetId, after: { reason, ...extra } };
}

async function auditFailure(deps: Deps, actor: Actor, f: { orgId: number; targetId: number | null; reason: FailReason; extra: Record<string, unknown> }): Promise<void> {
  await applyChange(deps, actor, async () => ({ result: null, audit: [failureEvent(f.orgId, f.targetId, f.reason, f.extra)] }));
}

/** The audit actor of an attempt on a known account: that account (as on every sign-in event). */
function personActor(a: Account, meta: LoginMeta): Actor {
  return { type: 'user', id: String(a.id), orgId: a.org_id, role: orgRole(a.role), userId: a.id, superadmin: false, ip: meta.ip, userAgent: meta.userAgent };
}

/** Nobody: an email with no account. */
function anonymous(deps: Deps, meta: LoginMeta): Actor {
  return { type: 'system', id: 'anonymous', orgId: deps.defaultOrgId, role: 'viewer', userId: null, superadmin: false, ip: meta.ip, userAgent: meta.userAgent };
}
