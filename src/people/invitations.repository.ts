// Invitations (seed 003: an owner invites by email or external id): a one-time, expiring token that
// creates a user (or completes one an admin bound it to), optionally into a team, and signs them in.
// Only the token's SHA-256 is stored; the token itself is in the create response, once.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, InvitationsTable } from '../db/types.ts';
import type { UserRow } from '../users/users.repository.ts';
import { hashSecret } from '../keys/key-format.ts';

export type InvitationRow = Selectable<InvitationsTable>;
export type InvitationRole = 'admin' | 'member' | 'viewer';
export type InvitationTeamRole = 'owner' | 'member';

/** `tgi_` + 256 random bits: unguessable, so an unknown token needs no throttling of its own. */
export function newInvitationToken(): string {
  return 'tgi_' + randomBytes(32).toString('base64url');
}

export function invitationStatus(inv: InvitationRow, now: number): 'pending' | 'accepted' | 'revoked' | 'expired' {
  if (inv.accepted_at !== null) return 'accepted';
  if (inv.revoked_at !== null) return 'revoked';
  return Date.parse(inv.expires_at) <= now ? 'expired' : 'pending';
}

/** What the API shows of an invitation: never the token (nor its hash). */
export function invitationView(inv: InvitationRow, now: number) {
  return {
    id: inv.id, email: inv.email, external_id: inv.external_id, role: inv.role, team_id: inv.team_id, team_role: inv.team_role,
    user_id: inv.user_id, status: invitationStatus(inv, now), created_by: inv.created_by_actor, created_at: inv.created_at,
    expires_at: inv.expires_at, accepted_at: inv.accepted_at, accepted_user_id: inv.accepted_user_id, revoked_at: inv.revoked_at,
  };
}

export interface NewInvitation {
  orgId: number;
  email: string | null;
  externalId: string | null;
  role: InvitationRole;
  teamId: number | null;
  teamRole: InvitationTeamRole | null;
  userId: number | null;
  createdBy: string;
  expiresAt: string;
}

export async function insertInvitation(trx: Transaction<Database>, input: NewInvitation, token: string, at: string): Promise<InvitationRow> {
  return trx
    .insertInto('invitations')
    .values({
      org_id: input.orgId, token_hash: hashSecret(token), email: input.email, external_id: input.externalId, role: input.role,
      team_id: input.teamId, team_role: input.teamRole, user_id: input.userId, created_by_actor: input.createdBy, created_at: at, expires_at: input.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The invitation a token names, whatever its state (the caller decides; all are the same 404). */
export async function findInvitationByToken(db: Kysely<Database>, token: string): Promise<InvitationRow | undefined> {
  return db.selectFrom('invitations').selectAll().where('token_hash', '=', hashSecret(token)).executeTakeFirst();
}

export async function findInvitation(db: Kysely<Database>, orgId: number, id: number): Promise<InvitationRow | undefined> {
  return db.selectFrom('invitations').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
}

/** Newest first; `teams` limits the listing to invitations into those teams (a team owner's view). */
export async function listInvitations(db: Kysely<Database>, orgId: number, teams: 'all' | number[], page: { limit: number; offset: number }): Promise<InvitationRow[]> {
  if (teams !== 'all' && teams.length === 0) return [];
  let q = db.selectFrom('invitations').selectAll().where('org_id', '=', orgId);
  if (teams !== 'all') q = q.where('team_id', 'in', teams);
  return q.orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute();
}

export async function revokeInvitation(trx: Transaction<Database>, id: number, at: string): Promise<InvitationRow> {
  return trx.updateTable('invitations').set({ revoked_at: at }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/**
 * Marks a pending invitation used, first thing in the accepting transaction. The conditional update
 * makes it single-use under concurrency: it locks the row, so a racing acceptance waits, then finds
 * it no longer pending, updates nothing (false) and rolls back — before it creates anything.
 */
export async function claimInvitation(trx: Transaction<Database>, id: number, at: string): Promise<boolean> {
  const res = await trx
    .updateTable('invitations')
    .set({ accepted_at: at })
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Records who used a claimed invitation (same transaction). */
export async function setAcceptedUser(trx: Transaction<Database>, id: number, userId: number): Promise<void> {
  await trx.updateTable('invitations').set({ accepted_user_id: userId }).where('id', '=', id).execute();
}

/** Users of the organization holding this email (case-insensitive) or external id: 0, 1 or 2 rows. */
export async function usersWithIdentity(db: Kysely<Database>, orgId: number, ids: { email: string | null; externalId: string | null }): Promise<UserRow[]> {
  if (ids.email === null && ids.externalId === null) return [];
  return db
    .selectFrom('users')
    .selectAll()
    .where('org_id', '=', orgId)
    .where((eb) => eb.or([
      ...(ids.email !== null ? [eb(sql<string>`lower(email)`, '=', ids.email.toLowerCase())] : []),
      ...(ids.externalId !== null ? [eb('external_id', '=', ids.externalId)] : []),
    ]))
    .orderBy('id')
    .limit(2)
    .execute();
}

/**
 * Adds the invited user to the invitation's team. An existing membership is only ever raised
 * (member → owner), never lowered: accepting an invitation cannot demote anyone.
 */
export async function joinInvitedTeam(trx: Transaction<Database>, inv: InvitationRow, userId: number, at: string): Promise<void> {
  if (inv.team_id === null) return;
  const role = inv.team_role === 'owner' ? 'owner' : 'member';
  const current = await trx.selectFrom('memberships').select('role').where('team_id', '=', inv.team_id).where('user_id', '=', userId).executeTakeFirst();
  if (!current) {
    await trx.insertInto('memberships').values({ team_id: inv.team_id, user_id: userId, role, created_at: at, updated_at: at }).execute();
  } else if (current.role !== 'owner' && role === 'owner') {
    await trx.updateTable('memberships').set({ role, updated_at: at }).where('team_id', '=', inv.team_id).where('user_id', '=', userId).execute();
  }
}

/** Whether the invitation's team still exists (a deleted team voids its invitations). */
export async function invitedTeamExists(db: Kysely<Database>, inv: InvitationRow): Promise<boolean> {
  if (inv.team_id === null) return true;
  const team = await db.selectFrom('teams').select('id').where('id', '=', inv.team_id).where('deleted_at', 'is', null).executeTakeFirst();
  return team !== undefined;
}
