// Seed 001: "a single user cannot exhaust team quota alone (unless they are the only user in the
// team)". A team's policy may carry a member share: each member's token windows (tpm, tpd) are
// capped at that part of the team's limit — 'fair' divides it among the team's active members,
// a number is a fixed fraction. The cap is applied to the MEMBER level's own windows (the same
// counters as a member's own tpm / tpd, the tighter limit wins), so it costs a request nothing
// beyond the windows a member limit already has, and is worked out once per cached set of levels.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Invalidation } from '../cache/invalidator.ts';
import type { LevelPolicy } from './policy.ts';

/**
 * What a change to a team's membership (a member added or removed, a member deactivated or
 * reactivated) publishes: the team's cached policy is reloaded with its new active member count,
 * on every replica. Every writer of memberships and user status returns it from its change.
 */
export function teamMembersChanged(teamId: number): Invalidation {
  return { kind: 'policy', scope: `team:${teamId}` };
}

/** teamMembersChanged for every team a user belongs to (their status changed). */
export async function userTeamsChanged(trx: Transaction<Database>, userId: number): Promise<Invalidation[]> {
  const rows = await trx.selectFrom('memberships').select('team_id').where('user_id', '=', userId).execute();
  return rows.map((r) => teamMembersChanged(r.team_id));
}

/** Active members of each team (deactivated users do not count towards a fair share). */
export async function activeMembers(db: Kysely<Database>, teamIds: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>(teamIds.map((id) => [id, 0]));
  if (teamIds.length === 0) return out;
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.team_id', sql<number>`count(*)`.as('n')])
    .where('m.team_id', 'in', teamIds)
    .where('u.status', '=', 'active')
    .groupBy('m.team_id')
    .execute();
  for (const r of rows) out.set(r.team_id, Number(r.n));
  return out;
}

/** A member's part of a team token limit: never below 1 token (the one formula, for the cap and its note). */
function shareLimit(teamLimit: number, fraction: number): number {
  return Math.max(1, Math.floor(teamLimit * fraction));
}

// The member level with the share applied, per (member level, team level) pair: the same object
// while both stay cached, so the engine's per-levels template and compiled windows stay cached too.
const derived = new WeakMap<LevelPolicy, { team: LevelPolicy; level: LevelPolicy }>();

/**
 * The member level as it applies under its team's share: its tpm / tpd lowered to the share of
 * the team's (never below 1 token), or the member level itself when the team shares nothing.
 */
export function withMemberShare(member: LevelPolicy, team: LevelPolicy): LevelPolicy {
  const share = team.policy.memberShare;
  if (share === null || (team.policy.tpm === null && team.policy.tpd === null)) return member;
  const hit = derived.get(member);
  if (hit && hit.team === team) return hit.level;
  const members = share === 'fair' ? Math.max(1, team.members ?? 1) : undefined;
  const fraction = share === 'fair' ? 1 / members! : share;
  const cap = (own: number | null, teamLimit: number | null) => {
    if (teamLimit === null) return own;
    const mine = shareLimit(teamLimit, fraction);
    return own === null ? mine : Math.min(own, mine);
  };
  const p = member.policy;
  const level: LevelPolicy = {
    ...member,
    policy: { ...p, tpm: cap(p.tpm, team.policy.tpm), tpd: cap(p.tpd, team.policy.tpd) },
    share: { fraction, of: share, members: share === 'fair' ? (team.members ?? 0) : undefined, team: { tpm: team.policy.tpm, tpd: team.policy.tpd } },
  };
  derived.set(member, { team, level });
  return level;
}

export interface ShareNote { of: 'fair' | number; fraction: number; team_limit: number; members: number | null }

/**
 * For a limit message or the explain endpoint: how a member's token window limit was derived,
 * when it is the share (not the member's own, tighter, limit).
 */
export function shareNote(level: LevelPolicy, window: string, limit: number): ShareNote | undefined {
  const s = level.share;
  if (!s || (window !== 'tpm' && window !== 'tpd')) return undefined;
  const teamLimit = s.team[window];
  if (teamLimit === null || shareLimit(teamLimit, s.fraction) !== limit) return undefined;
  return { of: s.of, fraction: s.fraction, team_limit: teamLimit, members: s.members ?? null };
}

/** The sentence a refusal adds about a share. */
export function shareWords(n: ShareNote): string {
  const how = n.of === 'fair' ? `divided fairly among its ${n.members} active member${n.members === 1 ? '' : 's'}` : `${n.fraction} of it`;
  return ` This is this member's share of the team's ${n.team_limit} (${how}); other members keep theirs.`;
}
