// The team an /api route names, looked up inside the caller's organization (404 otherwise), with
// the route's action authorized on it (403 otherwise).
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { idParam } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import type { Action } from '../auth/permissions.ts';
import { getTeam, type TeamRow } from './teams.repository.ts';

export async function authorizedTeam(deps: Deps, actor: Actor, rawId: string | undefined, action: Action): Promise<TeamRow> {
  const team = await getTeam(deps.db.kysely, actor.orgId, idParam(rawId, 'team'));
  authorize(actor, action, { teamId: team.id });
  return team;
}
