// Completes an OpenID Connect sign-in once the provider's answer validated (oidc.ts): finds the
// user (or creates them: just-in-time, or from the invitation the sign-in started with), opens a
// session, and records it — all in one transaction. A refusal rolls that back and is recorded on
// its own as `auth.login_failed` with its reason.
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import type { AuditInput } from '../audit/audit.repository.ts';
import { applyChange } from '../audit/change.ts';
import { teamMembersChanged } from '../policy/member-share.ts';
import { insertUser, userView, type UserRow } from '../users/users.repository.ts';
import { acceptWithIdentity } from '../people/invitation-accept.ts';
import { findUserByIdentity, SignInRefused, type OidcIdentity } from './oidc-identity.ts';
import type { OidcLoginRow } from './oidc-logins.repository.ts';
import { createSession, orgRole, type NewSession } from './sessions.ts';

export interface Caller {
  ip: string;
  userAgent: string | null;
}

export interface OidcSignedIn {
  user: UserRow;
  session: NewSession;
}

export async function completeOidcSignIn(deps: Deps, login: OidcLoginRow, identity: OidcIdentity, caller: Caller): Promise<OidcSignedIn> {
  const cfg = deps.config.people.oidc!;
  const invitation = login.invitation_id === null ? undefined : await deps.db.kysely.selectFrom('invitations').selectAll().where('id', '=', login.invitation_id).executeTakeFirst();
  const orgId = invitation?.org_id ?? deps.defaultOrgId;
  // The actor is the person signing in: known only once the user is found (or created) inside the
  // transaction, which fills it in before its audit events are written.
  const actor: Actor = { type: 'user', id: null, orgId, role: 'member', userId: null, superadmin: false, ip: caller.ip, userAgent: caller.userAgent };
  try {
    return await applyChange(deps, actor, async (trx, at) => {
      const audit: AuditInput[] = [];
      let user: UserRow | undefined;
      let created = false;
      if (login.invitation_id !== null) {
        if (!invitation) throw new SignInRefused('invitation_invalid', 'invitation_invalid', 'This invitation is no longer valid. Ask for a new one.');
        ({ user, created } = await acceptWithIdentity(trx, invitation, identity, at));
        audit.push({ orgId, teamId: invitation.team_id, action: 'invitation.accept', targetType: 'invitation', targetId: invitation.id, after: { user_id: user.id, method: 'oidc', team_id: invitation.team_id, team_role: invitation.team_role } });
      } else {
        user = await findUserByIdentity(trx, orgId, identity);
        if (user && user.status !== 'active') throw new SignInRefused('deactivated', 'forbidden', 'This account is deactivated; ask an admin to reactivate it.', user.id);
        if (!user) {
          if (!cfg.jit) throw new SignInRefused('no_account', 'sso_no_account', 'You signed in with the identity provider, but no Tollgate account matches that identity: ask an admin or a team owner for an invitation.');
          user = await insertUser(trx, orgId, { externalId: identity.externalId, email: identity.email, name: identity.name, role: cfg.defaultRole }, at);
          created = true;
        }
      }
      user = await trx.updateTable('users').set({ last_login_at: at }).where('id', '=', user.id).returningAll().executeTakeFirstOrThrow();
      const session = await createSession(trx, deps, user, { method: 'oidc', ip: caller.ip, userAgent: caller.userAgent }, Date.parse(at));
      Object.assign(actor, { id: String(user.id), userId: user.id, role: orgRole(user.role) });
      if (created) audit.unshift({ orgId, action: 'user.create', targetType: 'user', targetId: user.id, after: { ...userView(user), via: invitation ? 'invitation' : 'oidc_jit' } });
      audit.push({ orgId, action: 'auth.login', targetType: 'user', targetId: user.id, after: { method: 'oidc', subject: identity.subject, session_id: session.id } });
      // Joining a team changes its fair member share (policy/member-share.ts).
      return { result: { user, session }, audit, invalidate: invitation?.team_id != null ? [teamMembersChanged(invitation.team_id)] : [] };
    });
  } catch (err) {
    if (err instanceof SignInRefused) await recordOidcFailure(deps, orgId, caller, err, identity);
    throw err;
  }
}

/** `auth.login_failed` for a refused SSO sign-in: by the user when known, else anonymous. */
export async function recordOidcFailure(deps: Deps, orgId: number, caller: Caller, refusal: SignInRefused, identity?: OidcIdentity): Promise<void> {
  const actor: Actor = refusal.userId !== null
    ? { type: 'user', id: String(refusal.userId), orgId, role: 'member', userId: refusal.userId, superadmin: false, ip: caller.ip, userAgent: caller.userAgent }
    : { type: 'system', id: 'anonymous', orgId, role: 'member', userId: null, superadmin: false, ip: caller.ip, userAgent: caller.userAgent };
  const after = { method: 'oidc', reason: refusal.reason, ...(identity ? { external_id: identity.externalId, email: identity.email } : {}) };
  await applyChange(deps, actor, async () => ({ result: undefined, audit: [{ orgId, action: 'auth.login_failed', targetType: 'user', targetId: refusal.userId, after }] }));
}
