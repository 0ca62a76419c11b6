// /api/users: create (optionally into a team, seed 001), list, get.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { id, idParam, pagination, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { applyChange } from '../audit/change.ts';
import { findTeam } from '../teams/teams.repository.ts';
import { invalid } from '../http/errors.ts';
import { addMembership, getUser, insertUser, listUsers, userView } from './users.repository.ts';

const createBody = z.strictObject({
  external_id: z.string().trim().min(1, 'must not be empty').max(320),
  name: z.string().max(200).nullish(),
  email: z.email('must be an email address').nullish(),
  role: z.enum(['admin', 'member', 'viewer']).optional(),
  team_id: id.optional(),
  team_role: z.enum(['owner', 'member']).optional(),
});

export function registerUserRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  api.post('/users', { config: { action: 'user.create' } }, async (req, reply) => {
    authorize(req.actor, 'user.create');
    const input = parse(createBody, req.body);
    if (input.team_id !== undefined && !(await findTeam(db, req.actor.orgId, input.team_id))) throw invalid('team_id', `team ${input.team_id} does not exist`);
    const user = await applyChange(deps, req.actor, async (trx, at) => {
      const row = await insertUser(trx, req.actor.orgId, { externalId: input.external_id, name: input.name, email: input.email, role: input.role }, at);
      if (input.team_id !== undefined) await addMembership(trx, input.team_id, row.id, input.team_role ?? 'member', at);
      return { result: row, audit: [{ orgId: req.actor.orgId, teamId: input.team_id ?? null, action: 'user.create', targetType: 'user', targetId: row.id, after: { ...userView(row), team_id: input.team_id ?? null } }] };
    });
    return reply.code(201).send({ ...userView(user), team_id: input.team_id ?? null });
  });
  api.get('/users', { config: { action: 'user.list' } }, async (req) => {
    authorize(req.actor, 'user.list');
    const { limit, offset } = parse(pagination, req.query, 'query');
    return { data: (await listUsers(db, req.actor.orgId, limit, offset)).map(userView), limit, offset };
  });
  api.get<{ Params: { id: string } }>('/users/:id', { config: { action: 'user.read' } }, async (req) => {
    const user = await getUser(db, req.actor.orgId, idParam(req.params.id, 'user'));
    authorize(req.actor, 'user.read', { userId: user.id });
    return userView(user);
  });
}
