// Key listings: GET /api/keys and GET /api/teams/{id}/keys.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { MAX_INT32, idParam, pagination, parse, queryId } from '../http/validate.ts';
import { requireAdmin } from '../http/admin-auth.ts';
import { getTeam } from '../teams/teams.repository.ts';
import { keyView, listKeys, type KeyView } from './keys.repository.ts';

const listQuery = pagination.extend({
  after: z.coerce.number().int().min(0).max(MAX_INT32).optional(),
  team_id: queryId.optional(),
  user_id: queryId.optional(),
  include_revoked: z.enum(['true', 'false']).optional(),
});

/** A page of keys; `next_after` continues after the last one (keyset pagination). */
function page(data: KeyView[], q: { limit: number; offset: number }) {
  return { data, limit: q.limit, offset: q.offset, next_after: data.length === q.limit ? data.at(-1)!.id : null };
}

export function registerKeyListingRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  api.get<{ Params: { id: string } }>('/teams/:id/keys', async (req) => {
    requireAdmin(req.actor);
    const teamId = idParam(req.params.id, 'team');
    await getTeam(db, req.actor.orgId, teamId);
    const q = parse(listQuery, req.query, 'query');
    const rows = await listKeys(db, req.actor.orgId, { teamId, includeRevoked: q.include_revoked === 'true', ...(q.after !== undefined ? { afterId: q.after } : {}) }, q.limit, q.offset);
    return page(rows.map(keyView), q);
  });
  api.get('/keys', async (req) => {
    requireAdmin(req.actor);
    const q = parse(listQuery, req.query, 'query');
    const filter = { includeRevoked: q.include_revoked === 'true', ...(q.team_id ? { teamId: q.team_id } : {}), ...(q.user_id ? { userId: q.user_id } : {}), ...(q.after !== undefined ? { afterId: q.after } : {}) };
    return page((await listKeys(db, req.actor.orgId, filter, q.limit, q.offset)).map(keyView), q);
  });
}
