// Service accounts: non-login owners for shared services, jobs and automations (seed 002).
// Their keys count against the service account's limits, the team's and the org's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { idParam, name, optionalText, parse } from '../http/validate.ts';
import { authorizedTeam } from './team-access.ts';
import { ApiError } from '../http/errors.ts';
import { applyChange } from '../audit/change.ts';
import { getTeam } from './teams.repository.ts';
import { serviceAccountDeletedDoc, serviceAccountDoc, serviceAccountListDoc } from './teams-doc.ts';

const body = z.strictObject({ name, description: optionalText });

export function registerServiceAccountRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  const view = (r: { id: number; team_id: number; name: string; description: string | null; created_at: string }) => ({ id: r.id, team_id: r.team_id, name: r.name, description: r.description, created_at: r.created_at });

  api.post<{ Params: { id: string } }>('/teams/:id/service-accounts', { config: { action: 'service_account.write', doc: { summary: 'Create a service account (a non-login owner of keys)', tag: 'Service accounts', body: body.meta({ examples: [{ name: 'nightly-evals' }] }), response: serviceAccountDoc, status: 201 } } }, async (req, reply) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'service_account.write');
    const input = parse(body, req.body);
    const sa = await applyChange(deps, req.actor, async (trx, at) => {
      const row = await trx.insertInto('service_accounts').values({ org_id: team.org_id, team_id: team.id, name: input.name, description: input.description ?? null, created_at: at, deleted_at: null }).returningAll().executeTakeFirstOrThrow();
      return { result: row, audit: [{ orgId: team.org_id, teamId: team.id, action: 'service_account.create', targetType: 'service_account', targetId: row.id, after: view(row) }] };
    });
    return reply.code(201).send(view(sa));
  });

  api.get<{ Params: { id: string } }>('/teams/:id/service-accounts', { config: { action: 'service_account.read', doc: { summary: "List a team's service accounts", tag: 'Service accounts', response: serviceAccountListDoc } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'service_account.read');
    const rows = await db.selectFrom('service_accounts').selectAll().where('team_id', '=', team.id).where('deleted_at', 'is', null).orderBy('id').execute();
    return { data: rows.map(view) };
  });

  api.delete('/teams/:id/service-accounts/:saId', { config: { action: 'service_account.write', doc: { summary: 'Delete a service account', tag: 'Service accounts', response: serviceAccountDeletedDoc } } }, async (req: FastifyRequest<{ Params: { id: string; saId: string } }>) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'service_account.write');
    const id = idParam(req.params.saId, 'service account');
    const revoked = await applyChange(deps, req.actor, async (trx, at) => {
      const gone = await trx.updateTable('service_accounts').set({ deleted_at: at }).where('id', '=', id).where('team_id', '=', team.id).where('deleted_at', 'is', null).executeTakeFirst();
      if (Number(gone.numUpdatedRows) === 0) throw new ApiError('not_found', `service account ${id} not found in team ${team.id}`);
      const keys = await trx.updateTable('api_keys').set({ status: 'revoked', revoked_at: at, updated_at: at }).where('service_account_id', '=', id).where('status', '!=', 'revoked').returning('id').execute();
      return {
        result: keys.length,
        audit: [{ orgId: team.org_id, teamId: team.id, action: 'service_account.delete', targetType: 'service_account', targetId: id, after: { revoked_key_ids: keys.map((k) => k.id) } }],
        invalidate: keys.map((k) => ({ kind: 'key' as const, keyId: k.id })),
      };
    });
    return { id, deleted: true, revoked_keys: revoked };
  });
}
