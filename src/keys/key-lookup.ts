// The key an /api route names, looked up inside the caller's organization (and team, for
// /teams/{id}/keys/{keyId}); 404 otherwise. Shared by the key, listing and rotation routes.
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { idParam } from '../http/validate.ts';
import { requireAdmin } from '../http/admin-auth.ts';
import { getTeam } from '../teams/teams.repository.ts';
import { findKey, getTeamKey, type KeyRow } from './keys.repository.ts';

export type TeamKeyReq = FastifyRequest<{ Params: { id: string; keyId: string } }>;
export type KeyReq = FastifyRequest<{ Params: { id: string } }>;

export async function teamKeyOf(deps: Deps, req: TeamKeyReq): Promise<KeyRow> {
  requireAdmin(req.actor);
  const teamId = idParam(req.params.id, 'team');
  await getTeam(deps.db.kysely, req.actor.orgId, teamId);
  return getTeamKey(deps.db.kysely, req.actor.orgId, teamId, idParam(req.params.keyId, 'key'));
}

export async function keyOf(deps: Deps, req: KeyReq): Promise<KeyRow> {
  requireAdmin(req.actor);
  const id = idParam(req.params.id, 'key');
  const key = await findKey(deps.db.kysely, req.actor.orgId, id);
  if (!key) throw new ApiError('not_found', `key ${id} not found`);
  return key;
}
