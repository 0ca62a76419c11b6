// /api/teams: create, list, get (with keys), update, delete (revokes its keys), spend, logs.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { idParam, MAX_COUNT, name, optionalText, pagination, parse } from '../http/validate.ts';
import { requireAdmin } from '../http/admin-auth.ts';
import { applyChange } from '../audit/change.ts';
import { deleteTeam, getTeam, insertTeam, listTeams, teamView, updateTeam } from './teams.repository.ts';
import { keyView, listKeys } from '../keys/keys.repository.ts';
import { spendSummary } from '../usage/spend.repository.ts';
import { listLogs } from '../usage/logs.repository.ts';
import { applyLimits, hasLimitFields, limitFields, policyView } from '../policy/policy-input.ts';
import { getPolicy, savePolicy } from '../policy/policies.repository.ts';
import { EMPTY_POLICY } from '../policy/policy.ts';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lowercase letters, digits and dashes (at most 64)');
const createBody = z.strictObject({
  name,
  slug: slug.optional(),
  description: optionalText,
  // seed 001's names for the team's token limits
  tpm_limit: z.number().int().positive().max(MAX_COUNT).nullable().optional(),
  daily_token_limit: z.number().int().positive().max(MAX_COUNT).nullable().optional(),
  ...limitFields,
});
const updateBody = z.strictObject({ name: name.optional(), slug: slug.optional(), description: optionalText });

export function registerTeamRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  api.post('/teams', async (req, reply) => {
    requireAdmin(req.actor);
    const { tpm_limit, daily_token_limit, ...input } = parse(createBody, req.body);
    const limitsInput = { ...input, tpm: input.tpm ?? tpm_limit, tpd: input.tpd ?? daily_token_limit };
    const policy = hasLimitFields(limitsInput) ? applyLimits(EMPTY_POLICY, limitsInput, 'replace') : EMPTY_POLICY;
    const team = await applyChange(deps, req.actor, async (trx, at) => {
      const row = await insertTeam(trx, req.actor.orgId, input, req.actor.userId ?? 0, at);
      if (policy !== EMPTY_POLICY) await savePolicy(trx, `team:${row.id}`, row.org_id, policy, at);
      return { result: row, audit: [{ orgId: row.org_id, teamId: row.id, action: 'team.create', targetType: 'team', targetId: row.id, after: { ...teamView(row), limits: policyView(policy) } }] };
    });
    // Seed 000's exact shape, plus the limits when some were given (seed 001).
    const limits = policy === EMPTY_POLICY ? {} : { tpm_limit: policy.tpm, daily_token_limit: policy.tpd, limits: policyView(policy) };
    return reply.code(201).send({ ...teamView(team), ...limits });
  });

  api.get('/teams', async (req) => {
    requireAdmin(req.actor);
    const { limit, offset } = parse(pagination, req.query, 'query');
    return { data: (await listTeams(db, req.actor.orgId, limit, offset)).map(teamView), limit, offset };
  });

  api.get<{ Params: { id: string } }>('/teams/:id', async (req) => {
    requireAdmin(req.actor);
    const team = await getTeam(db, req.actor.orgId, idParam(req.params.id, 'team'));
    const keys = await listKeys(db, req.actor.orgId, { teamId: team.id }, 1000, 0);
    const policy = await getPolicy(db, `team:${team.id}`);
    return { ...teamView(team), tpm_limit: policy.tpm, daily_token_limit: policy.tpd, limits: policyView(policy), keys: keys.map(keyView) };
  });

  const update = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    requireAdmin(req.actor);
    const id = idParam(req.params.id, 'team');
    const team = await getTeam(db, req.actor.orgId, id);
    const input = parse(updateBody, req.body);
    const updated = await applyChange(deps, req.actor, async (trx, at) => {
      const row = await updateTeam(trx, team, input, at);
      return { result: row, audit: [{ orgId: row.org_id, teamId: row.id, action: 'team.update', targetType: 'team', targetId: row.id, before: teamView(team), after: teamView(row) }] };
    });
    return teamView(updated);
  };
  api.put<{ Params: { id: string } }>('/teams/:id', (req) => update(req));
  api.patch<{ Params: { id: string } }>('/teams/:id', (req) => update(req));

  api.delete<{ Params: { id: string } }>('/teams/:id', async (req) => {
    requireAdmin(req.actor);
    const team = await getTeam(db, req.actor.orgId, idParam(req.params.id, 'team'));
    const revoked = await applyChange(deps, req.actor, async (trx, at) => {
      const ids = await deleteTeam(trx, team, at);
      return {
        result: ids,
        audit: [{ orgId: team.org_id, teamId: team.id, action: 'team.delete', targetType: 'team', targetId: team.id, before: teamView(team), after: { revoked_key_ids: ids } }],
        invalidate: [{ kind: 'team', teamId: team.id }],
      };
    });
    return { id: team.id, deleted: true, revoked_keys: revoked.length };
  });

  api.get<{ Params: { id: string } }>('/teams/:id/spend', async (req) => {
    requireAdmin(req.actor);
    const team = await getTeam(db, req.actor.orgId, idParam(req.params.id, 'team'));
    await deps.logWriter.flush();
    const s = await spendSummary(db, { teamId: team.id }, deps.clock.now());
    return { team_id: String(team.id), ...s };
  });

  api.get<{ Params: { id: string } }>('/teams/:id/logs', async (req) => {
    requireAdmin(req.actor);
    const team = await getTeam(db, req.actor.orgId, idParam(req.params.id, 'team'));
    const { limit, offset } = parse(pagination, req.query, 'query');
    await deps.logWriter.flush();
    return { data: await listLogs(db, { orgId: req.actor.orgId, teamId: team.id }, limit, offset), limit, offset };
  });
}
