// The permission table: the single source of who may do what through /api (docs/people.md is
// generated from it, and so is the security suite, test/permissions-security.test.ts).
//
// The master key may do everything; an organization's admins (users with role 'admin', and
// org-scoped management keys with role 'admin') everything inside their organization except the
// master-only actions. For everyone else an action lists who else is granted it:
// - any:        every caller of the organization (any role, any management key)
// - viewer:     the org role 'viewer' (read-only: finance, auditors) — only ever on reads
// - teamOwner:  an owner of the target's team (or a team-scoped management key with role 'owner')
// - teamMember: any member of the target's team (owner or member)
// - self:       the user the target belongs to (their own key, their own membership, themselves)
// Without a target team (a listing, or a create whose team is in the body and not yet read),
// teamOwner / teamMember mean "of at least one team"; the route then narrows what it shows or
// decides again once it knows the team.
import type { Actor } from '../http/actor.ts';

export interface Grant {
  masterOnly?: true;
  any?: true;
  viewer?: true;
  teamOwner?: true;
  teamMember?: true;
  self?: true;
}

/** What an action is performed on: the team it belongs to and the user it belongs to. */
export interface Target {
  /** undefined: not known (coarse decision); null: belongs to no team */
  teamId?: number | null;
  /** the user who owns the target (a key's owner, a membership's user, the user itself) */
  userId?: number | null;
}

const READ = { viewer: true } as const;

export const PERMISSIONS = {
  // organizations (the master key's)
  'org.list': { masterOnly: true },
  'org.create': { masterOnly: true },
  'org.admin_key.create': { masterOnly: true },
  'org.read': { any: true },
  'org.access.read': READ,
  'org.access.write': {},
  'org.limits.read': READ,
  'org.limits.write': {},
  'org.spend.read': READ,
  // teams
  'team.list': { any: true },
  'team.create': {},
  'team.read': { viewer: true, teamMember: true },
  'team.update': {},
  'team.delete': {},
  'team.access.read': { viewer: true, teamMember: true },
  'team.limits.read': { viewer: true, teamMember: true },
  'team.limits.write': {},
  'team.spend.read': { viewer: true, teamMember: true },
  'team.logs.read': { viewer: true, teamOwner: true },
  'team.transactions.read': { viewer: true, teamOwner: true },
  'team.members.read': { viewer: true, teamMember: true },
  'team.members.write': { teamOwner: true },
  'team.self_service.read': { viewer: true, teamMember: true },
  'team.self_service.write': { teamOwner: true },
  'member.limits.read': { viewer: true, teamOwner: true, self: true },
  'member.limits.write': { teamOwner: true },
  'service_account.read': { viewer: true, teamMember: true },
  'service_account.write': { teamOwner: true },
  'service_account.limits.read': { viewer: true, teamOwner: true },
  'service_account.limits.write': { teamOwner: true },
  // keys
  'key.list': { any: true },
  'key.read': { viewer: true, teamOwner: true, self: true },
  'key.create': { teamOwner: true },
  'key.create_self': { teamMember: true },
  'key.update': { teamOwner: true },
  'key.rotate': { teamOwner: true, self: true },
  'key.revoke': { teamOwner: true, self: true },
  'key.limits.read': { viewer: true, teamOwner: true, self: true },
  'key.limits.write': { teamOwner: true },
  // provisioned upstream keys (seed 003: a member's own OpenRouter sub-keys, from their allocation)
  'provisioned_key.create_self': { teamMember: true },
  'provisioned_key.read': { viewer: true, teamOwner: true, self: true },
  'provisioned_key.write': { teamOwner: true, self: true },
  // people
  'user.list': { viewer: true, teamOwner: true },
  'user.read': { viewer: true, teamOwner: true, self: true },
  'user.create': {},
  'user.update': {},
  'user.deactivate': {},
  'invitation.list': { viewer: true, teamOwner: true },
  'invitation.create': { teamOwner: true },
  'invitation.revoke': { teamOwner: true },
  'management_key.list': { viewer: true, teamOwner: true },
  'management_key.create': { teamOwner: true },
  'management_key.update': { teamOwner: true },
  'management_key.revoke': { teamOwner: true },
  'me.read': { any: true },
  'me.update': { any: true },
  // shared configuration
  'provider.read': READ,
  'provider.write': {},
  'access_group.read': { any: true },
  'access_group.write': {},
  'audit.read': { viewer: true, teamOwner: true },
  // walks the organization's whole chain (GET /api/audit/verify): admins
  'audit.verify': {},
  // usage and request logs: every caller, each seeing their own scope (the route narrows it)
  'usage.read': { any: true },
  'logs.read': { any: true },
} as const satisfies Record<string, Grant>;

export type Action = keyof typeof PERMISSIONS;

export function isAction(name: string): name is Action {
  return Object.hasOwn(PERMISSIONS, name);
}

/** The decision, without side effects (authorize() records and throws; listings filter with it). */
export function decide(actor: Actor, action: Action, target?: Target): boolean {
  const grant: Grant = PERMISSIONS[action];
  if (actor.superadmin) return true;
  if (grant.masterOnly) return false;
  if (actor.role === 'admin') return true;
  if (grant.any) return true;
  if (grant.viewer && actor.role === 'viewer') return true;
  if (grant.self && actor.userId !== null && target?.userId != null && target.userId === actor.userId) return true;
  const teams = actor.teams;
  if (!teams || teams.size === 0) return false;
  if (grant.teamOwner) {
    if (target?.teamId === undefined ? [...teams.values()].includes('owner') : target.teamId !== null && teams.get(target.teamId) === 'owner') return true;
  }
  if (grant.teamMember) {
    if (target?.teamId === undefined ? true : target.teamId !== null && teams.has(target.teamId)) return true;
  }
  return false;
}

/** The teams an actor may act on for `action` (listings): 'all', or the ids. */
export function teamsFor(actor: Actor, action: Action): 'all' | number[] {
  if (decide(actor, action, { teamId: null, userId: null })) return 'all';
  const out: number[] = [];
  for (const teamId of actor.teams?.keys() ?? []) if (decide(actor, action, { teamId, userId: null })) out.push(teamId);
  return out;
}
