// Accepting an invitation, inside the caller's transaction: with a password (POST
// /api/invitations/{token}/accept) or through single sign-on (/api/auth/oidc/login?invitation=…).
// Either way the result is one user — created with the invitation's role, or the existing
// password-less user an admin bound it to — in the invitation's team, and the invitation used.
//
// Who may end up in which account:
// - with a password, the token is the only proof, so it never reaches an account the inviter could
//   not have created: an unbound invitation creates a NEW user and is refused (409) if its email or
//   external id was taken meanwhile; a bound one (admins only, migration 0010) completes that user.
//   An invitation without an email cannot be accepted with a password: the invitee would choose the
//   email that later single sign-ons are matched by.
// - through SSO the provider proves who it is: the identity must carry the invitation's email
//   (verified) and external id when it names them, and is matched to an existing user the usual
//   way (which must then be the bound user, if any).
import type { Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';
import { insertUser, type UserRow } from '../users/users.repository.ts';
import { findUserByIdentity, SignInRefused, type OidcIdentity } from '../auth/oidc-identity.ts';
import { claimInvitation, invitedTeamExists, joinInvitedTeam, setAcceptedUser, usersWithIdentity, type InvitationRow, type InvitationRole } from './invitations.repository.ts';

export interface Acceptance {
  user: UserRow;
  /** the user was created by this acceptance (audited as user.create) */
  created: boolean;
}

export const invalidInvitation = () => new ApiError('invitation_invalid', 'This invitation link is not valid: it is unknown, already used, expired or revoked. Ask for a new one.');

export function isPending(inv: InvitationRow, now: number): boolean {
  return inv.accepted_at === null && inv.revoked_at === null && Date.parse(inv.expires_at) > now;
}

export async function acceptWithPassword(trx: Transaction<Database>, inv: InvitationRow, input: { passwordHash: string; name: string | null }, at: string): Promise<Acceptance> {
  await claimOrRefuse(trx, inv, at);
  let user: UserRow;
  let created = false;
  if (inv.user_id !== null) {
    const bound = await trx.selectFrom('users').selectAll().where('id', '=', inv.user_id).where('org_id', '=', inv.org_id).executeTakeFirst();
    if (!bound) throw invalidInvitation();
    if (bound.status !== 'active') throw new ApiError('forbidden', 'This account is deactivated; an admin must reactivate it.');
    if (bound.password_hash !== null) throw new ApiError('conflict', 'This account already has a password: sign in with it instead.');
    user = await trx
      .updateTable('users')
      .set({ password_hash: input.passwordHash, ...(input.name !== null ? { name: input.name } : {}), updated_at: at })
      .where('id', '=', bound.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  } else {
    if (inv.email === null) throw new ApiError('invalid_request', 'This invitation names no email, so it cannot be accepted with a password: sign in through single sign-on with it (GET /api/auth/oidc/login?invitation=<token>).');
    const identity = { email: inv.email, externalId: inv.external_id ?? inv.email };
    const taken = await usersWithIdentity(trx, inv.org_id, identity);
    if (taken.length > 0) throw new ApiError('conflict', 'A user with this invitation\'s email or external id already exists: sign in, or ask the inviter to add that account to the team.');
    user = await insertUser(trx, inv.org_id, { externalId: identity.externalId, email: inv.email, name: input.name, role: orgRole(inv.role) }, at);
    user = await trx.updateTable('users').set({ password_hash: input.passwordHash }).where('id', '=', user.id).returningAll().executeTakeFirstOrThrow();
    created = true;
  }
  await finish(trx, inv, user, at);
  return { user, created };
}

export async function acceptWithIdentity(trx: Transaction<Database>, inv: InvitationRow, identity: OidcIdentity, at: string): Promise<Acceptance> {
  await claimOrRefuse(trx, inv, at);
  if (inv.email !== null && identity.email !== inv.email.toLowerCase()) {
    throw new SignInRefused('invitation_email_mismatch', 'forbidden', `This invitation is for ${inv.email}; the identity provider did not sign you in with that (verified) email.`);
  }
  if (inv.external_id !== null && identity.externalId !== inv.external_id) {
    throw new SignInRefused('invitation_identity_mismatch', 'forbidden', 'This invitation is for another identity than the one the identity provider signed you in as.');
  }
  let user = await findUserByIdentity(trx, inv.org_id, identity);
  if (inv.user_id !== null && user?.id !== inv.user_id) {
    throw new SignInRefused('invitation_identity_mismatch', 'forbidden', 'This invitation is for another account than the one the identity provider signed you in as.');
  }
  let created = false;
  if (user && user.status !== 'active') throw new SignInRefused('deactivated', 'forbidden', 'This account is deactivated; an admin must reactivate it.', user.id);
  if (!user) {
    user = await insertUser(trx, inv.org_id, { externalId: identity.externalId, email: identity.email, name: identity.name, role: orgRole(inv.role) }, at);
    created = true;
  }
  await finish(trx, inv, user, at);
  return { user, created };
}

/** Claims the invitation (still pending, its team still there) before anything is created. */
async function claimOrRefuse(trx: Transaction<Database>, inv: InvitationRow, at: string): Promise<void> {
  if (!(await claimInvitation(trx, inv.id, at)) || !(await invitedTeamExists(trx, inv))) {
    throw new SignInRefused('invitation_invalid', 'invitation_invalid', invalidInvitation().message);
  }
}

async function finish(trx: Transaction<Database>, inv: InvitationRow, user: UserRow, at: string): Promise<void> {
  await joinInvitedTeam(trx, inv, user.id, at);
  await setAcceptedUser(trx, inv.id, user.id);
}

function orgRole(role: string): InvitationRole {
  return role === 'admin' || role === 'viewer' ? role : 'member';
}
