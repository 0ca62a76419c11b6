// Invitations (docs/people.md, "Invitations"):
//   POST   /api/invitations                  {email?, external_id?, role?, team_id?, team_role?} → 201 + token (once)
//   GET    /api/invitations                  admins: all; team owners: those into their teams
//   DELETE /api/invitations/{id}             revoke
//   POST   /api/invitations/{token}/accept   {password, name?} (public) → 200 signed in
// (or accept through single sign-on: GET /api/auth/oidc/login?invitation=<token>)
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { actorRef, type Actor } from '../http/actor.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { id, idParam, pagination, parse } from '../http/validate.ts';
import { clientIp } from '../net/client-ip.ts';
import { authorize } from '../auth/authorize.ts';
import { decide, teamsFor } from '../auth/permissions.ts';
import { applyChange } from '../audit/change.ts';
import { teamMembersChanged } from '../policy/member-share.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, passwordProblem } from '../auth/passwords.ts';
import { createSession, orgRole, sessionCookie, userAgentOf } from '../auth/sessions.ts';
import { csrfCookie, signedInBody } from '../auth/sign-in-response.ts';
import { findTeam } from '../teams/teams.repository.ts';
import { userView, type UserRow } from '../users/users.repository.ts';
import { acceptWithPassword, invalidInvitation, isPending } from './invitation-accept.ts';
import { invitationCreatedDoc, invitationDoc, invitationListDoc } from './invitations-doc.ts';
import {
  findInvitation, findInvitationByToken, insertInvitation, invitationView, invitedTeamExists, listInvitations, newInvitationToken,
  revokeInvitation, usersWithIdentity,
} from './invitations.repository.ts';

const createBody = z.strictObject({
  email: z.email('must be an email address').max(320).nullish(),
  external_id: z.string().trim().min(1, 'must not be empty').max(320).nullish(),
  role: z.enum(['admin', 'member', 'viewer']).optional(),
  team_id: id.nullish(),
  team_role: z.enum(['owner', 'member']).optional(),
});

const acceptBody = z.strictObject({
  // Checked by passwordProblem (length rules shared with every password); here only its type.
  password: z.string({ error: 'is required' }).max(MAX_PASSWORD_LENGTH + 1),
  name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
});

type CreateInput = z.infer<typeof createBody>;

export function registerInvitationRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  api.post('/invitations', { config: { action: 'invitation.create', doc: { summary: 'Invite a person (the token is in this answer only)', tag: 'Invitations', body: createBody.meta({ examples: [{ email: 'grace@example.com', role: 'member' }] }), response: invitationCreatedDoc, status: 201 } } }, async (req, reply) => {
    // Decided twice: whether the caller may invite at all (admins, owners of a team), before the
    // body is read; then for the team the body names (an owner: only into a team they own).
    authorize(req.actor, 'invitation.create');
    const input = parse(createBody, req.body);
    authorize(req.actor, 'invitation.create', { teamId: input.team_id ?? null });
    const orgWide = decide(req.actor, 'invitation.create', { teamId: null });
    if (!orgWide && (input.role ?? 'member') !== 'member') {
      throw new ApiError('forbidden', 'role: a team owner invites members; only an admin may invite an admin or a viewer.', 'role');
    }
    return reply.code(201).send(await createInvitation(deps, req.actor, input, orgWide));
  });

  api.get('/invitations', { config: { action: 'invitation.list', doc: { summary: 'List invitations', tag: 'Invitations', query: pagination, response: invitationListDoc } } }, async (req) => {
    authorize(req.actor, 'invitation.list');
    const page = parse(pagination, req.query, 'query');
    const now = deps.clock.now();
    const rows = await listInvitations(db, req.actor.orgId, teamsFor(req.actor, 'invitation.list'), page);
    return { data: rows.map((r) => invitationView(r, now)), ...page };
  });

  api.delete<{ Params: { id: string } }>('/invitations/:id', { config: { action: 'invitation.revoke', doc: { summary: 'Revoke an invitation', tag: 'Invitations', response: invitationDoc } } }, async (req) => {
    const inv = await findInvitation(db, req.actor.orgId, idParam(req.params.id, 'invitation'));
    if (!inv) throw new ApiError('not_found', `invitation ${req.params.id} not found`);
    authorize(req.actor, 'invitation.revoke', { teamId: inv.team_id });
    if (inv.accepted_at !== null) throw new ApiError('conflict', `invitation ${inv.id} was already accepted (by user ${inv.accepted_user_id}); deactivate that user instead`);
    if (inv.revoked_at !== null) return invitationView(inv, deps.clock.now());
    const row = await applyChange(deps, req.actor, async (trx, at) => {
      const revoked = await revokeInvitation(trx, inv.id, at);
      return { result: revoked, audit: [{ orgId: inv.org_id, teamId: inv.team_id, action: 'invitation.revoke', targetType: 'invitation', targetId: inv.id, before: invitationView(inv, Date.parse(at)), after: invitationView(revoked, Date.parse(at)) }] };
    });
    return invitationView(row, deps.clock.now());
  });

  api.post<{ Params: { token: string } }>('/invitations/:token/accept', { config: { public: true, doc: { summary: 'Accept an invitation: set a password and sign in', tag: 'Invitations', body: acceptBody } } }, async (req, reply) => {
    // The token first: an unknown, used, expired or revoked one is the same 404, whatever the body.
    const inv = await findInvitationByToken(db, req.params.token);
    if (!inv || !isPending(inv, deps.clock.now()) || !(await invitedTeamExists(db, inv))) throw invalidInvitation();
    const input = parse(acceptBody, req.body);
    const problem = passwordProblem(input.password);
    if (problem) throw invalid('password', problem);
    const passwordHash = await hashPassword(input.password);
    const ip = clientIp(req.raw, deps.config.trustProxy);
    const userAgent = userAgentOf(req.raw);
    // The actor is the person accepting, known once their user exists (filled in inside the change).
    const actor: Actor = { type: 'user', id: null, orgId: inv.org_id, role: 'member', userId: null, superadmin: false, ip, userAgent };
    const { user, session } = await applyChange(deps, actor, async (trx, at) => {
      const accepted = await acceptWithPassword(trx, inv, { passwordHash, name: input.name ?? null }, at);
      const signedIn: UserRow = await trx.updateTable('users').set({ last_login_at: at }).where('id', '=', accepted.user.id).returningAll().executeTakeFirstOrThrow();
      const session = await createSession(trx, deps, signedIn, { method: 'invitation', ip, userAgent }, Date.parse(at));
      Object.assign(actor, { id: String(signedIn.id), userId: signedIn.id, role: orgRole(signedIn.role) });
      const orgId = inv.org_id;
      return {
        result: { user: signedIn, session },
        audit: [
          ...(accepted.created ? [{ orgId, action: 'user.create', targetType: 'user', targetId: signedIn.id, after: { ...userView(signedIn), via: 'invitation' } }] : []),
          { orgId, teamId: inv.team_id, action: 'invitation.accept', targetType: 'invitation', targetId: inv.id, after: { user_id: signedIn.id, method: 'password', team_id: inv.team_id, team_role: inv.team_role } },
          { orgId, action: 'auth.login', targetType: 'user', targetId: signedIn.id, after: { method: 'invitation', session_id: session.id } },
        ],
        invalidate: inv.team_id !== null ? [teamMembersChanged(inv.team_id)] : [],
      };
    });
    return reply.header('cache-control', 'no-store').header('set-cookie', [sessionCookie(deps, req.raw, session.token, session.expiresAt), csrfCookie(deps, req.raw, session.csrfToken, session.expiresAt)]).send(signedInBody(user, session));
  });
}

async function createInvitation(deps: Deps, actor: Actor, input: CreateInput, orgWide: boolean) {
  const email = input.email?.trim().toLowerCase() ?? null;
  const externalId = input.external_id ?? null;
  if (email === null && externalId === null) throw invalid('email', 'an invitation names the invitee: email, external_id, or both');
  if (email === null && !deps.config.people.oidc) {
    throw invalid('email', 'is required: an invitation without an email can only be accepted through single sign-on, which is not configured');
  }
  const teamId = input.team_id ?? null;
  if (input.team_role !== undefined && teamId === null) throw invalid('team_role', 'is only meaningful with team_id');
  if (teamId !== null && !(await findTeam(deps.db.kysely, actor.orgId, teamId))) throw invalid('team_id', `team ${teamId} does not exist`);
  const now = deps.clock.now();
  const token = newInvitationToken();
  const url = deps.config.people.publicUrl ? `${deps.config.people.publicUrl}/ui/invitations/${token}` : null;
  const row = await applyChange(deps, actor, async (trx, at) => {
    const userId = await boundUser(trx, actor.orgId, { email, externalId }, orgWide);
    const inv = await insertInvitation(trx, {
      orgId: actor.orgId, email, externalId, role: input.role ?? 'member', teamId, teamRole: teamId === null ? null : (input.team_role ?? 'member'),
      userId, createdBy: actorRef(actor), expiresAt: new Date(now + deps.config.people.invitationTtlHours * 3_600_000).toISOString(),
    }, token, at);
    return { result: inv, audit: [{ orgId: actor.orgId, teamId, action: 'invitation.create', targetType: 'invitation', targetId: inv.id, after: invitationView(inv, now) }] };
  });
  return { ...invitationView(row, now), token, url };
}

/**
 * The existing user an invitation would reach, if any. Whoever holds the token may set that user's
 * password, so: an account that has one, or is deactivated, is refused (409); a password-less one
 * (made by an admin, or by single sign-on) may be bound only by an admin — a team owner adds
 * existing people with PUT /api/teams/{id}/members/{user_id} instead.
 */
async function boundUser(trx: Parameters<typeof usersWithIdentity>[0], orgId: number, ids: { email: string | null; externalId: string | null }, orgWide: boolean): Promise<number | null> {
  const users = await usersWithIdentity(trx, orgId, ids);
  if (users.length === 0) return null;
  if (users.length > 1) throw new ApiError('conflict', 'email and external_id belong to two different users', 'external_id');
  const user = users[0]!;
  const param = ids.email !== null && user.email?.toLowerCase() === ids.email ? 'email' : 'external_id';
  if (user.status !== 'active') throw new ApiError('conflict', `${param}: user ${user.id} has it and is deactivated; reactivate them instead of inviting`, param);
  if (user.password_hash !== null) throw new ApiError('conflict', `${param}: user ${user.id} already has an account; add them to the team with PUT /api/teams/{id}/members/${user.id}`, param);
  if (!orgWide) throw new ApiError('forbidden', `${param}: user ${user.id} already exists; only an admin may invite an existing user (add them to your team with PUT /api/teams/{id}/members/${user.id})`, param);
  return user.id;
}

