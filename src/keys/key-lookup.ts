// The key an /api route names, looked up inside the caller's organization (and team, for
// /teams/{id}/keys/{keyId}); 404 otherwise; then the route's action is authorized on it (its team
// and its owner: auth/permissions.ts). Shared by the key, listing, access and rotation routes.
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { idParam } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import type { Action } from '../auth/permissions.ts';
import { getTeam } from '../teams/teams.repository.ts';
import { findKey, getTeamKey, type KeyRow } from './keys.repository.ts';

export type TeamKeyReq = FastifyRequest<{ Params: { id: string; keyId: string } }>;
export type KeyReq = FastifyRequest<{ Params: { id: string } }>;

export async function teamKeyOf(deps: Deps, req: TeamKeyReq, action: Action): Promise<KeyRow> {
  const teamId = idParam(req.params.id, 'team');
  await getTeam(deps.db.kysely, req.actor.orgId, teamId);
  const key = await getTeamKey(deps.db.kysely, req.actor.orgId, teamId, idParam(req.params.keyId, 'key'));
  authorize(req.actor, action, { teamId: key.team_id, userId: key.user_id });
  return key;
}

export async function keyOf(deps: Deps, req: KeyReq, action: Action): Promise<KeyRow> {
  const id = idParam(req.params.id, 'key');
  const key = await findKey(deps.db.kysely, req.actor.orgId, id);
  if (!key) throw new ApiError('not_found', `key ${id} not found`);
  authorize(req.actor, action, { teamId: key.team_id, userId: key.user_id });
  return key;
}
