// Whose usage a caller may read (usage.read is granted to every caller; the scope narrows it):
// admins and viewers the whole organization; team owners their teams (the teams where they may
// read team logs: auth/permissions.ts) and, like every person, their own keys anywhere; a
// team-scoped management key its team; an org-scoped management key without a role that sees the
// organization, nothing.
import type { Actor } from '../http/actor.ts';
import { teamsFor } from '../auth/permissions.ts';

export type UsageScope = 'all' | { teams: number[]; userId: number | null };

export function usageScope(actor: Actor): UsageScope {
  const teams = teamsFor(actor, 'team.logs.read');
  if (teams === 'all') return 'all';
  if (actor.type === 'admin_key' && actor.userId === null) return { teams: [...(actor.teams?.keys() ?? [])], userId: null };
  return { teams, userId: actor.userId };
}

/** A scope that can see nothing: answered without a query. */
export const seesNothing = (s: UsageScope) => s !== 'all' && s.teams.length === 0 && s.userId === null;
